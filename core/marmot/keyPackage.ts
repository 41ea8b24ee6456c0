/**
 * MIP-00 KeyPackages: generation for a Nostr identity, the kind 443 / 30443
 * event templates, validation of received KeyPackage events, storage of our
 * private half, and the kind 10051 relay list and kind 5 deletion templates.
 */
import { base64 } from "@scure/base";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import {
  defaultCredentialTypes,
  encode,
  generateKeyPackage as mlsGenerateKeyPackage,
  keyPackageDecoder,
  keyPackageEncoder,
  makeCustomExtension,
  makeKeyPackageRef,
  privateKeyPackageDecoder,
  privateKeyPackageEncoder,
  protocolVersions,
  type Capabilities,
  type CredentialBasic,
  type KeyPackage,
  type PrivateKeyPackage,
} from "ts-mls";
import { DEFAULT_CIPHERSUITE, getCiphersuite } from "./cryptoProvider.js";
import { MarmotError, describeError } from "./errors.js";
import { isRelayUrl, normalizeRelayUrls, relayUrlProblem } from "../../shared/relayUrl.js";
import { MARMOT_GROUP_DATA_EXTENSION_TYPE } from "./groupData.js";
import { verifySignature, type EventTemplate, type NostrEvent } from "./nostrCrypto.js";
import { listTag, singletonTag } from "./tags.js";
import { TlsWriter } from "./tls.js";

export const KEY_PACKAGE_KIND = 443;
export const ADDRESSABLE_KEY_PACKAGE_KIND = 30443;
export const KEY_PACKAGE_RELAY_LIST_KIND = 10051;
export const LAST_RESORT_EXTENSION_TYPE = 0x000a;

/** Our KeyPackage with its private keys (init, HPKE leaf, MLS signing key). */
export interface KeyPackageBundle {
  publicPackage: KeyPackage;
  privatePackage: PrivateKeyPackage;
}

export interface GenerateKeyPackageOptions {
  /** Default 0x0001. */
  ciphersuite?: number;
  /** Validity from now; default 90 days (ts-mls refuses lifetimes over 4 months). */
  lifetimeSeconds?: number;
  now?: Date;
}

const HEX_PUBKEY = /^[0-9a-f]{64}$/;
const DAY = 24 * 60 * 60;
/** Tolerates receivers whose clock is behind ours (openmls uses the same margin). */
const NOT_BEFORE_MARGIN_SECONDS = 60 * 60;

function hex16(value: number): string {
  return `0x${value.toString(16).padStart(4, "0")}`;
}

/** Leaf capabilities of our KeyPackages: only what MIP-00 asks for, no GREASE. */
function marmotCapabilities(ciphersuite: number): Capabilities {
  return {
    versions: [protocolVersions.mls10],
    ciphersuites: [ciphersuite],
    extensions: [MARMOT_GROUP_DATA_EXTENSION_TYPE, LAST_RESORT_EXTENSION_TYPE],
    proposals: [],
    credentials: [defaultCredentialTypes.basic],
  };
}

export function credentialFor(nostrPubkey: string): CredentialBasic {
  const pubkey = nostrPubkey.toLowerCase();
  if (!HEX_PUBKEY.test(pubkey)) throw new MarmotError("invalid_key_package", `Not a hex Nostr pubkey: ${nostrPubkey}`);
  return { credentialType: defaultCredentialTypes.basic, identity: hexToBytes(pubkey) };
}

/** A new last_resort KeyPackage whose BasicCredential identity is the raw 32-byte `nostrPubkey`. */
export async function generateKeyPackage(nostrPubkey: string, options: GenerateKeyPackageOptions = {}): Promise<KeyPackageBundle> {
  const ciphersuite = options.ciphersuite ?? DEFAULT_CIPHERSUITE;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const lifetime = options.lifetimeSeconds ?? 90 * DAY;
  return mlsGenerateKeyPackage({
    credential: credentialFor(nostrPubkey),
    capabilities: marmotCapabilities(ciphersuite),
    lifetime: { notBefore: BigInt(now - NOT_BEFORE_MARGIN_SECONDS), notAfter: BigInt(now + lifetime) },
    extensions: [makeCustomExtension({ extensionType: LAST_RESORT_EXTENSION_TYPE, extensionData: new Uint8Array(0) })],
    cipherSuite: await getCiphersuite(ciphersuite),
  });
}

