import { useId } from "react";
import { Dialog } from "./Dialog";

/** Shows the full address of a link from a message before it opens outside the app. */
export function OpenLinkDialog({ url, onCancel, onOpen }: { url: string; onCancel: () => void; onOpen: () => void }) {
  const messageId = useId();
  return (
    <Dialog title="Open link?" describedBy={messageId} onCancel={onCancel}>
      <p id={messageId} className="warning">
        This link opens in your browser:
        <span className="link-url mono">{url}</span>
      </p>
      <div className="row dialog-actions">
        <button type="button" autoFocus onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={onOpen}>
          Open link
        </button>
      </div>
    </Dialog>
  );
}
