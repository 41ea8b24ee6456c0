import { useEffect, useId, useImperativeHandle, useRef, useState, type FormEvent, type KeyboardEvent, type Ref } from "react";
import { MAX_MESSAGE_LENGTH, MESSAGE_LENGTH_WARNING } from "../../../shared/actions";
import { insertAt } from "../emoji";
import type { MessageView } from "../../../shared/state";
import { profileName } from "../format";
import { useDispatch } from "../hooks/useDispatch";
import { EmojiPicker } from "./EmojiPicker";

export interface ComposerHandle {
  focus(): void;
}

/** The message being replied to, or our own message being edited. */
export interface ComposerTarget {
  mode: "reply" | "edit";
  message: MessageView;
}

interface ComposerProps {
  ref?: Ref<ComposerHandle>;
  chatId: string;
  target?: ComposerTarget | null;
  onClearTarget?: () => void;
}

const count = new Intl.NumberFormat();

/**
 * Enter sends, Shift+Enter starts a new line. A refused message is put back if nothing was typed since.
 * Text is never cut: near the limit the count shows, past it Send is refused with the reason.
 * With a target it sends a reply, or saves an edit (the field then starts with the message's text);
 * Escape leaves either.
 */
export function Composer({ ref, chatId, target = null, onClearTarget }: ComposerProps) {
  const dispatch = useDispatch();
  const field = useRef<HTMLTextAreaElement>(null);
  useImperativeHandle(ref, () => ({ focus: () => field.current?.focus() }), []);
  const [draft, setDraft] = useState("");
  const editing = target?.mode === "edit" ? target.message : null;
  const replyingTo = target?.mode === "reply" ? target.message : null;
  // An edit starts from the message's text and has its own field value: the draft waits underneath.
  const [edit, setEdit] = useState<{ id: string; text: string } | null>(null);
  const text = editing ? (edit?.id === editing.id ? edit.text : editing.text) : draft;
  const setText = (value: string): void => (editing ? setEdit({ id: editing.id, text: value }) : setDraft(value));
  const [picking, setPicking] = useState(false);
  const lengthId = useId();
  const length = text.trim().length;
  const tooLong = length > MAX_MESSAGE_LENGTH;
  const sendable = text.trim() !== "" && !tooLong;

  useEffect(() => {
    if (target) field.current?.focus();
  }, [target]);

  const clearTarget = (): void => {
    setEdit(null);
    onClearTarget?.();
  };

  const send = async (): Promise<void> => {
    if (!sendable) return;
    const message = text.trim();
    field.current?.focus();
    if (editing) {
      clearTarget();
      const reply = await dispatch({ type: "EditMessage", chat_id: chatId, message_id: editing.id, text: message });
      if (!reply.ok) setDraft((current) => (current === "" ? message : current));
      return;
    }
    setDraft("");
    clearTarget();
    const reply = await dispatch({ type: "SendMessage", chat_id: chatId, text: message, ...(replyingTo ? { reply_to: replyingTo.id } : {}) });
    if (!reply.ok) setDraft((current) => (current === "" ? message : current));
  };

  const onSubmit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void send();
  };

  const pick = (emoji: string): void => {
    const input = field.current;
    const next = insertAt(text, input?.selectionStart ?? text.length, input?.selectionEnd ?? text.length, emoji);
    setText(next.text);
    setPicking(false);
    requestAnimationFrame(() => {
      input?.focus();
      input?.setSelectionRange(next.caret, next.caret);
    });
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (event.key === "Escape" && target) {
      event.preventDefault();
      clearTarget();
      return;
    }
    if (event.key !== "Enter" || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void send();
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      {target && (
        <div className="composer-target" role="group" aria-label={editing ? "Editing a message" : "Replying"}>
          <p className="composer-target-text truncate">
            {editing ? "Editing your message" : `Replying to ${replyingTo?.mine ? "yourself" : profileName(target.message.sender)}: ${target.message.text.slice(0, 120)}`}
          </p>
          <button type="button" className="small-button" onClick={clearTarget}>
            {editing ? "Cancel edit" : "Cancel reply"}
          </button>
        </div>
      )}
      <textarea
        ref={field}
        aria-label="Message"
        className="composer-input"
        placeholder="Write a message"
        rows={1}
        autoFocus
        aria-invalid={tooLong || undefined}
        aria-describedby={length >= MESSAGE_LENGTH_WARNING ? lengthId : undefined}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="button" className="emoji-toggle" aria-label="Emoji" aria-expanded={picking} onClick={() => setPicking((open) => !open)}>
        🙂
      </button>
      {picking && (
        <EmojiPicker
          onPick={pick}
          onClose={() => {
            setPicking(false);
            field.current?.focus();
          }}
        />
      )}
      <button type="submit" className="primary" disabled={!sendable}>
        {editing ? "Save" : "Send"}
      </button>
      {length >= MESSAGE_LENGTH_WARNING && (
        <p id={lengthId} role={tooLong ? "alert" : "status"} aria-label="Message length" className={tooLong ? "composer-length field-error" : "composer-length"}>
          {tooLong
            ? `Too long to send: ${count.format(length)} of at most ${count.format(MAX_MESSAGE_LENGTH)} characters. Shorten it or send it in parts.`
            : `${count.format(length)} / ${count.format(MAX_MESSAGE_LENGTH)} characters`}
        </p>
      )}
    </form>
  );
}
