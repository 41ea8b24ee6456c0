import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useRef, type KeyboardEvent } from "react";
import type { AgentFlowPhase, ChatSummary } from "../../../shared/state";
import { useNow } from "../hooks/useNow";
import { measureShownRow } from "../virtualRows";
import { AgentPlaceholderRow } from "./AgentPlaceholderRow";
import { ChatListItem } from "./ChatListItem";

interface ChatListProps {
  /** Already sorted by the core, newest activity first. */
  chats: ChatSummary[];
  openChatId: string | null;
  /** The running New Agent flow's phase: a placeholder row stands first while it is not null. */
  agentPhase: AgentFlowPhase | null;
  onOpen: (chatId: string) => void;
}

const ROW_ESTIMATE_PX = 64;
const PLACEHOLDER_KEY = "agent-placeholder";

/**
 * Virtualized: only the rows in view exist in the DOM. The virtualizer positions them itself
 * through the CSSOM (`directDomUpdates`), which `style-src 'self'` allows, so no style attribute is rendered.
 * Row 0 is the agent placeholder while a flow runs; chats follow it.
 */
export function ChatList({ chats, openChatId, agentPhase, onOpen }: ChatListProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const now = useNow(30_000);
  const firstChat = agentPhase ? 1 : 0;
  const count = chats.length + firstChat;
  // Stable between pushes: a new one makes the virtualizer recompute every row's key and offset on each scroll frame.
  const getItemKey = useCallback((index: number) => (index < firstChat ? PLACEHOLDER_KEY : (chats[index - firstChat]?.id ?? index)), [chats, firstChat]);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_ESTIMATE_PX,
    getItemKey,
    overscan: 6,
    measureElement: measureShownRow,
    directDomUpdates: true,
  });

  const moveFocus = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const row = (event.target as HTMLElement).closest<HTMLElement>("[data-index]");
    if (!row) return;
    const next = Number(row.dataset["index"]) + (event.key === "ArrowDown" ? 1 : -1);
    if (next < firstChat || next >= count) return;
    event.preventDefault();
    virtualizer.scrollToIndex(next);
    scrollRef.current?.querySelector<HTMLButtonElement>(`[data-index="${next}"] button`)?.focus({ preventScroll: true });
  };

  return (
    <>
      {count === 0 && <p className="empty">No chats yet</p>}
      <div ref={scrollRef} role="list" aria-label="Chats" className="chat-list" onKeyDown={moveFocus}>
        <div ref={virtualizer.containerRef} className="virtual-sizer">
          {virtualizer.getVirtualItems().map((item) => {
            if (agentPhase && item.index === 0) {
              return <AgentPlaceholderRow key={item.key} ref={virtualizer.measureElement} index={0} setSize={count} phase={agentPhase} />;
            }
            const chat = chats[item.index - firstChat];
            if (!chat) return null;
            return (
              <ChatListItem
                key={item.key}
                ref={virtualizer.measureElement}
                index={item.index}
                setSize={count}
                chat={chat}
                selected={chat.id === openChatId}
                now={now}
                onOpen={onOpen}
              />
            );
          })}
        </div>
      </div>
    </>
  );
}
