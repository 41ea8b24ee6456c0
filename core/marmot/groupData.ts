/**
 * marmot_group_data, the MLS GroupContext extension 0xF2EE (MIP-01).
 *
 * Version 2 (written):
 *   uint16 version = 2; opaque nostr_group_id[32];
 *   then, each with a QUIC-varint length prefix: name, description,
 *   admin_pubkeys (32-byte x-only keys back to back), relays (a vector of
 *   varint-prefixed URLs), image_hash (0|32), image_key (0|32),
 *   image_nonce (0|12), image_upload_key (0|32).
 * Version 1 (read only): uint16 prefixes, comma-separated hex admins and relay
 * URLs, fixed-size image_hash[32], image_key[32], image_nonce[12] (all zero = no image).
 */
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { makeCustomExtension, type ClientState, type CustomExtension, type GroupContextExtension } from "ts-mls";
import { isRelayUrl, normalizeRelayUrl, relayUrlProblem } from "../../shared/relayUrl.js";
import { MarmotError, describeError } from "./errors.js";
import { TlsReader, TlsWriter } from "./tls.js";

export const MARMOT_GROUP_DATA_EXTENSION_TYPE = 0xf2ee;
export const MARMOT_GROUP_DATA_VERSION = 2;

export interface MarmotGroupData {
  /** 2 when written by us; 1 (or a future version) when read from others. */
  version: number;
  /** 32 random bytes; hex(nostrGroupId) is the `h` tag of kind 445 events. Not the MLS group id. */
  nostrGroupId: Uint8Array;
  name: string;
  description: string;
  /** Lowercase hex x-only pubkeys allowed to commit. */
  adminPubkeys: string[];
  /** Relay URLs (shared/relayUrl.ts profile) where the group's kind 445 events are published; kept as written. */
  relays: string[];
  /** Empty, or the SHA-256 of the encrypted image blob (32 bytes). */
  imageHash: Uint8Array;
  /** Empty, or the image's ChaCha20-Poly1305 key (32 bytes). */
  imageKey: Uint8Array;
  /** Empty, or the image's nonce (12 bytes). */
  imageNonce: Uint8Array;
  /** Empty, or the seed of the image's Blossom upload key (32 bytes). */
  imageUploadKey: Uint8Array;
}

export interface NewGroupDataInput {
  name: string;
  description?: string;
  adminPubkeys: string[];
  relays: string[];
}

const HEX_PUBKEY = /^[0-9a-f]{64}$/;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** One spelling per relay (the first one given), so the group's list names each endpoint once. */
function uniqueBySameRelay(relays: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const relay of relays) {
    const key = normalizeRelayUrl(relay) ?? relay;
    if (!seen.has(key)) seen.set(key, relay);
  }
  return [...seen.values()];
}

/** Version-2 group data with a fresh random nostr_group_id and no image. */
export function newGroupData(input: NewGroupDataInput): MarmotGroupData {
  const data: MarmotGroupData = {
    version: MARMOT_GROUP_DATA_VERSION,
    nostrGroupId: randomBytes(32),
    name: input.name,
    description: input.description ?? "",
    adminPubkeys: [...new Set(input.adminPubkeys.map((key) => key.toLowerCase()))],
    relays: uniqueBySameRelay(input.relays),
    imageHash: new Uint8Array(0),
    imageKey: new Uint8Array(0),
    imageNonce: new Uint8Array(0),
    imageUploadKey: new Uint8Array(0),
  };
  validate(data);
  return data;
}

function validate(data: MarmotGroupData): void {
  const fail = (reason: string): never => {
    throw new MarmotError("invalid_group_data", reason);
  };
  if (data.nostrGroupId.length !== 32) fail("nostr_group_id must be 32 bytes");
  for (const key of data.adminPubkeys) if (!HEX_PUBKEY.test(key)) fail(`Invalid admin pubkey: ${key}`);
  if (new Set(data.adminPubkeys).size !== data.adminPubkeys.length) fail("Duplicate admin pubkey");
  for (const relay of data.relays) if (!isRelayUrl(relay)) fail(`Relay URL ${relay.slice(0, 80)} ${relayUrlProblem(relay) ?? "is not valid"}`);
  const sized: Array<[string, Uint8Array, number]> = [
    ["image_hash", data.imageHash, 32],
    ["image_key", data.imageKey, 32],
    ["image_nonce", data.imageNonce, 12],
    ["image_upload_key", data.imageUploadKey, 32],
  ];
  for (const [field, value, size] of sized) {
    if (value.length !== 0 && value.length !== size) fail(`${field} must be empty or ${size} bytes`);
  }
}

