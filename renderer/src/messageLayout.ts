// How the message list reads: a date line where the day changes, a "new messages" divider above
// the first message unread at opening, and runs of one sender's messages shown under one name.
import type { MessageView } from "../../shared/state.js";

/** Messages of one sender at most this far apart (seconds) belong to one group. */
export const GROUP_GAP_SECONDS = 5 * 60;

export interface MessageRowLayout {
  /** The date line above this message ("Today", "Yesterday", "Monday", "Mar 3"…), when its day differs from the one before. */
  day: string | null;
  /** The "N new messages" divider goes above this message. */
  newDivider: boolean;
  /** Starts a group: the sender's name is shown. Messages that continue one show only their text. */
  groupStart: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const weekday = new Intl.DateTimeFormat(undefined, { weekday: "long" });
const monthDay = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric" });
const monthDayYear = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

/** Local midnight of the day that holds `ms`. */
function dayStart(ms: number): number {
  const date = new Date(ms);
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** The date line for a day: "Today", "Yesterday", the weekday within a week, else the date (with the year when not this year's). */
export function dayLabel(seconds: number, nowMs: number): string {
  const then = dayStart(seconds * 1000);
  // Rounded: a day with a daylight-saving change is 23 or 25 hours long.
  const daysAgo = Math.round((dayStart(nowMs) - then) / DAY_MS);
  if (daysAgo === 0) return "Today";
  if (daysAgo === 1) return "Yesterday";
  if (daysAgo > 1 && daysAgo < 7) return weekday.format(then);
  return new Date(then).getFullYear() === new Date(nowMs).getFullYear() ? monthDay.format(then) : monthDayYear.format(then);
}

/** One layout per message, in the same order (oldest first). */
export function layoutMessages(messages: readonly MessageView[], firstUnreadId: string | null, nowMs: number): MessageRowLayout[] {
  let previous: MessageView | undefined;
  return messages.map((message) => {
    const sameDay = previous !== undefined && dayStart(previous.created_at * 1000) === dayStart(message.created_at * 1000);
    const newDivider = message.id === firstUnreadId;
    const continues =
      previous !== undefined &&
      sameDay &&
      !newDivider &&
      message.kind === "text" &&
      previous.kind === "text" &&
      previous.sender.pubkey === message.sender.pubkey &&
      message.created_at - previous.created_at <= GROUP_GAP_SECONDS;
    previous = message;
    return { day: sameDay ? null : dayLabel(message.created_at, nowMs), newDivider, groupStart: !continues };
  });
}

export function newMessagesText(count: number): string {
  return count === 1 ? "1 new message" : `${count} new messages`;
}
