import { useId, useRef, useState, type Ref } from "react";
import type { MessageView } from "../../../shared/state";
import { fullTime, isoTime, messageTime, profileName } from "../format";
import { useDispatch } from "../hooks/useDispatch";
import { AddReactionButton, Reactions } from "./Reactions";

interface MessageItemProps {
  ref: Ref<HTMLDivElement>;
  index: number;
  chatId: string;
  message: MessageView;
  now: number;
  /** False in a chat we left: its messages stay readable, nothing can be sent to it. */
  canReact: boolean;
  /** The message opened from a search result. */
  focused?: boolean;
}

export function MessageItem({ ref, index, chatId, message, now, canReact, focused }: MessageItemProps) {
  if (message.kind === "system") {
    return (
      <div ref={ref} data-index={index} className="virtual-row message message-system">
        <p className="system-line" title={fullTime(message.created_at)}>
          {message.text}
        </p>
      </div>
    );
  }
  return <TextMessage ref={ref} index={index} chatId={chatId} message={message} now={now} canReact={canReact} focused={focused} />;
}

function TextMessage({ ref, index, chatId, message, now, canReact, focused }: MessageItemProps) {
  const dispatch = useDispatch();
  const errorId = useId();
  const pickerId = useId();
  const addReaction = useRef<HTMLButtonElement>(null);
  const [pickerOpen, setPickerOpen] = useState(false);
  // A pending or failed message has not reached the others, so there is nothing yet to react to.
  const reactable = canReact && (message.status === "sent" || message.status === "received");
  const closePicker = (): void => {
    setPickerOpen(false);
    addReaction.current?.focus();
  };
  return (
    <div
      ref={ref}
      data-index={index}
      aria-current={focused ? "true" : undefined}
      className={`virtual-row message ${message.mine ? "message-mine" : "message-theirs"}${focused ? " message-focused" : ""}`}
    >
      <div className={`bubble bubble-${message.status}`}>
        <p className="message-meta">
          <span className="message-sender truncate" title={message.mine ? undefined : message.sender.npub}>
            {message.mine ? "You" : profileName(message.sender)}
          </span>
          <time className="message-time" dateTime={isoTime(message.created_at)} title={fullTime(message.created_at)}>
            {messageTime(message.created_at, now)}
          </time>
          {reactable && (
            <AddReactionButton ref={addReaction} open={pickerOpen} controls={pickerId} onToggle={() => setPickerOpen((open) => !open)} />
          )}
        </p>
        <p className="message-text">{message.text}</p>
        <Reactions
          chatId={chatId}
          messageId={message.id}
          reactions={message.reactions}
          canReact={reactable}
          pickerId={pickerId}
          pickerOpen={pickerOpen && reactable}
          onClosePicker={closePicker}
        />
        {message.status === "pending" && <p className="message-status">Sending…</p>}
        {message.status === "sent" && <p className="message-status">Sent</p>}
        {message.status === "failed" && (
          <div className="message-status message-failed">
            <span title={message.error ?? undefined}>Failed</span>
            {message.error && (
              <span id={errorId} className="message-error">
                {message.error}
              </span>
            )}
            <button
              type="button"
              className="link-button"
              title={message.error ?? undefined}
              aria-describedby={message.error ? errorId : undefined}
              onClick={() => void dispatch({ type: "RetryMessage", chat_id: chatId, message_id: message.id })}
            >
              Retry
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
