import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { MarmotError } from "./errors.js";
import { decodeGroupData, encodeGroupData, newGroupData, type MarmotGroupData } from "./groupData.js";

const ascii = (text: string): string => bytesToHex(new TextEncoder().encode(text));
const groupId = Array.from({ length: 32 }, (_, index) => (index + 1).toString(16).padStart(2, "0")).join("");
const admin = "aa".repeat(32);

function sample(overrides: Partial<MarmotGroupData> = {}): MarmotGroupData {
  return {
    version: 2,
    nostrGroupId: hexToBytes(groupId),
    name: "Burrow",
    description: "",
    adminPubkeys: [admin],
    relays: ["wss://r.x"],
    imageHash: new Uint8Array(0),
    imageKey: new Uint8Array(0),
    imageNonce: new Uint8Array(0),
    imageUploadKey: new Uint8Array(0),
    ...overrides,
  };
}

const isGroupDataError = (error: unknown): boolean => error instanceof MarmotError && error.code === "invalid_group_data";

test("v2_encoding_matches_a_vector_derived_by_hand_from_the_spec", () => {
  const expected =
    "0002" + // uint16 version = 2
    groupId + // nostr_group_id[32]
    "06" + ascii("Burrow") + // name: varint 6
    "00" + // description: empty
    "20" + admin + // admin_pubkeys: varint 32, one raw key
    "0a" + "09" + ascii("wss://r.x") + // relays: outer varint 10 = inner varint 9 + 9 bytes
    "00" + "00" + "00" + "00"; // image_hash, image_key, image_nonce, image_upload_key: empty
  assert.equal(bytesToHex(encodeGroupData(sample())), expected);
  const decoded = decodeGroupData(hexToBytes(expected));
  assert.deepEqual({ ...decoded, nostrGroupId: bytesToHex(decoded.nostrGroupId) }, { ...sample(), nostrGroupId: groupId });
});

test("v2_uses_two_byte_varints_from_64_bytes_and_fixed_image_fields", () => {
  const description = "d".repeat(64);
  const image = sample({
    description,
    imageHash: new Uint8Array(32).fill(1),
    imageKey: new Uint8Array(32).fill(2),
    imageNonce: new Uint8Array(12).fill(3),
    imageUploadKey: new Uint8Array(32).fill(4),
  });
  const expected =
    "0002" +
    groupId +
    "06" + ascii("Burrow") +
    "4040" + ascii(description) + // varint 64 = 0b01 prefix, 0x0040
    "20" + admin +
    "0a" + "09" + ascii("wss://r.x") +
    "20" + "01".repeat(32) +
    "20" + "02".repeat(32) +
    "0c" + "03".repeat(12) +
    "20" + "04".repeat(32);
  const encoded = encodeGroupData(image);
  assert.equal(bytesToHex(encoded), expected);
  assert.deepEqual(decodeGroupData(encoded), image);
});

test("round_trips_several_admins_relays_and_unicode", () => {
  const data = newGroupData({
    name: "Bürö 🦫",
    description: "x".repeat(20_000),
    adminPubkeys: ["AB".repeat(32), "cd".repeat(32), "ab".repeat(32)],
    relays: ["wss://one.example", "ws://127.0.0.1:7777", "wss://one.example"],
  });
  assert.equal(data.version, 2);
  assert.equal(data.nostrGroupId.length, 32);
  assert.deepEqual(data.adminPubkeys, ["ab".repeat(32), "cd".repeat(32)]);
  assert.deepEqual(data.relays, ["wss://one.example", "ws://127.0.0.1:7777"]);
  const encoded = encodeGroupData(data);
  assert.equal((encoded[2 + 32 + 1 + new TextEncoder().encode(data.name).length] ?? 0) & 0xc0, 0x80, "20,000-byte description uses a 4-byte varint");
  assert.deepEqual(decodeGroupData(encoded), data);
  assert.notDeepEqual(newGroupData({ name: "", adminPubkeys: [], relays: [] }).nostrGroupId, data.nostrGroupId);
});

test("decodes_version_1_with_uint16_prefixes_and_comma_lists", () => {
  const admins = `${admin},${"bb".repeat(32)}`;
  const relays = "wss://r.x,wss://s.y";
  const v1 =
    "0001" +
    groupId +
    "0006" + ascii("Burrow") +
    "0000" +
    (admins.length).toString(16).padStart(4, "0") + ascii(admins) +
    (relays.length).toString(16).padStart(4, "0") + ascii(relays) +
    "00".repeat(32) + "00".repeat(32) + "00".repeat(12);
  const decoded = decodeGroupData(hexToBytes(v1));
  assert.equal(decoded.version, 1);
  assert.equal(bytesToHex(decoded.nostrGroupId), groupId);
  assert.equal(decoded.name, "Burrow");
  assert.deepEqual(decoded.adminPubkeys, [admin, "bb".repeat(32)]);
  assert.deepEqual(decoded.relays, ["wss://r.x", "wss://s.y"]);
  assert.equal(decoded.imageHash.length, 0, "all-zero v1 image fields mean no image");
  // We never write v1: re-encoding gives v2.
  assert.equal(bytesToHex(encodeGroupData(decoded)).slice(0, 4), "0002");
});

test("a_future_version_is_read_with_the_v2_layout_ignoring_extra_fields", () => {
  const v3 = "0003" + bytesToHex(encodeGroupData(sample())).slice(4) + "05" + "0102030405";
  const decoded = decodeGroupData(hexToBytes(v3));
  assert.equal(decoded.version, 3);
  assert.equal(decoded.name, "Burrow");
});

test("rejects_malformed_group_data_with_a_typed_error", () => {
  const good = bytesToHex(encodeGroupData(sample()));
  const cases: Record<string, string> = {
    empty: "",
    "version 0": "0000" + good.slice(4),
    truncated: good.slice(0, good.length - 2),
    "trailing byte": good + "00",
    "admin key not 32 bytes": "0002" + groupId + "00" + "00" + "05" + "0102030405" + "00" + "00000000",
    "relay not a websocket url": "0002" + groupId + "00" + "00" + "00" + "0a09" + ascii("https://x") + "00000000",
    "image hash of 5 bytes": "0002" + groupId + "00" + "00" + "00" + "00" + "05" + "0102030405" + "000000",
    "varint prefix 0b11": "0002" + groupId + "c0",
    "invalid utf-8 name": "0002" + groupId + "01ff" + "00" + "00" + "00" + "00000000",
  };
  for (const [name, hex] of Object.entries(cases)) {
    assert.throws(() => decodeGroupData(hexToBytes(hex)), isGroupDataError, name);
  }
  assert.throws(() => encodeGroupData(sample({ adminPubkeys: ["xyz"] })), isGroupDataError);
  assert.throws(() => encodeGroupData(sample({ nostrGroupId: new Uint8Array(31) })), isGroupDataError);
  assert.throws(() => newGroupData({ name: "g", adminPubkeys: [], relays: ["http://x"] }), isGroupDataError);
});
