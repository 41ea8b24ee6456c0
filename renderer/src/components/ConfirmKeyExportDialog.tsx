import { useEffect, useRef } from "react";

interface ConfirmKeyExportDialogProps {
  onCancel: () => void;
  onConfirm: () => void;
}

export function ConfirmKeyExportDialog({ onCancel, onConfirm }: ConfirmKeyExportDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const element = dialog.current;
    element?.showModal();
    return () => element?.close();
  }, []);

  return (
    <dialog
      ref={dialog}
      aria-label="Confirm key export"
      className="dialog"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
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
    </dialog>
  );
}
