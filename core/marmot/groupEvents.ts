/**
 * MIP-03 kind 445 group events. Content is
 * base64(nonce[12] ‖ ChaCha20-Poly1305(key, nonce, aad = empty, MLSMessage)),
 * key = MLS-Exporter("marmot", "group-event", 32) of the epoch the message was
 * made in (a commit: the epoch before it). Tag `["h", hex(nostr_group_id)]`;
 * each event is signed by a fresh throwaway key.
 *
 * ts-mls keeps no past exporter secrets, so {@link EpochKeyCache} keeps the keys
 * of the current and recent epochs. The legacy envelope (NIP-44 with the key
 * pair derived from MLS-Exporter("nostr", "nostr", 32)) is read, never written.
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { bytesToHex, concatBytes, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import { decode, encode, mlsExporter, mlsMessageDecoder, mlsMessageEncoder, type ClientState, type MlsMessage } from "ts-mls";
import { getCiphersuite } from "./cryptoProvider.js";
import { MarmotError, describeError } from "./errors.js";
import { nostrGroupIdHex, readGroupData } from "./groupData.js";
import { decryptNip44Bytes, legacyConversationKey } from "./legacyNip44.js";
import { hasValidSignature } from "./cryptoPool.js";
import { generateSecretKey, signEvent, type EventTemplate, type NostrEvent } from "./nostrCrypto.js";
import { singletonTag } from "./tags.js";
import { TlsReader, TlsWriter } from "./tls.js";

export const GROUP_EVENT_KIND = 445;
/** The current epoch and the 4 before it, as long as ts-mls keeps receiver data (retainKeysForEpochs = 4). */
export const DEFAULT_RETAINED_EPOCHS = 5;

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEX32 = /^[0-9a-f]{64}$/;

/** The secrets to read and write one epoch's kind 445 events. Secret: store like the group state. */
export interface GroupEventKey {
  epoch: bigint;
  /** Hex nostr_group_id of that epoch: the `h` tag. */
  nostrGroupId: string;
  /** MLS-Exporter("marmot", "group-event", 32). */
  key: Uint8Array;
  /** MLS-Exporter("nostr", "nostr", 32), the legacy NIP-44 key pair's secret. */
  legacySecret: Uint8Array;
}

/** Derives the group-event key of `state`'s epoch (~150 µs: cache it, see {@link EpochKeyCache}). */
export async function deriveGroupEventKey(state: ClientState): Promise<GroupEventKey> {
  const cs = await getCiphersuite(state.groupContext.cipherSuite);
  const exporterSecret = state.keySchedule.exporterSecret;
  const utf8 = new TextEncoder();
  const [key, legacySecret] = await Promise.all([
    mlsExporter(exporterSecret, "marmot", utf8.encode("group-event"), 32, cs),
    mlsExporter(exporterSecret, "nostr", utf8.encode("nostr"), 32, cs),
  ]);
  return { epoch: state.groupContext.epoch, nostrGroupId: nostrGroupIdHex(readGroupData(state)), key, legacySecret };
}

const CACHE_FORMAT = 1;

/** One group's group-event keys for its newest epochs. */
export class EpochKeyCache {
  private readonly keys = new Map<bigint, GroupEventKey>();
  private readonly legacyKeys = new Map<bigint, Uint8Array>();

  constructor(readonly maxEpochs: number = DEFAULT_RETAINED_EPOCHS) {
    if (!Number.isInteger(maxEpochs) || maxEpochs < 1) throw new RangeError("maxEpochs must be a positive integer");
  }

  /**
   * Stores the key of `state`'s epoch, replacing any key held for that epoch
   * (after a commit race the winning branch's key must win), and drops the
   * oldest epochs beyond `maxEpochs`.
   */
  async remember(state: ClientState): Promise<GroupEventKey> {
    const key = await deriveGroupEventKey(state);
    this.put(key);
    return key;
  }

  put(key: GroupEventKey): void {
    this.keys.set(key.epoch, key);
    this.legacyKeys.delete(key.epoch);
    const epochs = [...this.keys.keys()].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    for (const old of epochs.slice(this.maxEpochs)) {
      this.keys.delete(old);
      this.legacyKeys.delete(old);
    }
  }

  get(epoch: bigint): GroupEventKey | undefined {
    return this.keys.get(epoch);
  }

  /** Newest epoch first. */
  list(): GroupEventKey[] {
    return [...this.keys.values()].sort((a, b) => (a.epoch < b.epoch ? 1 : a.epoch > b.epoch ? -1 : 0));
  }

  legacyConversationKey(key: GroupEventKey): Uint8Array {
    let conversationKey = this.legacyKeys.get(key.epoch);
    if (conversationKey === undefined) {
      conversationKey = legacyConversationKey(key.legacySecret);
      this.legacyKeys.set(key.epoch, conversationKey);
    }
    return conversationKey;
  }

  /** Bytes for storage (secret). */
  serialize(): Uint8Array {
    const writer = new TlsWriter().bytes(Uint8Array.of(CACHE_FORMAT)).uint16(this.keys.size);
    for (const key of this.list()) {
      const epoch = new Uint8Array(8);
      new DataView(epoch.buffer).setBigUint64(0, key.epoch);
      writer.bytes(epoch).bytes(hexToBytes(key.nostrGroupId)).bytes(key.key).bytes(key.legacySecret);
    }
    return writer.finish();
  }