/** The identity of a BasicCredential as a hex pubkey; throws unless it is 32 bytes. */
export function credentialPubkey(credential: KeyPackage["leafNode"]["credential"]): string {
  if (credential.credentialType !== defaultCredentialTypes.basic || !("identity" in credential)) {
    throw new MarmotError("invalid_key_package", "Credential is not a BasicCredential");
  }
  if (credential.identity.length !== 32) {
    throw new MarmotError("invalid_key_package", `Credential identity is ${credential.identity.length} bytes, not a raw 32-byte Nostr pubkey`);
  }
  return bytesToHex(credential.identity);
}

/** Hex KeyPackageRef (RFC 9420 §5.2), what a Welcome's secrets are addressed to. */
export async function keyPackageRef(keyPackage: KeyPackage): Promise<string> {
  const suite = await getCiphersuite(keyPackage.cipherSuite);
  return bytesToHex(await makeKeyPackageRef(keyPackage, suite.hash));
}

export interface KeyPackageEventOptions {
  /** Relays the KeyPackage is published to (needed to delete it later). */
  relays: string[];
  /** Value of the `client` tag. */
  client: string;
  /** Adds NIP-70's `["-"]`; many relays refuse protected events, so off by default. */
  protected?: boolean;
  /** Unix seconds; default now. */
  createdAt?: number;
}

export interface KeyPackageEventTemplates {
  /** Kind 443, read by Pika / mdk 0.7. */
  legacy: EventTemplate;
  /** Kind 30443 with a `d` tag, what marmot-ts publishes. */
  addressable: EventTemplate;
}

function assertRelays(relays: readonly string[]): void {
  for (const relay of relays) {
    const problem = relayUrlProblem(relay);
    if (problem !== null) throw new MarmotError("invalid_event", `Relay URL ${relay.slice(0, 80)} ${problem}`);
  }
}

/** Every singleton with exactly one value, `mls_extensions` and `relays` once each, `i` always (MDK 0.7 refuses a KeyPackage without it). */
function keyPackageTags(keyPackage: KeyPackage, ref: string, options: KeyPackageEventOptions): string[][] {
  if (options.relays.length === 0) throw new MarmotError("invalid_event", "A KeyPackage event needs at least one relay");
  assertRelays(options.relays);
  if (options.client === "") throw new MarmotError("invalid_event", "The client tag needs a name");
  const tags = [
    ["mls_protocol_version", "1.0"],
    ["mls_ciphersuite", hex16(keyPackage.cipherSuite)],
    ["mls_extensions", hex16(MARMOT_GROUP_DATA_EXTENSION_TYPE), hex16(LAST_RESORT_EXTENSION_TYPE)],
    ["encoding", "base64"],
    ["i", ref],
    ["client", options.client],
    ["relays", ...options.relays],
  ];
  if (options.protected === true) tags.push(["-"]);
  return tags;
}

/**
 * Unsigned kind 443 and kind 30443 templates for the same KeyPackage (publish
 * both), with its KeyPackageRef as the `i` tag. `identifier` is the 30443 `d`
 * tag, 64 hex characters (32 random bytes: mdk refuses any other form);
 * reusing it replaces our previous addressable KeyPackage on relays.
 */
