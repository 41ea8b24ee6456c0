import { useId, type ReactNode } from "react";
import { Dialog } from "./Dialog";

interface ConfirmDialogProps {
  /** The dialog's heading and accessible name. */
  title: string;
  message: string;
  confirmLabel: string;
  onCancel: () => void;
  onConfirm: () => void;
  /** Shown under the message (e.g. a step to take before confirming). */
  children?: ReactNode;
  /** Buttons between Cancel and the confirming one. */
  extraActions?: ReactNode;
}

/** A modal yes/no question about a step that cannot be undone; Cancel has the focus. */
export function ConfirmDialog({ title, message, confirmLabel, onCancel, onConfirm, children, extraActions }: ConfirmDialogProps) {
  const messageId = useId();
  return (
    <Dialog title={title} describedBy={messageId} onCancel={onCancel}>
      <p id={messageId} className="warning">
        {message}
      </p>
      {children}
      <div className="row dialog-actions">
        <button type="button" autoFocus onClick={onCancel}>
          Cancel
        </button>
        {extraActions}
        <button type="button" className="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
