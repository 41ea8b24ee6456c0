import { Dialog } from "./Dialog";

interface ConfirmKeyExportDialogProps {
  onCancel: () => void;
  onConfirm: () => void;
}

export function ConfirmKeyExportDialog({ onCancel, onConfirm }: ConfirmKeyExportDialogProps) {
  return (
    <Dialog title="Confirm key export" headingHidden onCancel={onCancel}>
      <p className="warning">
        Anyone who sees your private key can read your chats and act as you, and it cannot be changed. Make sure no one
        else can see your screen.
      </p>
      <div className="row">
        <button type="button" autoFocus onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm}>
          Show key
        </button>
      </div>
    </Dialog>
  );
}
