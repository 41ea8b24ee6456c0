interface FormFeedbackProps {
  /** What the form's request is doing ("Creating chat…"), while it runs. */
  busy: string | null;
  /** Why the form's request failed; not shown while it is busy. */
  error: string | null;
}

/** The outcome of a form's own request, under the form: a busy status or its error. */
export function FormFeedback({ busy, error }: FormFeedbackProps) {
  if (busy !== null) {
    return (
      <p role="status" className="busy-status">
        <span className="spinner" aria-hidden="true" />
        {busy}
      </p>
    );
  }
  if (error === null) return null;
  return (
    <p role="alert" className="field-error">
      {error}
    </p>
  );
}
