import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { MessageView } from "../../../shared/state";
import { profileName } from "../format";
import { useDispatch } from "../hooks/useDispatch";
import { useNow } from "../hooks/useNow";
import { useRovingFocus } from "../hooks/useRovingFocus";
import { layoutMessages } from "../messageLayout";
import { measureShownRow } from "../virtualRows";
import { MessageItem } from "./MessageItem";
import { OpenLinkDialog } from "./OpenLinkDialog";

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
  /** The first message unread when the chat was opened: the "new messages" divider sits above it. */
  firstUnreadId: string | null;
  unreadAtOpen: number;
}

const ROW_ESTIMATE_PX = 72;
/** The loading row above the first message; keep in sync with `.older-row` in styles.css. */
const OLDER_ROW_PX = 44;
/** How close to the top a scroll has to come before older messages are asked for. */
const LOAD_OLDER_MARGIN_PX = 400;
/** Within this distance of the bottom the list counts as "at the bottom" and follows new messages. */
const AT_END_PX = 32;

const distanceFromEnd = (el: HTMLElement): number => el.scrollHeight - el.clientHeight - el.scrollTop;

/**
 * Virtualized, anchored to the end: it opens at the first unread message (else the newest),
 * follows new ones while the reader is at the bottom, and keeps the reader's place when older
 * messages are prepended. Rows are positioned by the virtualizer through the CSSOM
 * (`directDomUpdates`), which `style-src 'self'` allows.
 *
 * Scrolling near the top, or a first page too short to scroll, asks the core for the page before
 * the first message, once per first message. The loading row sits in the list's own padding
 * above the first message, so neither it nor a page arriving moves a message.
 */
export function MessageList({ chatId, messages, hasOlder, loadingOlder, canReact, focusId, onCompose, firstUnreadId, unreadAtOpen }: MessageListProps) {
  const dispatch = useDispatch();
  const now = useNow(60_000);
  const scrollRef = useRef<HTMLDivElement>(null);
  const olderAskedBefore = useRef<string | null>(null);
  const lastSeen = useRef<string | null>(null);
  const atEnd = useRef(true);
  const viewportHeight = useRef(0);
  const [announcement, setAnnouncement] = useState("");
  const [awayFromEnd, setAwayFromEnd] = useState(false);
  /** Messages from others that arrived while the reader was scrolled up. */
  const [arrivedAway, setArrivedAway] = useState(0);
  const [linkToOpen, setLinkToOpen] = useState<string | null>(null);
  const layouts = useMemo(() => layoutMessages(messages, firstUnreadId, now), [messages, firstUnreadId, now]);
  const onRovingKeyDown = useRovingFocus(scrollRef);

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
    if (previous === null) {
      // Opening the chat: at the "new messages" divider, or at the top of a window that does not reach it yet.
      if (firstUnreadId !== null && unreadAtOpen > 0) {
        atEnd.current = false;
        virtualizer.scrollToIndex(Math.max(messages.findIndex((m) => m.id === firstUnreadId), 0), { align: "start" });
      } else {
        virtualizer.scrollToEnd();
      }
    } else if (last.mine) {
      // Our own message: show the newest whatever the reader was doing.
      virtualizer.scrollToEnd();
    } else {
      setAnnouncement(last.kind === "system" ? last.text.slice(0, 200) : `New message from ${profileName(last.sender)}: ${last.text.slice(0, 200)}`);
      if (!atEnd.current) {
        const before = messages.findIndex((m) => m.id === previous);
        setArrivedAway((n) => n + (before === -1 ? 1 : messages.length - 1 - before));
      }
    }
    // Only a new newest message moves the list; the other values are read as they are then.
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
  const nearTop = (): void => {
    if (!hasOlder || loadingOlder || !first || olderAskedBefore.current === first.id) return;
    olderAskedBefore.current = first.id;
    void dispatch({ type: "LoadOlderMessages", chat_id: chatId });
  };

  // A window too short to scroll gets no scroll event: fill it with older pages until it scrolls or the history ends.
  useEffect(() => {
    const el = scrollRef.current;
    if (el && el.clientHeight > 0 && el.scrollHeight <= el.clientHeight) nearTop();
  });

  const jumpToLatest = (): void => {
    virtualizer.scrollToEnd();
    setArrivedAway(0);
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
        onKeyDown={onRovingKeyDown}
        onScroll={(event) => {
          const el = event.currentTarget;
          atEnd.current = distanceFromEnd(el) <= AT_END_PX;
          setAwayFromEnd(!atEnd.current);
          if (atEnd.current) setArrivedAway(0);
          if (el.scrollTop < LOAD_OLDER_MARGIN_PX) nearTop();
        }}
      >
        {messages.length === 0 && <p className="empty message-empty">No messages yet. Say hello!</p>}
        <div ref={virtualizer.containerRef} className="virtual-sizer">
          {hasOlder && loadingOlder && (
            <div className="virtual-row older-row">
              <p role="status" className="busy-status">
                <span className="spinner" aria-hidden="true" />
                Loading older messages…
              </p>
            </div>
          )}
          {virtualizer.getVirtualItems().map((item) => {
            const message = messages[item.index];
            const layout = layouts[item.index];
            if (!message || !layout) return null;
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
                layout={layout}
                unreadAtOpen={unreadAtOpen}
                onOpenLink={setLinkToOpen}
              />
            );
          })}
        </div>
      </div>
      {awayFromEnd && (
        <button type="button" className="jump-latest" onClick={jumpToLatest}>
          Jump to latest{arrivedAway > 0 ? " " : ""}
          {arrivedAway > 0 && <span className="jump-count">{arrivedAway === 1 ? "1 new" : `${arrivedAway} new`}</span>}
        </button>
      )}
      {/* The log is not live: virtualized rows mount while scrolling. New arrivals are announced here instead. */}
      <p role="status" className="visually-hidden">
        {announcement}
      </p>
      {linkToOpen !== null && (
        <OpenLinkDialog
          url={linkToOpen}
          onCancel={() => setLinkToOpen(null)}
          onOpen={() => {
            window.open(linkToOpen, "_blank", "noopener,noreferrer");
            setLinkToOpen(null);
          }}
        />
      )}
    </div>
  );
}
