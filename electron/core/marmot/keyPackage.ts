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
import { MARMOT_GROUP_DATA_EXTENSION_TYPE, isRelayUrl } from "./groupData.js";
import { verifySignature, type EventTemplate, type NostrEvent } from "./nostrCrypto.js";
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
  /**
   * Hex KeyPackageRef ({@link keyPackageRef}); when given, adds `["i", ref]`.
   * Not in PROTOCOL.md's tag list, but current MIP-00 and mdk ask for it and
   * mdk refuses a kind 30443 without it.
   */
  keyPackageRef?: string;
  /** Unix seconds; default now. */
  createdAt?: number;
}

export interface KeyPackageEventTemplates {
  /** Kind 443, read by Pika / mdk 0.7. */
  legacy: EventTemplate;
  /** Kind 30443 with a `d` tag, what marmot-ts publishes. */
  addressable: EventTemplate;
}

function keyPackageTags(keyPackage: KeyPackage, options: KeyPackageEventOptions): string[][] {
  for (const relay of options.relays) {
    if (!isRelayUrl(relay)) throw new MarmotError("invalid_event", `Invalid relay URL: ${relay}`);
  }
  const tags = [
    ["mls_protocol_version", "1.0"],
    ["mls_ciphersuite", hex16(keyPackage.cipherSuite)],
    ["mls_extensions", hex16(MARMOT_GROUP_DATA_EXTENSION_TYPE), hex16(LAST_RESORT_EXTENSION_TYPE)],
    ["encoding", "base64"],
    ["client", options.client],
    ["relays", ...options.relays],
  ];
  if (options.keyPackageRef !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(options.keyPackageRef)) throw new MarmotError("invalid_event", "keyPackageRef must be 64 lowercase hex characters");
    tags.push(["i", options.keyPackageRef]);
  }
  if (options.protected === true) tags.push(["-"]);
  return tags;
}

/**
 * Unsigned kind 443 and kind 30443 templates for the same KeyPackage (publish
 * both). `identifier` is the 30443 `d` tag, 64 hex characters (32 random
 * bytes: mdk refuses any other form); reusing it replaces our previous
 * addressable KeyPackage on relays.
 */
export function keyPackageEventTemplates(keyPackage: KeyPackage, identifier: string, options: KeyPackageEventOptions): KeyPackageEventTemplates {
  if (!/^[0-9a-f]{64}$/.test(identifier)) {
    throw new MarmotError("invalid_event", "The kind 30443 d tag must be 64 lowercase hex characters (32 random bytes); mdk rejects other forms");
  }
  const content = base64.encode(encode(keyPackageEncoder, keyPackage));
  const createdAt = options.createdAt ?? Math.floor(Date.now() / 1000);
  const tags = keyPackageTags(keyPackage, options);
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
  /** Hex KeyPackageRef. */
  ref: string;
  relays: string[];
  client: string | undefined;
  /** The `d` tag of a kind 30443 event. */
  identifier: string | undefined;
}

function tagValues(event: NostrEvent, name: string): string[] | undefined {
  return event.tags.find((tag) => tag[0] === name)?.slice(1);
}

function invalid(event: NostrEvent, reason: string, cause?: unknown): MarmotError {
  return new MarmotError("invalid_key_package", `KeyPackage event ${event.id.slice(0, 12)}: ${reason}`, { cause });
}

/**
 * Validates a kind 443 / 30443 event and returns its KeyPackage. Rejects: a bad
 * event signature, a missing or non-base64 `encoding` tag (hex is refused), a
 * KeyPackage that does not decode exactly, a protocol version other than MLS
 * 1.0, a ciphersuite we cannot run or that contradicts `mls_ciphersuite`, a
 * credential identity other than the event pubkey, capabilities without
 * 0xf2ee and 0x000a, an expired lifetime, an invalid KeyPackage signature and
 * an `i` tag that is not the KeyPackageRef.
 */
export async function parseKeyPackageEvent(event: NostrEvent, now: Date = new Date()): Promise<ParsedKeyPackageEvent> {
  if (event.kind !== KEY_PACKAGE_KIND && event.kind !== ADDRESSABLE_KEY_PACKAGE_KIND) {
    throw invalid(event, `kind ${event.kind} is not a KeyPackage kind`);
  }
  if (!verifySignature(event)) throw new MarmotError("bad_signature", `KeyPackage event ${event.id.slice(0, 12)} has an invalid signature`);

  const encoding = tagValues(event, "encoding")?.[0];
  if (encoding !== "base64") {
    throw invalid(event, encoding === undefined ? "missing encoding tag (base64 required)" : `encoding "${encoding}" is not supported (base64 required)`);
  }
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
  const suiteTag = tagValues(event, "mls_ciphersuite")?.[0];
  if (suiteTag !== undefined && Number(suiteTag) !== keyPackage.cipherSuite) {
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
  const announcedRef = tagValues(event, "i")?.[0];
  if (announcedRef !== undefined && announcedRef.toLowerCase() !== ref) throw invalid(event, "i tag is not the KeyPackage's KeyPackageRef");

  return {
    event,
    keyPackage,
    pubkey: event.pubkey,
    ref,
    relays: (tagValues(event, "relays") ?? []).filter(isRelayUrl),
    client: tagValues(event, "client")?.[0],
    identifier: event.kind === ADDRESSABLE_KEY_PACKAGE_KIND ? tagValues(event, "d")?.[0] : undefined,
  };
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
  for (const relay of relays) {
    if (!isRelayUrl(relay)) throw new MarmotError("invalid_event", `Invalid relay URL: ${relay}`);
  }
  return { kind: KEY_PACKAGE_RELAY_LIST_KIND, created_at: createdAt, content: "", tags: relays.map((relay) => ["relay", relay]) };
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
