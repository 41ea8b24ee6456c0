import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import type { OpenChatState, RequestOutcome } from "../../../shared/state";
import { parsePubkeyInput } from "../../../shared/pubkeys";
import { newRequestId, outcomeOf } from "../groupInput";
import { useDispatch } from "../hooks/useDispatch";

interface NewChatDialogProps {
  creating: boolean;
  openChat: OpenChatState | null;
  outcomes: RequestOutcome[];
  /** `opened` when the core opened the requested chat, as opposed to a cancel. */
  onClose: (opened: boolean) => void;
}

/** What was asked for, to recognise the chat the core opens and the errors that came after. */
interface Request {
  pubkey: string;
  openChatId: string | null;
  requestId: number;
}

/**
 * Stays open until the core opens the requested chat. Its request carries an id, so the core
 * answers it in `outcomes` (no toast) and the error shows here, under the form.
 */
export function NewChatDialog({ creating, openChat, outcomes, onClose }: NewChatDialogProps) {
  const dispatch = useDispatch();
  const dialog = useRef<HTMLDialogElement>(null);
  const headingId = useId();
  const fieldId = useId();
  const errorId = useId();
  const [input, setInput] = useState("");
  const [touched, setTouched] = useState(false);
  const [request, setRequest] = useState<Request | null>(null);

  useEffect(() => {
    const element = dialog.current;
    element?.showModal();
    return () => element?.close();
  }, []);

  useEffect(() => {
    if (!request || !openChat) return;
    const isRequested = openChat.kind === "direct" && openChat.members.some((member) => member.pubkey === request.pubkey);
    if (isRequested || openChat.chat_id !== request.openChatId) onClose(true);
  }, [request, openChat, onClose]);

  const parsed = parsePubkeyInput(input);
  const inputError = touched && !parsed.ok ? parsed.error : null;
  const coreError = outcomeOf(outcomes, request?.requestId)?.error ?? null;

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setTouched(true);
    if (!parsed.ok || creating) return;
    const requestId = newRequestId();
    setRequest({ pubkey: parsed.pubkey, openChatId: openChat?.chat_id ?? null, requestId });
    void dispatch({ type: "CreateChat", peer: parsed.pubkey, request_id: requestId });
  };

  return (
    <dialog
      ref={dialog}
      aria-labelledby={headingId}
      className="dialog new-chat-dialog"
      onCancel={(event) => {
        event.preventDefault();
        onClose(false);
      }}
    >
      <form className="dialog-form" onSubmit={submit} noValidate>
        <h2 id={headingId}>New chat</h2>
        <label htmlFor={fieldId}>Npub or hex public key</label>
        <input
          id={fieldId}
          type="text"
          className="text-input mono"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          placeholder="npub1…"
          value={input}
          onChange={(event) => {
            setInput(event.target.value);
            setTouched(true);
          }}
          aria-invalid={inputError !== null}
          aria-describedby={inputError ? errorId : undefined}
        />
        {inputError && (
          <p id={errorId} role="alert" className="field-error">
            {inputError}
          </p>
        )}
        {creating && (
          <p role="status" className="busy-status">
            <span className="spinner" aria-hidden="true" />
            Creating chat…
          </p>
        )}
        {!creating && coreError && (
          <p role="alert" className="field-error">
            {coreError}
          </p>
        )}
        <div className="row dialog-actions">
          <button type="button" onClick={() => onClose(false)}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!parsed.ok || creating}>
            Start chat
          </button>
        </div>
      </form>
    </dialog>
  );
}
