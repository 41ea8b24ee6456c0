/**
 * MIP-02 Welcomes: the unsigned kind 444 rumor carrying an MLS Welcome,
 * gift-wrapped per NIP-59 (rumor → kind 13 seal signed by us → kind 1059 wrap
 * signed by a throwaway key) to each new member, and the way back.
 *
 * NIP-44 encrypts at most 65,535 bytes (nostr-tools silently switches to a
 * longer, non-standard prefix above that, which other clients refuse), so sizes
 * are checked before encrypting; {@link assertWelcomeFits} lets the group code
 * refuse an oversized add before its commit can be published.
 */
import { bytesToHex } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import { decode, encode, mlsMessageDecoder, mlsMessageEncoder, wireformats, type MlsWelcomeMessage } from "ts-mls";
import * as nip44 from "nostr-tools/nip44";
import { isRelayUrl } from "../../shared/relayUrl.js";
import { MarmotError, describeError } from "./errors.js";
import { hasValidSignature } from "./cryptoPool.js";
import { generateSecretKey, getPublicKey, signEvent, verifySignature, type NostrEvent } from "./nostrCrypto.js";
import { createRumor, parseRumor, serializeRumor, type Rumor } from "./rumor.js";
import { listTag, singletonTag } from "./tags.js";

export const WELCOME_KIND = 444;
export const SEAL_KIND = 13;
export const GIFT_WRAP_KIND = 1059;
/** NIP-44 v2 plaintext limit. */
export const NIP44_MAX_PLAINTEXT = 65_535;
/** NIP-59: seal and wrap timestamps are backdated by a random time up to this. */
export const GIFT_WRAP_MAX_BACKDATE_SECONDS = 2 * 24 * 60 * 60;

const HEX32 = /^[0-9a-f]{64}$/;
const utf8 = new TextEncoder();

export interface WelcomeRumorInput {
  /** Our Nostr pubkey (the inviter). */
  senderPubkey: string;
  /** Id of the recipient's KeyPackage event that the commit consumed. */
  keyPackageEventId: string;
  /** The group's relays (from marmot_group_data), where the new member reads kind 445. */
  relays: string[];
  createdAt?: number;
}

/** The kind 444 rumor: content base64(MLSMessage(Welcome)), tags `e`, `relays`, `encoding`. */
export function welcomeRumor(welcome: MlsWelcomeMessage, input: WelcomeRumorInput): Rumor {
  return createRumor({
    pubkey: input.senderPubkey,
    kind: WELCOME_KIND,
    content: base64.encode(encode(mlsMessageEncoder, welcome)),
    tags: [["e", input.keyPackageEventId], ["relays", ...input.relays], ["encoding", "base64"]],
    createdAt: input.createdAt,
  });
}

function nip44PayloadLength(plaintextLength: number): number {
  const bytes = 1 + 32 + 2 + nip44.v2.utils.calcPaddedLen(plaintextLength) + 32;
  return 4 * Math.ceil(bytes / 3);
}

export interface GiftWrapSizes {
  /** UTF-8 bytes of the rumor JSON, the seal's plaintext. */
  rumor: number;
  /** UTF-8 bytes of the seal JSON, the wrap's plaintext. */
  seal: number;
}

/** Exact plaintext sizes of both NIP-44 layers for `rumor`, computed without encrypting. */
export function giftWrapSizes(rumor: Rumor): GiftWrapSizes {
  const rumorBytes = utf8.encode(serializeRumor(rumor)).length;
  const sealShape = {
    id: "0".repeat(64),
    pubkey: rumor.pubkey,
    created_at: Math.floor(Date.now() / 1000),
    kind: SEAL_KIND,
    tags: [],
    content: "A".repeat(nip44PayloadLength(rumorBytes)),
    sig: "0".repeat(128),
  };
  return { rumor: rumorBytes, seal: utf8.encode(JSON.stringify(sealShape)).length };
}

function assertSizes(sizes: GiftWrapSizes, what: string): void {
  const largest = Math.max(sizes.rumor, sizes.seal);
  if (largest > NIP44_MAX_PLAINTEXT) {
    throw new MarmotError(
      "welcome_too_large",
      `${what} needs ${largest} bytes of NIP-44 plaintext, over the ${NIP44_MAX_PLAINTEXT}-byte limit: add fewer members per commit`,
    );
  }
}

/**
 * Throws `welcome_too_large` when the gift-wrapped kind 444 for `welcome` would
 * exceed NIP-44's limit. Every recipient's rumor has the same size (their `e`
 * tag is always a 64-hex id), so one check covers all.
 */
export function assertWelcomeFits(welcome: MlsWelcomeMessage, input: Omit<WelcomeRumorInput, "keyPackageEventId">): void {
  const rumor = welcomeRumor(welcome, { ...input, keyPackageEventId: "0".repeat(64) });
  assertSizes(giftWrapSizes(rumor), `A Welcome for ${welcome.welcome.secrets.length} new member(s)`);
}

function backdated(now: number): number {
  return now - Math.floor(Math.random() * GIFT_WRAP_MAX_BACKDATE_SECONDS);
}

/**
 * NIP-59 gift wrap of `rumor` (whose pubkey must be ours) to `recipientPubkey`.
 * Throws `welcome_too_large` when a layer exceeds the NIP-44 limit.
 */