  static deserialize(bytes: Uint8Array, maxEpochs: number = DEFAULT_RETAINED_EPOCHS): EpochKeyCache {
    const cache = new EpochKeyCache(maxEpochs);
    try {
      const reader = new TlsReader(bytes);
      const format = reader.take(1)[0];
      if (format !== CACHE_FORMAT) throw new Error(`unknown format ${String(format)}`);
      const count = reader.uint16();
      for (let i = 0; i < count; i++) {
        const epochBytes = reader.take(8);
        const epoch = new DataView(epochBytes.buffer, epochBytes.byteOffset, 8).getBigUint64(0);
        cache.put({ epoch, nostrGroupId: bytesToHex(reader.take(32)), key: reader.take(32), legacySecret: reader.take(32) });
      }
      if (reader.remaining !== 0) throw new Error("trailing bytes");
    } catch (error) {
      throw new MarmotError("corrupt_storage", `Stored epoch keys are unreadable: ${describeError(error)}`, { cause: error });
    }
    return cache;
  }
}

/** The unsigned kind 445 carrying `message`, encrypted with `key` (the epoch the message belongs to): sign it with a fresh key. */
export function sealGroupMessage(message: MlsMessage, key: GroupEventKey, createdAt: number = Math.floor(Date.now() / 1000)): EventTemplate {
  const nonce = randomBytes(NONCE_BYTES);
  const sealed = chacha20poly1305(key.key, nonce, new Uint8Array(0)).encrypt(encode(mlsMessageEncoder, message));
  return { kind: GROUP_EVENT_KIND, created_at: createdAt, tags: [["h", key.nostrGroupId]], content: base64.encode(concatBytes(nonce, sealed)) };
}

/** A signed kind 445 carrying `message`, encrypted with `key` (the epoch the message belongs to). */
export function wrapGroupMessage(message: MlsMessage, key: GroupEventKey, createdAt?: number): NostrEvent {
  return signEvent(sealGroupMessage(message, key, createdAt), generateSecretKey());
}

export interface UnwrappedGroupEvent {
  message: MlsMessage;
  /** Epoch of the key that opened the event (for a commit, the epoch before it). */
  keyEpoch: bigint;
  /** Opened through the legacy NIP-44 envelope. */
  legacy: boolean;
}

function decodeMlsMessage(bytes: Uint8Array): MlsMessage {
  let message: MlsMessage | undefined;
  try {
    message = decode(mlsMessageDecoder, bytes);
  } catch (error) {
    throw new MarmotError("invalid_event", `Group event does not hold an MLSMessage: ${describeError(error)}`, { cause: error });
  }
  if (message === undefined) throw new MarmotError("invalid_event", "Group event does not hold an MLSMessage");
  return message;
}

/**
 * The hex nostr_group_id a kind 445 is addressed to: its one `h` tag with one
 * lowercase hex value. Throws `invalid_event` for a missing, repeated,
 * extra-valued or malformed `h`. Routing only: the signature is checked by
 * {@link unwrapGroupEvent}.
 */
export function groupEventGroupId(event: Pick<NostrEvent, "id" | "tags">): string {
  const fail = (reason: string) => new MarmotError("invalid_event", `Group event ${String(event.id).slice(0, 12)}: ${reason}`);
  const h = singletonTag(event.tags, "h", fail, true);
  if (!HEX32.test(h)) throw fail("h tag is not a 64-character lowercase hex nostr_group_id");
  return h;
}

/**
 * Opens a kind 445: checks kind, signature (unless the crypto pool found this
 * very event good) and `h` tag, then tries each cached
 * epoch key (newest first), then the legacy envelope. Throws `wrong_group` or
 * `undecryptable` (unknown epoch, tampered content) rather than crashing.
 */
export function unwrapGroupEvent(event: NostrEvent, cache: EpochKeyCache): UnwrappedGroupEvent {
  if (event.kind !== GROUP_EVENT_KIND) throw new MarmotError("invalid_event", `Kind ${event.kind} is not a group event`);
  if (!hasValidSignature(event)) throw new MarmotError("bad_signature", "Group event signature is invalid");
  const h = groupEventGroupId(event);
  const candidates = cache.list().filter((key) => key.nostrGroupId === h);
  if (candidates.length === 0) throw new MarmotError("wrong_group", `No epoch key for group ${h.slice(0, 12)}`);

  let payload: Uint8Array | undefined;
  try {
    payload = base64.decode(event.content);
  } catch {
    payload = undefined;
  }
  if (payload !== undefined && payload.length >= NONCE_BYTES + TAG_BYTES) {
    const nonce = payload.subarray(0, NONCE_BYTES);
    const sealed = payload.subarray(NONCE_BYTES);
    for (const key of candidates) {
      let plain: Uint8Array;
      try {
        plain = chacha20poly1305(key.key, nonce, new Uint8Array(0)).decrypt(sealed);
      } catch {
        continue;
      }
      return { message: decodeMlsMessage(plain), keyEpoch: key.epoch, legacy: false };
    }
  }
  for (const key of candidates) {
    let plain: Uint8Array;
    try {
      plain = decryptNip44Bytes(event.content, cache.legacyConversationKey(key));
    } catch {
      continue;
    }
    return { message: decodeMlsMessage(plain), keyEpoch: key.epoch, legacy: true };
  }
  throw new MarmotError("undecryptable", `No retained epoch key opens group event ${event.id.slice(0, 12)}`);
}

/**
 * MIP-03 order among competing commits of one epoch: the earliest `created_at`
 * wins, ties go to the lexicographically smallest id. Sort ascending; apply the first.
 */
export function compareCommitEvents(a: Pick<NostrEvent, "created_at" | "id">, b: Pick<NostrEvent, "created_at" | "id">): number {
  return a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
