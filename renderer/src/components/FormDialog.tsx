import type { ReactNode } from "react";
import { Dialog } from "./Dialog";
import { FormFeedback } from "./FormFeedback";

interface FormDialogProps {
  title: string;
  submitLabel: string;
  /** The submit button is disabled otherwise (and Enter does not submit). */
  canSubmit: boolean;
  onSubmit: () => void;
  onCancel: () => void;
  /** What the dialog's request is doing, while it runs. */
  busy: string | null;
  /** Why the dialog's request failed: shown here, not as a toast. */
  error: string | null;
  /** The form's fields. */
  children: ReactNode;
}

/** A modal form: fields, the outcome of its request, Cancel and a submit button. */
export function FormDialog({ title, submitLabel, canSubmit, onSubmit, onCancel, busy, error, children }: FormDialogProps) {
  return (
    <Dialog title={title} className="form-dialog" onCancel={onCancel}>
      <form
        className="dialog-form"
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit();
        }}
        noValidate
      >
        {children}
        <FormFeedback busy={busy} error={error} />
        <div className="row dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!canSubmit}>
            {submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
