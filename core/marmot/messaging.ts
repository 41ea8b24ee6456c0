/**
 * The send and receive paths of a group, joining group.ts (MLS) and
 * groupEvents.ts (kind 445) around one {@link EpochKeyCache} per group.
 */
import type { ClientState } from "ts-mls";
import { encryptRumor, processGroupMessage, type CommitOutcome, type ProcessedMessage } from "./group.js";
import { unwrapGroupEvent, wrapGroupMessage, type EpochKeyCache } from "./groupEvents.js";
import type { NostrEvent } from "./nostrCrypto.js";
import type { Rumor } from "./rumor.js";

async function keyFor(state: ClientState, cache: EpochKeyCache) {
  return cache.get(state.groupContext.epoch) ?? cache.remember(state);
}

/**
 * Encrypts and wraps `rumor`. Adopt the returned state right away (the
 * message key is spent even if publishing fails) and remember `event.id`: its
 * echo from relays must be skipped, not processed.
 */
export async function sendRumor(state: ClientState, cache: EpochKeyCache, rumor: Rumor): Promise<{ state: ClientState; event: NostrEvent }> {
  const key = await keyFor(state, cache);
  const encrypted = await encryptRumor(state, rumor);
  return { state: encrypted.state, event: wrapGroupMessage(encrypted.message, key) };
}

/**
 * Wraps our commit with the key of the epoch it was made in, and caches the
 * next epoch's key. Publish the event; on a relay's acceptance adopt
 * `outcome.state`, then gift-wrap `outcome.welcome` to the new members.
 */
export async function wrapCommit(outcome: Pick<CommitOutcome, "state" | "previousState"> & { commit: CommitOutcome["commit"] }, cache: EpochKeyCache): Promise<NostrEvent> {
  const key = await keyFor(outcome.previousState, cache);
  await cache.remember(outcome.state);
  return wrapGroupMessage(outcome.commit, key);
}

export type ReceivedGroupEvent = ProcessedMessage & { eventId: string; legacy: boolean };

/**
 * Opens and processes a kind 445 (not one we sent). A commit's new epoch key is
 * added to `cache`. Errors are {@link MarmotError}s: `future_epoch` means retry
 * after the commits before it; the others mean drop the event.
 */
export async function receiveGroupEvent(state: ClientState, cache: EpochKeyCache, event: NostrEvent): Promise<ReceivedGroupEvent> {
  if (cache.get(state.groupContext.epoch) === undefined) await cache.remember(state);
  const unwrapped = unwrapGroupEvent(event, cache);
  const processed = await processGroupMessage(state, unwrapped.message);
  if (processed.kind === "commit") await cache.remember(processed.state);
  return { ...processed, eventId: event.id, legacy: unwrapped.legacy };
}
