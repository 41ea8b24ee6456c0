import { useId, useRef, useState, type Ref } from "react";
import type { MessageView, ReplyQuote } from "../../../shared/state";
import { fullTime, isoTime, messageTime, profileName } from "../format";
import { useDispatch } from "../hooks/useDispatch";
import { ConfirmDialog } from "./ConfirmDialog";
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
  /** Reply to or edit this message in the composer. */
  onCompose: (mode: "reply" | "edit", message: MessageView) => void;
  /** Show the message a reply quotes. */
  onJump: (messageId: string) => void;
  /** The message a quote or a search result was followed to. */
  highlighted?: boolean;
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

function quoteText(quote: ReplyQuote): string {
  if (quote.state === "deleted") return "Message deleted";
  if (quote.state === "not_loaded") return "Original message not loaded";
  return quote.excerpt;
}

function TextMessage({ ref, index, chatId, message, now, canReact, layout, unreadAtOpen, onOpenLink, onCompose, onJump, highlighted }: MessageItemProps) {
  const dispatch = useDispatch();
  const errorId = useId();
  const pickerId = useId();
  const addReaction = useRef<HTMLButtonElement>(null);
  const [pickerOpen, setPickerOpen] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  // A pending or failed message has not reached the others, so there is nothing yet to react to.
  const reactable = canReact && !message.deleted && (message.status === "sent" || message.status === "received");
  // Only our own sent messages change: the others ignore a change from anyone but the author.
  const changeable = canReact && message.mine && !message.deleted && message.status === "sent";
  const closePicker = (): void => {
    setPickerOpen(false);
    addReaction.current?.focus();
  };
  return (
    <div
      ref={ref}
      data-index={index}
      data-message-id={message.id}
      aria-current={highlighted ? "true" : undefined}
      className={`virtual-row message ${message.mine ? "message-mine" : "message-theirs"}${layout.groupStart ? "" : " message-continued"}${highlighted ? " message-highlighted" : ""}`}
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
          {message.edited && <span className="message-edited">edited</span>}
          <CopyMessageButton text={message.text} />
          {reactable && (
            <AddReactionButton ref={addReaction} open={pickerOpen} controls={pickerId} onToggle={() => setPickerOpen((open) => !open)} />
          )}
          {reactable && (
            <button type="button" className="message-action" data-roving="" onClick={() => onCompose("reply", message)}>
              Reply
            </button>
          )}
          {changeable && (
            <button type="button" className="message-action" data-roving="" onClick={() => onCompose("edit", message)}>
              Edit
            </button>
          )}
          {changeable && (
            <button type="button" className="message-action" data-roving="" onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          )}
        </p>
        {message.reply_to && (
          <button
            type="button"
            className={`reply-quote reply-quote-${message.reply_to.state}`}
            data-roving=""
            aria-label={`Show the message this replies to: ${quoteText(message.reply_to)}`}
            onClick={() => message.reply_to && onJump(message.reply_to.id)}
          >
            {message.reply_to.sender && <span className="reply-quote-sender">{profileName(message.reply_to.sender)}</span>}
            <span className="reply-quote-text truncate">{quoteText(message.reply_to)}</span>
          </button>
        )}
        {message.deleted ? <p className="message-text message-deleted">Message deleted</p> : <MessageText text={message.text} onOpenLink={onOpenLink} />}
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
      {confirmDelete && (
        <ConfirmDialog
          title="Delete message?"
          message="It is deleted for everyone in this chat and erased from this device. Apps that do not support deleting may still show it."
          confirmLabel="Delete"
          onCancel={() => setConfirmDelete(false)}
          onConfirm={() => {
            setConfirmDelete(false);
            void dispatch({ type: "DeleteMessage", chat_id: chatId, message_id: message.id });
          }}
        />
      )}
    </div>
  );
}
