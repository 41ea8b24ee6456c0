import { useId, type KeyboardEvent, type ReactNode, type Ref } from "react";

/**
 * What a field holds decides its input: `key` (an npub or hex key) and `url` are monospaced and not
 * spell-checked; `secret` is a password input.
 */
export type FieldKind = "text" | "key" | "url" | "secret";

interface FieldProps {
  label: string;
  kind?: FieldKind;
  value: string;
  onChange: (value: string) => void;
  /** Shown under the field as an alert, and marks the input invalid; null while the input is fine. */
  error?: string | null;
  placeholder?: string;
  maxLength?: number;
  autoFocus?: boolean;
  /** A multi-line field (a textarea) of this many rows. */
  rows?: number;
  /** A button acting on the field ("Add relay"), beside the input. */
  action?: ReactNode;
  /** The action goes under the input, at the end: for narrow panels. */
  actionBelow?: boolean;
  inputRef?: Ref<HTMLInputElement>;
  onKeyDown?: (event: KeyboardEvent<HTMLInputElement>) => void;
}

/** A labelled text field with its validation message: the one shape of every form's input. */
export function Field({ label, kind = "text", value, onChange, error = null, placeholder, maxLength, autoFocus, rows, action, actionBelow = false, inputRef, onKeyDown }: FieldProps) {
  const id = useId();
  const errorId = useId();
  const plain = kind === "text";
  const shared = {
    id,
    value,
    placeholder,
    maxLength,
    autoFocus,
    spellCheck: plain ? undefined : false,
    "aria-invalid": error !== null,
    "aria-describedby": error !== null ? errorId : undefined,
  };
  const input =
    rows === undefined ? (
      <input
        {...shared}
        ref={inputRef}
        type={kind === "secret" ? "password" : "text"}
        inputMode={kind === "url" ? "url" : undefined}
        className={kind === "key" || kind === "url" ? "text-input mono" : "text-input"}
        autoComplete="off"
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
      />
    ) : (
      <textarea {...shared} rows={rows} className="text-input multiline-input" onChange={(event) => onChange(event.target.value)} />
    );
  return (
    <>
      <label htmlFor={id}>{label}</label>
      {action ? (
        <div className={actionBelow ? "row field-row field-row-below" : "row field-row"}>
          {input}
          {action}
        </div>
      ) : (
        input
      )}
      {error !== null && (
        <p id={errorId} role="alert" className="field-error">
          {error}
        </p>
      )}
    </>
  );
}
