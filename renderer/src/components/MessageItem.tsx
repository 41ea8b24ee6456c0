import { useId, useRef, useState, type Ref } from "react";
import type { MessageView } from "../../../shared/state";
import { fullTime, isoTime, messageTime, profileName } from "../format";
import { useDispatch } from "../hooks/useDispatch";
import type { MessageRowLayout } from "../messageLayout";
import { CopyMessageButton } from "./CopyMessageButton";
import { MessageRowHeading } from "./MessageRowHeading";
import { MessageText } from "./MessageText";
import { AddReactionButton, Reactions } from "./Reactions";

interface MessageItemProps {
  ref: Ref<HTMLDivElement>;
  index: number;
  chatId: string;
  message: MessageView;
  now: number;
  /** False in a chat we left: its messages stay readable, nothing can be sent to it. */
  canReact: boolean;
  layout: MessageRowLayout;
  unreadAtOpen: number;
  onOpenLink: (url: string) => void;
}

export function MessageItem(props: MessageItemProps) {
  const { ref, index, message, layout, unreadAtOpen } = props;
  if (message.kind === "system") {
    return (
      <div ref={ref} data-index={index} className="virtual-row message message-system">
        <MessageRowHeading layout={layout} unreadAtOpen={unreadAtOpen} />
        <p className="system-line" title={fullTime(message.created_at)}>
          {message.text}
        </p>
      </div>
    );
  }
  return <TextMessage {...props} />;
}

function TextMessage({ ref, index, chatId, message, now, canReact, layout, unreadAtOpen, onOpenLink }: MessageItemProps) {
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
      className={`virtual-row message ${message.mine ? "message-mine" : "message-theirs"}${layout.groupStart ? "" : " message-continued"}`}
    >
      <MessageRowHeading layout={layout} unreadAtOpen={unreadAtOpen} />
      <div className={`bubble bubble-${message.status}`}>
        <p className="message-meta">
          {/* A message that continues its sender's group shows the name to screen readers only. */}
          <span className={layout.groupStart ? "message-sender truncate" : "visually-hidden"} title={message.mine ? undefined : message.sender.npub}>
            {message.mine ? "You" : profileName(message.sender)}
          </span>
          <time className="message-time" dateTime={isoTime(message.created_at)} title={fullTime(message.created_at)}>
            {messageTime(message.created_at, now)}
          </time>
          <CopyMessageButton text={message.text} />
          {reactable && (
            <AddReactionButton ref={addReaction} open={pickerOpen} controls={pickerId} onToggle={() => setPickerOpen((open) => !open)} />
          )}
        </p>
        <MessageText text={message.text} onOpenLink={onOpenLink} />
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
        {message.status === "sent" && (
          <p className="message-status" title="A relay accepted this message">
            Sent
          </p>
        )}
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
