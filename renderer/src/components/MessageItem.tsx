import { useId, type Ref } from "react";
import type { MessageView } from "../../../shared/state";
import { fullTime, isoTime, messageTime, profileName } from "../format";
import { useDispatch } from "../hooks/useDispatch";

interface MessageItemProps {
  ref: Ref<HTMLDivElement>;
  index: number;
  chatId: string;
  message: MessageView;
  now: number;
}

export function MessageItem({ ref, index, chatId, message, now }: MessageItemProps) {
  const dispatch = useDispatch();
  const errorId = useId();
  return (
    <div ref={ref} data-index={index} className={`message ${message.mine ? "message-mine" : "message-theirs"}`}>
      <div className={`bubble bubble-${message.status}`}>
        <p className="message-meta">
          <span className="message-sender" title={message.mine ? undefined : message.sender.npub}>
            {message.mine ? "You" : profileName(message.sender)}
          </span>
          <time className="message-time" dateTime={isoTime(message.created_at)} title={fullTime(message.created_at)}>
            {messageTime(message.created_at, now)}
          </time>
        </p>
        <p className="message-text">{message.text}</p>
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