export async function keyPackageEventTemplates(keyPackage: KeyPackage, identifier: string, options: KeyPackageEventOptions): Promise<KeyPackageEventTemplates> {
  if (!/^[0-9a-f]{64}$/.test(identifier)) {
    throw new MarmotError("invalid_event", "The kind 30443 d tag must be 64 lowercase hex characters (32 random bytes); mdk rejects other forms");
  }
  const content = base64.encode(encode(keyPackageEncoder, keyPackage));
  const createdAt = options.createdAt ?? Math.floor(Date.now() / 1000);
  const tags = keyPackageTags(keyPackage, await keyPackageRef(keyPackage), options);
  return {
    legacy: { kind: KEY_PACKAGE_KIND, created_at: createdAt, content, tags },
    addressable: { kind: ADDRESSABLE_KEY_PACKAGE_KIND, created_at: createdAt, content, tags: [["d", identifier], ...tags.map((tag) => [...tag])] },
  };
}

/** A received KeyPackage event that passed every check of {@link parseKeyPackageEvent}. */
export interface ParsedKeyPackageEvent {
  event: NostrEvent;
  keyPackage: KeyPackage;
  /** Event pubkey, equal to the credential identity. */
  pubkey: string;
  /** Hex KeyPackageRef, computed from the KeyPackage (equal to the `i` tag when there is one). */
  ref: string;
  /** The valid URLs of the `relays` tag, as written. */
  relays: string[];
  /** Optional in MIP-00 (marmot-ts omits it unless asked). */
  client: string | undefined;
  /** The `d` tag of a kind 30443 event. */
  identifier: string | undefined;
}

function invalid(event: NostrEvent, reason: string, cause?: unknown): MarmotError {
  return new MarmotError("invalid_key_package", `KeyPackage event ${event.id.slice(0, 12)}: ${reason}`, { cause });
}

/**
 * Validates a kind 443 / 30443 event and returns its KeyPackage. Rejects: a bad
 * event signature; tags of the wrong cardinality (`encoding`,
 * `mls_protocol_version`, `mls_ciphersuite` and, on 30443, `d`: exactly one tag
 * with one value; `mls_extensions` and `relays`: exactly one tag with values;
 * `i` and `client`: at most one tag); an `encoding` other than base64; a
 * KeyPackage that does not decode exactly; a protocol version other than MLS
 * 1.0; a ciphersuite we cannot run or that contradicts `mls_ciphersuite`; a
 * credential identity other than the event pubkey; capabilities without
 * 0xf2ee and 0x000a; an expired lifetime; an invalid KeyPackage signature; an
 * `i` tag that is not the KeyPackageRef. A missing `i` (older Burrow
 * KeyPackages) or `client` is accepted: the ref is computed.
 */
