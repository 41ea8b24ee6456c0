// How identities and times are shown. State carries unix seconds; "now" comes from the caller.
import { shortNpub } from "../../shared/pubkeys.js";
import type { ChatSummary, OpenChatState, ProfileView } from "../../shared/state.js";

export function profileName(profile: ProfileView): string {
  return profile.name?.trim() || shortNpub(profile.npub);
}

/** The core names chats; a blank title falls back to the people in it. */
export function chatTitle(chat: ChatSummary): string {
  return chat.title.trim() || (chat.peer ? profileName(chat.peer) : "Untitled chat");
}

/** `me`: our own pubkey, left out of a title made of the members' names. */
export function openChatTitle(chat: OpenChatState, me?: string): string {
  return chat.title.trim() || chat.members.filter((member) => member.pubkey !== me).map(profileName).join(", ") || "Untitled chat";
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const weekday = new Intl.DateTimeFormat(undefined, { weekday: "short" });
const monthDay = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const monthDayYear = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const clock = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

const date = (seconds: number): Date => new Date(seconds * 1000);

/** Compact age for the chat list: "now", "5 min", "3 h", "Mon", "Mar 3", "Mar 3, 2023". */
export function relativeTime(seconds: number, nowMs: number): string {
  const age = nowMs / 1000 - seconds;
  if (age < MINUTE) return "now";
  if (age < HOUR) return `${Math.floor(age / MINUTE)} min`;
  if (age < DAY) return `${Math.floor(age / HOUR)} h`;
  if (age < 6 * DAY) return weekday.format(date(seconds));
  const then = date(seconds);
  return then.getFullYear() === new Date(nowMs).getFullYear() ? monthDay.format(then) : monthDayYear.format(then);
}

/** A message's time: the clock time today, with the date before it otherwise. */
export function messageTime(seconds: number, nowMs: number): string {
  const then = date(seconds);
  if (then.toDateString() === new Date(nowMs).toDateString()) return clock.format(then);
  const day = then.getFullYear() === new Date(nowMs).getFullYear() ? monthDay.format(then) : monthDayYear.format(then);
  return `${day}, ${clock.format(then)}`;
}

/** For tooltips and the `dateTime` attribute. */
export function fullTime(seconds: number): string {
  return full.format(date(seconds));
}

export function isoTime(seconds: number): string {
  return date(seconds).toISOString();
}
