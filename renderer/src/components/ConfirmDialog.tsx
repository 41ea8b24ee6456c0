import { useId, type ReactNode } from "react";
import { useModalDialog } from "../hooks/useModalDialog";

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
    </dialog>
  );
}