export async function parseKeyPackageEvent(event: NostrEvent, now: Date = new Date()): Promise<ParsedKeyPackageEvent> {
  if (event.kind !== KEY_PACKAGE_KIND && event.kind !== ADDRESSABLE_KEY_PACKAGE_KIND) {
    throw invalid(event, `kind ${event.kind} is not a KeyPackage kind`);
  }
  if (!verifySignature(event)) throw new MarmotError("bad_signature", `KeyPackage event ${event.id.slice(0, 12)} has an invalid signature`);

  const fail = (reason: string) => invalid(event, reason);
  const encoding = singletonTag(event.tags, "encoding", fail, true);
  if (encoding !== "base64") throw fail(`encoding "${encoding}" is not supported (base64 required)`);
  const version = singletonTag(event.tags, "mls_protocol_version", fail, true);
  if (version !== "1.0") throw fail(`mls_protocol_version "${version}" is not 1.0`);
  const suiteTag = singletonTag(event.tags, "mls_ciphersuite", fail, true);
  listTag(event.tags, "mls_extensions", fail);
  const relays = listTag(event.tags, "relays", fail).filter(isRelayUrl);
  const announcedRef = singletonTag(event.tags, "i", fail, false);
  const clientTags = event.tags.filter((tag) => tag[0] === "client");
  if (clientTags.length > 1) throw fail(`${clientTags.length} client tags (at most one allowed)`);
  const identifier = event.kind === ADDRESSABLE_KEY_PACKAGE_KIND ? singletonTag(event.tags, "d", fail, true) : undefined;
  let bytes: Uint8Array;
  try {
    bytes = base64.decode(event.content);
  } catch (error) {
    throw invalid(event, "content is not valid base64", error);
  }
  let decoded: [KeyPackage, number] | undefined;
  try {
    decoded = keyPackageDecoder(bytes, 0);
  } catch (error) {
    throw invalid(event, `KeyPackage does not decode: ${describeError(error)}`, error);
  }
  if (decoded === undefined) throw invalid(event, "KeyPackage does not decode");
  const [keyPackage, consumed] = decoded;
  if (consumed !== bytes.length) throw invalid(event, `${bytes.length - consumed} trailing bytes after the KeyPackage`);

  if (keyPackage.version !== protocolVersions.mls10) throw invalid(event, `MLS version ${keyPackage.version} is not 1.0`);
  if (Number(suiteTag) !== keyPackage.cipherSuite) {
    throw invalid(event, `mls_ciphersuite tag ${suiteTag} contradicts the KeyPackage's ${hex16(keyPackage.cipherSuite)}`);
  }
  const suite = await getCiphersuite(keyPackage.cipherSuite);

  const identity = credentialPubkey(keyPackage.leafNode.credential);
  if (identity !== event.pubkey) {
    throw new MarmotError("identity_mismatch", `KeyPackage credential identity ${identity} is not the event pubkey ${event.pubkey}`);
  }
  const supported = keyPackage.leafNode.capabilities.extensions;
  for (const required of [MARMOT_GROUP_DATA_EXTENSION_TYPE, LAST_RESORT_EXTENSION_TYPE]) {
    if (!supported.includes(required)) throw invalid(event, `capabilities do not list extension ${hex16(required)}`);
  }
  const leaf = keyPackage.leafNode;
  if ("lifetime" in leaf) {
    const seconds = BigInt(Math.floor(now.getTime() / 1000));
    if (leaf.lifetime.notAfter < seconds) throw invalid(event, "KeyPackage lifetime has expired");
  }

  const tbs = bytes.subarray(0, consumed - new TlsWriter().vector(keyPackage.signature).finish().length);
  const signed = new TlsWriter().vector(new TextEncoder().encode("MLS 1.0 KeyPackageTBS")).vector(tbs).finish();
  if (!(await suite.signature.verify(leaf.signaturePublicKey, signed, keyPackage.signature))) {
    throw new MarmotError("bad_signature", `KeyPackage in event ${event.id.slice(0, 12)} has an invalid MLS signature`);
  }

  const ref = bytesToHex(await makeKeyPackageRef(keyPackage, suite.hash));
  if (announcedRef !== undefined && announcedRef !== ref) throw invalid(event, `i tag ${announcedRef.slice(0, 16)} is not the KeyPackageRef ${ref.slice(0, 16)} (lowercase hex)`);

  return { event, keyPackage, pubkey: event.pubkey, ref, relays, client: clientTags[0]?.[1], identifier };
}

/**
 * The newest of someone's KeyPackage events (443 and 30443 mixed) that passes
 * {@link parseKeyPackageEvent}; throws the newest event's error when none does.
 */
export async function selectKeyPackage(events: readonly NostrEvent[], now: Date = new Date()): Promise<ParsedKeyPackageEvent> {
  const newestFirst = [...events].sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
  let firstError: unknown = new MarmotError("invalid_key_package", "No KeyPackage event found");
  for (const [index, event] of newestFirst.entries()) {
    try {
      return await parseKeyPackageEvent(event, now);
    } catch (error) {
      if (index === 0) firstError = error;
    }
  }
  throw firstError;
}

const BUNDLE_FORMAT = 1;

