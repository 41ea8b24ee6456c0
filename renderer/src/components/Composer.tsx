import { useImperativeHandle, useRef, useState, type FormEvent, type KeyboardEvent, type Ref } from "react";
import { MAX_MESSAGE_LENGTH } from "../../../shared/actions";
import { useDispatch } from "../hooks/useDispatch";

export interface ComposerHandle {
  focus(): void;
}

interface ComposerProps {
  ref?: Ref<ComposerHandle>;
  chatId: string;
}

/** Enter sends, Shift+Enter starts a new line. A refused message is put back if nothing was typed since. */
export function Composer({ ref, chatId }: ComposerProps) {
  const dispatch = useDispatch();
  const field = useRef<HTMLTextAreaElement>(null);
  useImperativeHandle(ref, () => ({ focus: () => field.current?.focus() }), []);
  const [text, setText] = useState("");
  const sendable = text.trim() !== "";

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
        maxLength={MAX_MESSAGE_LENGTH}
        autoFocus
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="submit" className="primary" disabled={!sendable}>
        Send
      </button>
    </form>
  );
}
