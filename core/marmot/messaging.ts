/**
 * The send and receive paths of a group, joining group.ts (MLS) and
 * groupEvents.ts (kind 445) around one {@link EpochKeyCache} per group. The app
 * sends and receives through these, and nothing else pairs the two layers.
 */
import type { ClientState, MlsMessage } from "ts-mls";
import { encryptRumor, processGroupMessage, type CommitOutcome, type ProcessedMessage } from "./group.js";
import { sealGroupMessage, unwrapGroupEvent, wrapGroupMessage, type EpochKeyCache, type GroupEventKey } from "./groupEvents.js";
import { generateSecretKey, signEvent, type EventTemplate, type NostrEvent } from "./nostrCrypto.js";
import type { Rumor } from "./rumor.js";

/** The kind 445 key of `state`'s epoch: the cached one, or derived and cached now. */
export async function epochKeyFor(state: ClientState, cache: EpochKeyCache): Promise<GroupEventKey> {
  return cache.get(state.groupContext.epoch) ?? cache.remember(state);
}

/** Wraps an MLS message of `state`'s epoch (a proposal or an application message) as a kind 445. */
export async function wrapInEpoch(state: ClientState, cache: EpochKeyCache, message: MlsMessage, createdAt?: number): Promise<NostrEvent> {
  return wrapGroupMessage(message, await epochKeyFor(state, cache), createdAt);
}

/**
 * Encrypts `rumor` into an unsigned kind 445, for signing with a fresh key
 * (`CryptoPool.signFresh`). Adopt the returned state right away (the message key
 * is spent even if publishing fails) and store it before the signed event leaves.
 */
export async function sealRumor(state: ClientState, cache: EpochKeyCache, rumor: Rumor, createdAt?: number): Promise<{ state: ClientState; template: EventTemplate }> {
  const key = await epochKeyFor(state, cache);
  const encrypted = await encryptRumor(state, rumor);
  return { state: encrypted.state, template: sealGroupMessage(encrypted.message, key, createdAt) };
}

/**
 * Encrypts and wraps `rumor`. Adopt the returned state right away (the
 * message key is spent even if publishing fails) and remember `event.id`: its
 * echo from relays must be skipped, not processed.
 */
export async function sendRumor(state: ClientState, cache: EpochKeyCache, rumor: Rumor, createdAt?: number): Promise<{ state: ClientState; event: NostrEvent }> {
  const sealed = await sealRumor(state, cache, rumor, createdAt);
  return { state: sealed.state, event: signEvent(sealed.template, generateSecretKey()) };
}

/**
 * Wraps our commit with the key of the epoch it was made in, and caches the
 * next epoch's key. Publish the event; on a relay's acceptance adopt
 * `outcome.state`, then gift-wrap `outcome.welcome` to the new members.
 */
export async function wrapCommit(
  outcome: Pick<CommitOutcome, "state" | "previousState"> & { commit: CommitOutcome["commit"] },
  cache: EpochKeyCache,
  createdAt?: number,
): Promise<NostrEvent> {
  const key = await epochKeyFor(outcome.previousState, cache);
  await cache.remember(outcome.state);
  return wrapGroupMessage(outcome.commit, key, createdAt);
}

export type ReceivedGroupEvent = ProcessedMessage & {
  eventId: string;
  legacy: boolean;
  /** The MLS message inside, and the epoch whose key opened it: a rival commit is replayed with them. */
  message: MlsMessage;
  keyEpoch: bigint;
};

/**
 * Opens and processes a kind 445 (not one we sent). A commit's new epoch key is
 * added to `cache`. Errors are {@link MarmotError}s: `undecryptable` (no key we
 * hold opens it) and `future_epoch` mean it may open after the commits before
 * it; the others mean drop the event.
 */
export async function receiveGroupEvent(state: ClientState, cache: EpochKeyCache, event: NostrEvent): Promise<ReceivedGroupEvent> {
  if (cache.get(state.groupContext.epoch) === undefined) await cache.remember(state);
  const unwrapped = unwrapGroupEvent(event, cache);
  const processed = await processGroupMessage(state, unwrapped.message);
  if (processed.kind === "commit" && !processed.removedUs) await cache.remember(processed.state);
  return { ...processed, eventId: event.id, legacy: unwrapped.legacy, message: unwrapped.message, keyEpoch: unwrapped.keyEpoch };
}
