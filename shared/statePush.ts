// Folding pushes into whole states, the same for every receiver: renderers, the CLI, the agent bot,
// tests. Unchanged parts keep their identity, so a renderer re-renders only what a patch replaced.
import { compareChats, type AppState, type ChatSummary, type StatePatch, type StatePush, type StateSnapshot } from "./state.js";

/** Up to this many chats put (and none removed), each is moved into place; more, and the list is sorted again. */
const FEW_CHATS = 16;

/**
 * The chat list (in `compareChats` order) with `put` replacing or adding chats by id and `removed`
 * dropped; the same array when nothing changed.
 */
export function mergeChats(chats: readonly ChatSummary[], put: readonly ChatSummary[], removed: readonly string[]): ChatSummary[] {
  if (put.length === 0 && removed.length === 0) return chats as ChatSummary[];
  if (removed.length === 0 && put.length <= FEW_CHATS) {
    const next = chats.slice();
    for (const chat of put) {
      const at = next.findIndex((c) => c.id === chat.id);
      if (at >= 0) next.splice(at, 1);
      next.splice(placeOf(next, chat), 0, chat);
    }
    return next;
  }
  const replacing = new Map(put.map((chat) => [chat.id, chat]));
  const gone = new Set(removed);
  const next: ChatSummary[] = [];
  for (const chat of chats) {
    if (gone.has(chat.id)) continue;
    const replaced = replacing.get(chat.id);
    next.push(replaced ?? chat);
    replacing.delete(chat.id);
  }
  for (const chat of replacing.values()) next.push(chat);
  // Nearly sorted already: the sort moves only the chats put.
  if (put.length > 0) next.sort(compareChats);
  return next;
}

/** Where `chat` goes in the sorted `chats` (binary search). */
function placeOf(chats: readonly ChatSummary[], chat: ChatSummary): number {
  let low = 0;
  let high = chats.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareChats(chats[mid]!, chat) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The state after `push`: its snapshot, or `state` with the patch applied. Null when the patch is of
 * another base than `held` (a rev was missed): the receiver needs a whole snapshot.
 */
export function applyPush(held: StateSnapshot | null, push: StatePush): StateSnapshot | null {
  if ("snapshot" in push) return { rev: push.rev, state: push.snapshot };
  if (!held || held.rev !== push.base_rev) return null;
  return { rev: push.rev, state: applyPatch(held.state, push.patch) };
}

export function applyPatch(state: AppState, patch: StatePatch): AppState {
  const chats = mergeChats(state.chats, patch.chats, patch.removed_chats);
  return { ...state, ...patch.fields, chats, pictures: mergePictures(state.pictures, patch.pictures) };
}

function mergePictures(pictures: Record<string, string>, changed: Record<string, string | null>): Record<string, string> {
  const urls = Object.keys(changed);
  if (urls.length === 0) return pictures;
  const next = { ...pictures };
  for (const url of urls) {
    const data = changed[url];
    if (typeof data === "string") next[url] = data;
    else delete next[url];
  }
  return next;
}

/**
 * A receiver's fold: calls `onState` with each whole state, and `onGap` when a patch does not fit
 * the state held (it is dropped; a whole snapshot sets things right). Once per gap: the patches
 * after it do not fit either until a whole state came.
 */
export function foldPushes(onState: (snapshot: StateSnapshot) => void, onGap: () => void = () => undefined): (push: StatePush) => void {
  let held: StateSnapshot | null = null;
  let asked = false;
  return (push) => {
    const next = applyPush(held, push);
    if (!next) {
      if (!asked) onGap();
      asked = true;
      return;
    }
    if ("snapshot" in push) asked = false;
    held = next;
    onState(next);
  };
}
