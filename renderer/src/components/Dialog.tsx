import { useId, type ReactNode } from "react";
import { useModalDialog } from "../hooks/useModalDialog";

interface DialogProps {
  /** The dialog's accessible name, shown as its heading unless `headingHidden`. */
  title: string;
  /** For a dialog whose message says what it is about: named, with no heading shown. */
  headingHidden?: boolean;
  /** The id of the element that describes the dialog (its message). */
  describedBy?: string;
  className?: string;
  /** Escape, like the dialog's Cancel button: the owner decides when the dialog goes. */
  onCancel: () => void;
  children: ReactNode;
}

/** A modal dialog, open while mounted: the page behind it is inert. */
export function Dialog({ title, headingHidden = false, describedBy, className, onCancel, children }: DialogProps) {
  const dialog = useModalDialog();
  const headingId = useId();
  return (
    <dialog
      ref={dialog}
      aria-labelledby={headingHidden ? undefined : headingId}
      aria-label={headingHidden ? title : undefined}
      aria-describedby={describedBy}
      className={className ? `dialog ${className}` : "dialog"}
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      {!headingHidden && (
        <h2 id={headingId} className="dialog-heading">
          {title}
        </h2>
      )}
      {children}
    </dialog>
  );
}
