// Lines in a chat about changes of its group ("A added B", "C left"): stored as messages of a kind
// of their own, which no Nostr event we receive has.
import type { Event } from "nostr-tools/core";
import type { AccountContext } from "../state/context.js";

/** Messages of this kind are our own system lines (never a Nostr kind we receive). */
export const SYSTEM_KIND = 1_000;

export interface SystemLineData {
  type: "created" | "added" | "removed" | "renamed" | "left";
  actor?: string;
  targets?: string[];
  name?: string;
}

/** Ids for the second and later system lines of one commit. */
export function systemLineId(eventId: string, index: number): string {
  return (eventId.slice(0, 62) + index.toString(16).padStart(2, "0")).slice(0, 64);
}

/** Stores one line (call inside the transaction that stores the change it tells of). */
export function insertSystemLine(ctx: AccountContext, groupId: string, event: Pick<Event, "id" | "created_at">, line: SystemLineData): void {
  const at = ctx.receivedAt(event.created_at);
  ctx.store.insertMessage({
    id: event.id,
    group_id: groupId,
    sender: line.actor ?? ctx.keys.pubkey,
    kind: SYSTEM_KIND,
    content: JSON.stringify(line),
    tags: [],
    created_at: at,
    status: "received",
  });
  ctx.store.touchGroup(groupId, at);
}

/** The lines of one commit, the first under the commit's own id. */
export function insertSystemLines(ctx: AccountContext, groupId: string, event: Pick<Event, "id" | "created_at">, lines: SystemLineData[]): void {
  lines.forEach((line, index) => insertSystemLine(ctx, groupId, { id: index === 0 ? event.id : systemLineId(event.id, index), created_at: event.created_at }, line));
}

/** Reads a stored line; null for one that cannot be read (shown as stored). */
export function readSystemLine(content: string): SystemLineData | null {
  try {
    return JSON.parse(content) as SystemLineData;
  } catch {
    return null;
  }
}
