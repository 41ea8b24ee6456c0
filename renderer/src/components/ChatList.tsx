import { useVirtualizer } from "@tanstack/react-virtual";
import { useRef, type KeyboardEvent } from "react";
import type { ChatSummary } from "../../../shared/state";
import { useNow } from "../hooks/useNow";
import { measureShownRow } from "../virtualRows";
import { ChatListItem } from "./ChatListItem";

interface ChatListProps {
  /** Already sorted by the core, newest activity first. */
  chats: ChatSummary[];
  openChatId: string | null;
  onOpen: (chatId: string) => void;
}

const ROW_ESTIMATE_PX = 64;

/**
 * Virtualized: only the rows in view exist in the DOM. The virtualizer positions them itself
 * through the CSSOM (`directDomUpdates`), which `style-src 'self'` allows, so no style attribute is rendered.
 */
export function ChatList({ chats, openChatId, onOpen }: ChatListProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const now = useNow(30_000);
  const virtualizer = useVirtualizer({
    count: chats.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_ESTIMATE_PX,
    getItemKey: (index) => chats[index]?.id ?? index,
    overscan: 6,
    measureElement: measureShownRow,
    directDomUpdates: true,
  });

  const moveFocus = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const row = (event.target as HTMLElement).closest<HTMLElement>("[data-index]");
    if (!row) return;
    const next = Number(row.dataset["index"]) + (event.key === "ArrowDown" ? 1 : -1);
    if (next < 0 || next >= chats.length) return;
    event.preventDefault();
    virtualizer.scrollToIndex(next);
    scrollRef.current?.querySelector<HTMLButtonElement>(`[data-index="${next}"] button`)?.focus({ preventScroll: true });
  };

  return (
    <>
      {chats.length === 0 && <p className="empty">No chats yet</p>}
      <div ref={scrollRef} role="list" aria-label="Chats" className="chat-list" onKeyDown={moveFocus}>
        <div ref={virtualizer.containerRef} className="virtual-sizer">
          {virtualizer.getVirtualItems().map((item) => {
            const chat = chats[item.index];
            if (!chat) return null;
            return (
              <ChatListItem
                key={item.key}
                ref={virtualizer.measureElement}
                index={item.index}
                setSize={chats.length}
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
