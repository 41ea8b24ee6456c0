import { memo, useId, type Ref } from "react";
import type { ChatSummary } from "../../../shared/state";
import { chatTitle, fullTime, isoTime, relativeTime } from "../format";
import { sameRowProps } from "../virtualRows";
import { AgentBadge } from "./AgentBadge";
import { Avatar } from "./Avatar";
import { MutedIcon } from "./MutedIcon";

interface ChatListItemProps {
  ref: Ref<HTMLDivElement>;
  index: number;
  setSize: number;
  chat: ChatSummary;
  selected: boolean;
  now: number;
  onOpen: (chatId: string) => void;
}

/**
 * One row of the virtualized chat list; the button is named by the title and described by the rest.
 * A row whose chat did not change renders again neither on a push nor on a scroll.
 */
export const ChatListItem = memo(function ChatListItem({ ref, index, setSize, chat, selected, now, onOpen }: ChatListItemProps) {
  const titleId = useId();
  const agentId = useId();
  const lastId = useId();
  const timeId = useId();
  const unreadId = useId();
  const leftId = useId();
  const mutedId = useId();
  const at = chat.last_message_at ?? chat.updated_at;
  const describedBy = [chat.agent ? agentId : null, chat.left ? leftId : null, chat.muted ? mutedId : null, lastId, timeId, chat.unread > 0 ? unreadId : null]
    .filter(Boolean)
    .join(" ");
  return (
    <div ref={ref} role="listitem" data-index={index} aria-setsize={setSize} aria-posinset={index + 1} className={chat.left ? "virtual-row chat chat-left" : "virtual-row chat"}>
      <button
        type="button"
        className="chat-row chat-button with-avatar"
        aria-current={selected ? "true" : undefined}
        aria-labelledby={titleId}
        aria-describedby={describedBy}
        onClick={() => onOpen(chat.id)}
      >
        <span className="chat-avatar">
          <Avatar profile={chat.peer ?? { pubkey: chat.id, npub: "", name: chatTitle(chat), picture: null }} size={36} decorative />
        </span>
        <span className="chat-title-line">
          <span id={titleId} className="chat-title truncate">
            {chatTitle(chat)}
          </span>
          {chat.agent && <AgentBadge id={agentId} agent={chat.agent} />}
          {chat.left && (
            <span id={leftId} className="chat-left-mark">
              (left)
            </span>
          )}
          {chat.muted && <MutedIcon id={mutedId} />}
        </span>
        <time id={timeId} className="chat-time" dateTime={isoTime(at)} title={fullTime(at)}>
          {relativeTime(at, now)}
        </time>
        <span id={lastId} className="chat-last truncate">
          {chat.last_message ?? "No messages yet"}
        </span>
        {chat.unread > 0 && (
          <span id={unreadId} className="badge">
            {chat.unread}
            <span className="visually-hidden"> unread</span>
          </span>
        )}
      </button>
    </div>
  );
}, sameRowProps);
