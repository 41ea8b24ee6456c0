import type { ChatSummary } from "../../shared/state.js";

/** "(3) Burrow" while messages are unread in chats that are not muted; "Burrow" otherwise. */
export function windowTitle(chats: readonly ChatSummary[]): string {
  const unread = chats.reduce((sum, chat) => sum + (chat.muted ? 0 : chat.unread), 0);
  return unread > 0 ? `(${unread}) Burrow` : "Burrow";
}