export function giftWrap(rumor: Rumor, senderSecretKey: Uint8Array, recipientPubkey: string, now: number = Math.floor(Date.now() / 1000)): NostrEvent {
  if (getPublicKey(senderSecretKey) !== rumor.pubkey) throw new MarmotError("identity_mismatch", "The rumor's pubkey is not the sealing key's");
  if (!HEX32.test(recipientPubkey)) throw new MarmotError("invalid_event", `Not a hex pubkey: ${recipientPubkey}`);
  assertSizes(giftWrapSizes(rumor), `Gift wrap of kind ${rumor.kind}`);
  const seal = signEvent(
    {
      kind: SEAL_KIND,
      created_at: backdated(now),
      tags: [],
      content: nip44.encrypt(serializeRumor(rumor), nip44.getConversationKey(senderSecretKey, recipientPubkey)),
    },
    senderSecretKey,
  );
  const wrapKey = generateSecretKey();
  return signEvent(
    {
      kind: GIFT_WRAP_KIND,
      created_at: backdated(now),
      tags: [["p", recipientPubkey]],
      content: nip44.encrypt(JSON.stringify(seal), nip44.getConversationKey(wrapKey, recipientPubkey)),
    },
    wrapKey,
  );
}

export interface UnwrappedRumor {
  rumor: Rumor;
  /** The seal's signer: the real author, equal to rumor.pubkey. */
  sender: string;
}

function openLayer(payload: string, recipientSecretKey: Uint8Array, senderPubkey: string, layer: string): string {
  try {
    return nip44.decrypt(payload, nip44.getConversationKey(recipientSecretKey, senderPubkey));
  } catch (error) {
    throw new MarmotError("undecryptable", `Cannot decrypt the ${layer}: ${describeError(error)}`, { cause: error });
  }
}

/**
 * Opens a kind 1059 addressed to us: verifies wrap (unless the crypto pool found this very event
 * good) and seal signatures, the rumor id, and that the seal signer wrote the rumor.
 */
export function unwrapGiftWrap(wrap: NostrEvent, recipientSecretKey: Uint8Array): UnwrappedRumor {
  if (wrap.kind !== GIFT_WRAP_KIND) throw new MarmotError("invalid_event", `Kind ${wrap.kind} is not a gift wrap`);
  if (!hasValidSignature(wrap)) throw new MarmotError("bad_signature", "Gift wrap signature is invalid");
  let seal: NostrEvent;
  try {
    seal = JSON.parse(openLayer(wrap.content, recipientSecretKey, wrap.pubkey, "gift wrap")) as NostrEvent;
  } catch (error) {
    if (error instanceof MarmotError) throw error;
    throw new MarmotError("invalid_event", "Seal is not JSON", { cause: error });
  }
  if (typeof seal !== "object" || seal === null || seal.kind !== SEAL_KIND) throw new MarmotError("invalid_event", "Gift wrap does not contain a kind 13 seal");
  if (!verifySignature(seal)) throw new MarmotError("bad_signature", "Seal signature is invalid");
  const rumor = parseRumor(openLayer(seal.content, recipientSecretKey, seal.pubkey, "seal"));
  if (rumor.pubkey !== seal.pubkey) throw new MarmotError("identity_mismatch", "The rumor's pubkey is not the seal signer's");
  return { rumor, sender: seal.pubkey };
}

export interface ParsedWelcome {
  welcome: MlsWelcomeMessage;
  /** The `e` tag: which of our KeyPackage events the inviter used. */
  keyPackageEventId: string;
  /** The valid URLs of the `relays` tag, as written: where the inviter says the group's events are. */
  relays: string[];
}

/**
 * Reads a kind 444 rumor: exactly one `e` (one hex event id), one `encoding`
 * (base64) and one `relays` tag; the content an MLSMessage of wire format mls_welcome.
 */
export function parseWelcomeRumor(rumor: Rumor): ParsedWelcome {
  if (rumor.kind !== WELCOME_KIND) throw new MarmotError("invalid_welcome", `Kind ${rumor.kind} is not a Welcome`);
  const fail = (reason: string) => new MarmotError("invalid_welcome", `Welcome ${rumor.id.slice(0, 12)}: ${reason}`);
  const encoding = singletonTag(rumor.tags, "encoding", fail, true);
  if (encoding !== "base64") throw fail(`encoding "${encoding}" is not supported (base64 required)`);
  const keyPackageEventId = singletonTag(rumor.tags, "e", fail, true);
  if (!HEX32.test(keyPackageEventId)) throw fail("e tag is not a 64-character lowercase hex event id");
  const relays = listTag(rumor.tags, "relays", fail).filter(isRelayUrl);
  let message;
  try {
    message = decode(mlsMessageDecoder, base64.decode(rumor.content));
  } catch (error) {
    throw new MarmotError("invalid_welcome", `Welcome content does not decode: ${describeError(error)}`, { cause: error });
  }
  if (message === undefined || message.wireformat !== wireformats.mls_welcome) {
    throw new MarmotError("invalid_welcome", "Welcome content is not an MLSMessage(Welcome)");
  }
  return { welcome: message, keyPackageEventId, relays };
}

/** Hex KeyPackageRefs the Welcome's secrets are addressed to: pick our bundle whose `keyPackageRef` is among them. */
export function welcomeKeyPackageRefs(welcome: MlsWelcomeMessage): string[] {
  return welcome.welcome.secrets.map((secret) => bytesToHex(secret.newMember));
}

export interface ReceivedWelcome extends ParsedWelcome, UnwrappedRumor {
  /** Id of the kind 1059 event, for de-duplication. */
  giftWrapId: string;
}

/** {@link unwrapGiftWrap} then {@link parseWelcomeRumor}; join with group.ts `joinFromWelcome`. */
export function readWelcome(wrap: NostrEvent, recipientSecretKey: Uint8Array): ReceivedWelcome {
  const unwrapped = unwrapGiftWrap(wrap, recipientSecretKey);
  return { ...unwrapped, ...parseWelcomeRumor(unwrapped.rumor), giftWrapId: wrap.id };
}
