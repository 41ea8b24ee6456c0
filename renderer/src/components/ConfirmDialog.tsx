import { useId } from "react";
import { useModalDialog } from "../hooks/useModalDialog";

interface ConfirmDialogProps {
  /** The dialog's heading and accessible name. */
  title: string;
  message: string;
  confirmLabel: string;
  onCancel: () => void;
  onConfirm: () => void;
}

/** A modal yes/no question about a step that cannot be undone; Cancel has the focus. */
export function ConfirmDialog({ title, message, confirmLabel, onCancel, onConfirm }: ConfirmDialogProps) {
  const dialog = useModalDialog();
  const headingId = useId();
  const messageId = useId();
  return (
    <dialog
      ref={dialog}
      aria-labelledby={headingId}
      aria-describedby={messageId}
      className="dialog"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <h2 id={headingId} className="dialog-heading">
        {title}
      </h2>
      <p id={messageId} className="warning">
        {message}
      </p>
      <div className="row dialog-actions">
        <button type="button" autoFocus onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