/** Bytes for storage (secret: holds the private keys): format byte ‖ KeyPackage ‖ PrivateKeyPackage. */
export function serializeKeyPackageBundle(bundle: KeyPackageBundle): Uint8Array {
  return new TlsWriter()
    .bytes(Uint8Array.of(BUNDLE_FORMAT))
    .bytes(encode(keyPackageEncoder, bundle.publicPackage))
    .bytes(encode(privateKeyPackageEncoder, bundle.privatePackage))
    .finish();
}

export function deserializeKeyPackageBundle(bytes: Uint8Array): KeyPackageBundle {
  try {
    if (bytes[0] !== BUNDLE_FORMAT) throw new Error(`unknown format ${String(bytes[0])}`);
    const publicPart = keyPackageDecoder(bytes, 1);
    if (publicPart === undefined) throw new Error("KeyPackage does not decode");
    const privatePart = privateKeyPackageDecoder(bytes, 1 + publicPart[1]);
    if (privatePart === undefined) throw new Error("private keys do not decode");
    if (1 + publicPart[1] + privatePart[1] !== bytes.length) throw new Error("trailing bytes");
    return { publicPackage: publicPart[0], privatePackage: privatePart[0] };
  } catch (error) {
    throw new MarmotError("corrupt_storage", `Stored KeyPackage is unreadable: ${describeError(error)}`, { cause: error });
  }
}

/** Kind 10051: where others should look for our KeyPackages. */
export function keyPackageRelayListTemplate(relays: readonly string[], createdAt: number = Math.floor(Date.now() / 1000)): EventTemplate {
  assertRelays(relays);
  return { kind: KEY_PACKAGE_RELAY_LIST_KIND, created_at: createdAt, content: "", tags: relays.map((relay) => ["relay", relay]) };
}

/**
 * Where someone's KeyPackages are, from the newest of their kind 10051 events
 * (`events`: what a query for them returned) whose signature verifies: its valid
 * `relay` URLs in normal form, each once (for connecting only, never republished).
 */
export function keyPackageRelayListRelays(events: readonly NostrEvent[]): string[] {
  const newestFirst = events.filter((event) => event.kind === KEY_PACKAGE_RELAY_LIST_KIND).sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
  const list = newestFirst.find(verifySignature);
  if (list === undefined) return [];
  return normalizeRelayUrls(list.tags.filter((tag) => tag[0] === "relay").map((tag) => tag[1] ?? ""));
}

/** The fields of a published KeyPackage event that a deletion needs. */
export type KeyPackageEventRef = Pick<NostrEvent, "id" | "kind" | "pubkey" | "tags">;

/**
 * NIP-09 kind 5 deleting our KeyPackage events: an `e` tag per event, an `a`
 * tag (30443:pubkey:d) per addressable one, and a `k` tag per kind involved.
 */
export function keyPackageDeletionTemplate(events: readonly KeyPackageEventRef[], createdAt: number = Math.floor(Date.now() / 1000)): EventTemplate {
  if (events.length === 0) throw new MarmotError("invalid_event", "Nothing to delete");
  const kinds = new Set<number>();
  const eTags: string[][] = [];
  const aTags: string[][] = [];
  for (const event of events) {
    if (event.kind !== KEY_PACKAGE_KIND && event.kind !== ADDRESSABLE_KEY_PACKAGE_KIND) {
      throw new MarmotError("invalid_event", `Event ${event.id} is kind ${event.kind}, not a KeyPackage`);
    }
    kinds.add(event.kind);
    eTags.push(["e", event.id]);
    if (event.kind === ADDRESSABLE_KEY_PACKAGE_KIND) {
      const identifier = event.tags.find((tag) => tag[0] === "d")?.[1];
      if (identifier !== undefined) aTags.push(["a", `${ADDRESSABLE_KEY_PACKAGE_KIND}:${event.pubkey}:${identifier}`]);
    }
  }
  const kTags = [...kinds].sort((a, b) => a - b).map((kind) => ["k", String(kind)]);
  return { kind: 5, created_at: createdAt, content: "", tags: [...eTags, ...aTags, ...kTags] };
}
