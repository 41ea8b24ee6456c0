// What changed between the state last pushed and the live one: the patch of the next push.
import type { AppState, ChatSummary, StatePatch } from "../../shared/state.js";

/** Deep equality of JSON values (the state holds nothing else). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const key of ka) {
    if (!(key in b) || !jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/**
 * The patch from `pushed` to `live`, null when nothing changed. Changed fields are cloned (the live
 * state is mutated in place), except frozen ones: those (the open chat, each chat summary) are
 * replaced, never changed, so a chat that kept its object is unchanged.
 */
export function diffState(pushed: AppState, live: AppState): StatePatch | null {
  const fields: Record<string, unknown> = {};
  let changed = false;
  for (const key of Object.keys(live) as (keyof AppState)[]) {
    if (key === "chats" || key === "pictures" || jsonEqual(pushed[key], live[key])) continue;
    fields[key] = Object.isFrozen(live[key]) ? live[key] : structuredClone(live[key]);
    changed = true;
  }
  const { put, removed } = diffChats(pushed.chats, live.chats);
  const pictures = diffPictures(pushed.pictures, live.pictures);
  if (!changed && put.length === 0 && removed.length === 0 && pictures === null) return null;
  return { fields: fields as StatePatch["fields"], chats: put, removed_chats: removed, pictures: pictures ?? {} };
}

function diffPictures(pushed: Record<string, string>, live: Record<string, string>): Record<string, string | null> | null {
  if (pushed === live) return null;
  const changed: Record<string, string | null> = {};
  let any = false;
  for (const url of Object.keys(live)) {
    if (pushed[url] === live[url]) continue;
    changed[url] = live[url]!;
    any = true;
  }
  for (const url of Object.keys(pushed)) {
    if (Object.hasOwn(live, url)) continue;
    changed[url] = null;
    any = true;
  }
  return any ? changed : null;
}

function diffChats(pushed: readonly ChatSummary[], live: readonly ChatSummary[]): { put: ChatSummary[]; removed: string[] } {
  if (pushed === live) return { put: [], removed: [] };
  // Most pushes change a few chats in place: the same ids at the same places.
  if (pushed.length === live.length) {
    const put: ChatSummary[] = [];
    let aligned = true;
    for (let i = 0; i < live.length && aligned; i++) {
      const chat = live[i]!;
      if (chat === pushed[i]) continue;
      aligned = chat.id === pushed[i]!.id;
      put.push(chat);
    }
    if (aligned) return { put, removed: [] };
  }
  const before = new Map(pushed.map((chat) => [chat.id, chat]));
  const put = live.filter((chat) => before.get(chat.id) !== chat);
  const ids = new Set(live.map((chat) => chat.id));
  return { put, removed: pushed.filter((chat) => !ids.has(chat.id)).map((chat) => chat.id) };
}