/** Encodes version 2 whatever `data.version` says: we never write version 1. */
export function encodeGroupData(data: MarmotGroupData): Uint8Array {
  validate(data);
  const relays = new TlsWriter();
  for (const relay of data.relays) relays.vector(utf8.encode(relay));
  const admins = new Uint8Array(data.adminPubkeys.length * 32);
  data.adminPubkeys.forEach((key, index) => admins.set(hexToBytes(key), index * 32));
  return new TlsWriter()
    .uint16(MARMOT_GROUP_DATA_VERSION)
    .bytes(data.nostrGroupId)
    .vector(utf8.encode(data.name))
    .vector(utf8.encode(data.description))
    .vector(admins)
    .vector(relays.finish())
    .vector(data.imageHash)
    .vector(data.imageKey)
    .vector(data.imageNonce)
    .vector(data.imageUploadKey)
    .finish();
}

/**
 * Decodes versions 1 and 2. Versions above 2 are read with the version-2
 * layout and trailing fields ignored (MIP-01 forward compatibility); known
 * versions must have no trailing bytes.
 */
export function decodeGroupData(bytes: Uint8Array): MarmotGroupData {
  let data: MarmotGroupData;
  try {
    const reader = new TlsReader(bytes);
    const version = reader.uint16();
    if (version === 0) throw new Error("version 0 is not defined");
    data = version === 1 ? readV1(reader) : readV2(reader, version);
    if (version <= MARMOT_GROUP_DATA_VERSION && reader.remaining !== 0) throw new Error(`${reader.remaining} trailing bytes`);
  } catch (error) {
    if (error instanceof MarmotError) throw error;
    throw new MarmotError("invalid_group_data", `Cannot decode marmot_group_data: ${describeError(error)}`, { cause: error });
  }
  validate(data);
  return data;
}

function readV2(reader: TlsReader, version: number): MarmotGroupData {
  const nostrGroupId = reader.take(32);
  const name = utf8Strict.decode(reader.vector());
  const description = utf8Strict.decode(reader.vector());
  const adminBytes = reader.vector();
  if (adminBytes.length % 32 !== 0) throw new Error("admin_pubkeys length is not a multiple of 32");
  const adminPubkeys: string[] = [];
  for (let offset = 0; offset < adminBytes.length; offset += 32) adminPubkeys.push(bytesToHex(adminBytes.subarray(offset, offset + 32)));
  const relayReader = new TlsReader(reader.vector());
  const relays: string[] = [];
  while (relayReader.remaining > 0) relays.push(utf8Strict.decode(relayReader.vector()));
  return {
    version,
    nostrGroupId,
    name,
    description,
    adminPubkeys,
    relays,
    imageHash: reader.vector(),
    imageKey: reader.vector(),
    imageNonce: reader.vector(),
    imageUploadKey: reader.vector(),
  };
}

function readV1(reader: TlsReader): MarmotGroupData {
  const commaList = (raw: Uint8Array): string[] => {
    const text = utf8Strict.decode(raw);
    return text.length === 0 ? [] : text.split(",");
  };
  const zeroAsEmpty = (value: Uint8Array): Uint8Array => (value.every((byte) => byte === 0) ? new Uint8Array(0) : value);
  return {
    version: 1,
    nostrGroupId: reader.take(32),
    name: utf8Strict.decode(reader.vector16()),
    description: utf8Strict.decode(reader.vector16()),
    adminPubkeys: commaList(reader.vector16()).map((key) => key.toLowerCase()),
    relays: commaList(reader.vector16()),
    imageHash: zeroAsEmpty(reader.take(32)),
    imageKey: zeroAsEmpty(reader.take(32)),
    imageNonce: zeroAsEmpty(reader.take(12)),
    imageUploadKey: new Uint8Array(0),
  };
}

export function groupDataExtension(data: MarmotGroupData): CustomExtension {
  return makeCustomExtension({ extensionType: MARMOT_GROUP_DATA_EXTENSION_TYPE, extensionData: encodeGroupData(data) });
}

/** The decoded 0xF2EE extension of a group; `invalid_group_data` when absent or malformed. */
export function readGroupData(source: ClientState | readonly GroupContextExtension[]): MarmotGroupData {
  const extensions = "groupContext" in source ? source.groupContext.extensions : source;
  const extension = extensions.find((ext) => ext.extensionType === MARMOT_GROUP_DATA_EXTENSION_TYPE);
  if (extension === undefined || !(extension.extensionData instanceof Uint8Array)) {
    throw new MarmotError("invalid_group_data", "The group has no marmot_group_data (0xF2EE) extension");
  }
  return decodeGroupData(extension.extensionData);
}

export function nostrGroupIdHex(data: MarmotGroupData): string {
  return bytesToHex(data.nostrGroupId);
}
