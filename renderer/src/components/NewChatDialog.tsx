import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import type { OpenChatState, Toast } from "../../../shared/state";
import { parsePubkeyInput } from "../../../shared/pubkeys";
import { useDispatch } from "../hooks/useDispatch";

interface NewChatDialogProps {
  creating: boolean;
  openChat: OpenChatState | null;
  toasts: Toast[];
  /** `opened` when the core opened the requested chat, as opposed to a cancel. */
  onClose: (opened: boolean) => void;
}

/** What was asked for, to recognise the chat the core opens and the errors that came after. */
interface Request {
  pubkey: string;
  openChatId: string | null;
  lastToastId: number;
}

const lastToastId = (toasts: Toast[]): number => toasts.reduce((max, toast) => Math.max(max, toast.id), 0);

/**
 * Stays open until the core opens the requested chat. The page behind a modal dialog is inert,
 * so the core's error toasts that arrive after submitting are repeated here.
 */
export function NewChatDialog({ creating, openChat, toasts, onClose }: NewChatDialogProps) {
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
  const coreError = request ? toasts.filter((toast) => toast.kind === "error" && toast.id > request.lastToastId).at(-1) : undefined;

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setTouched(true);
    if (!parsed.ok || creating) return;
    setRequest({ pubkey: parsed.pubkey, openChatId: openChat?.chat_id ?? null, lastToastId: lastToastId(toasts) });
    void dispatch({ type: "CreateChat", peer: parsed.pubkey });
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
            {coreError.message}
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
