import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import type { MessageView } from "../../../shared/state";
import { profileName } from "../format";
import { useDispatch } from "../hooks/useDispatch";
import { useNow } from "../hooks/useNow";
import { measureShownRow } from "../virtualRows";
import { MessageItem } from "./MessageItem";

interface MessageListProps {
  chatId: string;
  /** Oldest first. */
  messages: MessageView[];
  hasOlder: boolean;
  loadingOlder: boolean;
  /** False in a chat we left. */
  canReact: boolean;
  /** The message FocusMessage brought into the window (open_chat.focus_message_id). */
  focusId: string | null;
  onCompose: (mode: "reply" | "edit", message: MessageView) => void;
}

const ROW_ESTIMATE_PX = 72;
/** The older-messages row above the first message; keep in sync with `.older-row` in styles.css. */
const OLDER_ROW_PX = 44;
/** How close to the top a scroll has to come before older messages are asked for. */
const LOAD_OLDER_MARGIN_PX = 400;
/** Within this distance of the bottom the list counts as "at the bottom" and follows new messages. */
const AT_END_PX = 32;

/**
 * Virtualized, anchored to the end: it opens at the newest message, follows new ones while the
 * reader is at the bottom, and keeps the reader's place when older messages are prepended. Rows
 * are positioned by the virtualizer through the CSSOM (`directDomUpdates`), which `style-src 'self'` allows.
 *
 * Scrolling near the top asks the core for the page before the first message, once per first
 * message. The older-messages row sits in the list's own padding above the first message, so
 * swapping its button for the loading status, or a page arriving, moves no message.
 */
export function MessageList({ chatId, messages, hasOlder, loadingOlder, canReact, focusId, onCompose }: MessageListProps) {
  const dispatch = useDispatch();
  const now = useNow(60_000);
  const scrollRef = useRef<HTMLDivElement>(null);
  const olderAskedBefore = useRef<string | null>(null);
  const lastSeen = useRef<string | null>(null);
  const atEnd = useRef(true);
  const viewportHeight = useRef(0);
  const [announcement, setAnnouncement] = useState("");

  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_ESTIMATE_PX,
    getItemKey: (index) => messages[index]?.id ?? index,
    overscan: 8,
    paddingStart: hasOlder ? OLDER_ROW_PX : 0,
    anchorTo: "end",
    followOnAppend: true,
    scrollEndThreshold: AT_END_PX,
    measureElement: measureShownRow,
    directDomUpdates: true,
    // The list shrinks when the composer grows or the window gets shorter; a reader at the bottom stays there.
    onChange: (instance) => {
      const height = instance.scrollRect?.height ?? 0;
      if (height === viewportHeight.current) return;
      viewportHeight.current = height;
      if (atEnd.current) instance.scrollToEnd();
    },
  });

  const last = messages.at(-1);
  useLayoutEffect(() => {
    const previous = lastSeen.current;
    lastSeen.current = last?.id ?? null;
    if (!last || last.id === previous) return;
    if (previous === null || last.mine) {
      // Opening the chat, or our own message: show the newest whatever the reader was doing.
      virtualizer.scrollToEnd();
    } else {
      setAnnouncement(last.kind === "system" ? last.text.slice(0, 200) : `New message from ${profileName(last.sender)}: ${last.text.slice(0, 200)}`);
    }
  }, [last, virtualizer]);

  // A quoted message: shown at once when in the window, else the core grows the window to it.
  const [highlighted, setHighlighted] = useState<string | null>(null);
  const jumpTo = (messageId: string): void => {
    const index = messages.findIndex((m) => m.id === messageId);
    if (index < 0) {
      void dispatch({ type: "FocusMessage", chat_id: chatId, message_id: messageId });
      return;
    }
    atEnd.current = false;
    virtualizer.scrollToIndex(index, { align: "center" });
    setHighlighted(messageId);
  };
  const focusIndex = focusId ? messages.findIndex((m) => m.id === focusId) : -1;
  // Once per focused message: later pages or arrivals move its index, not the reader.
  const focusShown = useRef<string | null>(null);
  useEffect(() => {
    if (focusIndex < 0 || !focusId || focusShown.current === focusId) return;
    focusShown.current = focusId;
    atEnd.current = false;
    virtualizer.scrollToIndex(focusIndex, { align: "center" });
    setHighlighted(focusId);
  }, [focusId, focusIndex, virtualizer]);

  const first = messages[0];
  const askForOlder = (): void => {
    if (!hasOlder || loadingOlder || !first) return;
    olderAskedBefore.current = first.id;
    void dispatch({ type: "LoadOlderMessages", chat_id: chatId });
  };
  const nearTop = (): void => {
    if (first && olderAskedBefore.current !== first.id) askForOlder();
  };

  return (
    <div className="message-pane">
      <div
        ref={scrollRef}
        role="log"
        aria-label="Messages"
        aria-live="off"
        tabIndex={0}
        className="message-list"
        onScroll={(event) => {
          const { scrollTop, scrollHeight, clientHeight } = event.currentTarget;
          atEnd.current = scrollHeight - clientHeight - scrollTop <= AT_END_PX;
          if (scrollTop < LOAD_OLDER_MARGIN_PX) nearTop();
        }}
      >
        {messages.length === 0 && <p className="empty message-empty">No messages yet. Say hello!</p>}
        <div ref={virtualizer.containerRef} className="virtual-sizer">
          {hasOlder && (
            <div className="virtual-row older-row">
              {loadingOlder ? (
                <p role="status" className="busy-status">
                  <span className="spinner" aria-hidden="true" />
                  Loading older messages…
                </p>
              ) : (
                <button
                  type="button"
                  className="small-button"
                  onClick={() => {
                    // The button gives way to the loading status: the reader keeps the focus in the list.
                    scrollRef.current?.focus({ preventScroll: true });
                    askForOlder();
                  }}
                >
                  Load older messages
                </button>
              )}
            </div>
          )}
          {virtualizer.getVirtualItems().map((item) => {
            const message = messages[item.index];
            if (!message) return null;
            return (
              <MessageItem
                key={item.key}
                ref={virtualizer.measureElement}
                index={item.index}
                chatId={chatId}
                message={message}
                now={now}
                canReact={canReact}
                highlighted={message.id === highlighted}
                onCompose={onCompose}
                onJump={jumpTo}
              />
            );
          })}
        </div>
      </div>
      {/* The log is not live: virtualized rows mount while scrolling. New arrivals are announced here instead. */}
      <p role="status" className="visually-hidden">
        {announcement}
      </p>
    </div>
  );
}
