import { useId, useImperativeHandle, useRef, useState, type FormEvent, type KeyboardEvent, type Ref } from "react";
import { MAX_MESSAGE_LENGTH, MESSAGE_LENGTH_WARNING } from "../../../shared/actions";
import { insertAt } from "../emoji";
import { useDispatch } from "../hooks/useDispatch";
import { EmojiPicker } from "./EmojiPicker";

export interface ComposerHandle {
  focus(): void;
}

interface ComposerProps {
  ref?: Ref<ComposerHandle>;
  chatId: string;
}

const count = new Intl.NumberFormat();

/**
 * Enter sends, Shift+Enter starts a new line. A refused message is put back if nothing was typed since.
 * Text is never cut: near the limit the count shows, past it Send is refused with the reason.
 */
export function Composer({ ref, chatId }: ComposerProps) {
  const dispatch = useDispatch();
  const field = useRef<HTMLTextAreaElement>(null);
  useImperativeHandle(ref, () => ({ focus: () => field.current?.focus() }), []);
  const [text, setText] = useState("");
  const [picking, setPicking] = useState(false);
  const lengthId = useId();
  const length = text.trim().length;
  const tooLong = length > MAX_MESSAGE_LENGTH;
  const sendable = text.trim() !== "" && !tooLong;

  const send = async (): Promise<void> => {
    if (!sendable) return;
    const message = text.trim();
    setText("");
    field.current?.focus();
    const reply = await dispatch({ type: "SendMessage", chat_id: chatId, text: message });
    if (!reply.ok) setText((current) => (current === "" ? message : current));
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
    if (event.key !== "Enter" || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void send();
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
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
        Send
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
