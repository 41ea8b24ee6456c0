import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { base64 } from "@scure/base";
import { encode, mlsExporter, mlsMessageEncoder, type ClientState } from "ts-mls";
import { getCiphersuite } from "./cryptoProvider.js";
import { MarmotError } from "./errors.js";
import { createGroup, encryptRumor, selfUpdate } from "./group.js";
import { EpochKeyCache, compareCommitEvents, deriveGroupEventKey, groupEventGroupId, unwrapGroupEvent, wrapGroupMessage, type GroupEventKey } from "./groupEvents.js";
import { generateSecretKey, getPublicKey, signEvent, verifySignature } from "./nostrCrypto.js";
import { chatMessageRumor } from "./rumor.js";

async function soloGroup(): Promise<{ state: ClientState; pubkey: string }> {
  const pubkey = getPublicKey(generateSecretKey());
  const created = await createGroup({ creatorPubkey: pubkey, members: [], name: "solo", relays: ["wss://r.x"] });
  return { state: created.state, pubkey };
}

test("content_is_base64_of_nonce_and_chacha20poly1305_under_the_marmot_exporter_key", async () => {
  const { state, pubkey } = await soloGroup();
  const key = await deriveGroupEventKey(state);
  const expectedKey = await mlsExporter(state.keySchedule.exporterSecret, "marmot", new TextEncoder().encode("group-event"), 32, await getCiphersuite());
  assert.deepEqual(key.key, expectedKey);

  const { message } = await encryptRumor(state, chatMessageRumor(pubkey, "hi"));
  const event = wrapGroupMessage(message, key, 1_700_000_000);
  assert.equal(event.kind, 445);
  assert.equal(event.created_at, 1_700_000_000);
  assert.deepEqual(event.tags, [["h", key.nostrGroupId]]);
  assert.ok(verifySignature(event));
  assert.notEqual(event.pubkey, pubkey);
  const payload = base64.decode(event.content);
  const plain = chacha20poly1305(expectedKey, payload.subarray(0, 12), new Uint8Array(0)).decrypt(payload.subarray(12));
  assert.deepEqual(plain, encode(mlsMessageEncoder, message));

  const another = wrapGroupMessage(message, key);
  assert.notEqual(another.pubkey, event.pubkey, "a fresh signing key per event");
  assert.notEqual(another.content.slice(0, 16), event.content.slice(0, 16), "a fresh nonce per event");
});

test("cache_keeps_the_newest_epochs_and_replaces_a_rewritten_epoch", () => {
  const key = (epoch: number, fill: number): GroupEventKey => ({
    epoch: BigInt(epoch),
    nostrGroupId: "ab".repeat(32),
    key: new Uint8Array(32).fill(fill),
    legacySecret: new Uint8Array(32).fill(fill + 1),
  });
  const cache = new EpochKeyCache(3);
  for (const epoch of [4, 1, 2, 3, 5]) cache.put(key(epoch, epoch));
  assert.deepEqual(
    cache.list().map((k) => k.epoch),
    [5n, 4n, 3n],
  );
  cache.put(key(4, 40));
  assert.equal(cache.get(4n)?.key[0], 40);
  const restored = EpochKeyCache.deserialize(cache.serialize(), 3);
  assert.deepEqual(restored.list(), cache.list());
  assert.throws(() => EpochKeyCache.deserialize(new Uint8Array([2, 0, 0])), (error: unknown) => error instanceof MarmotError && error.code === "corrupt_storage");
  assert.throws(() => new EpochKeyCache(0), RangeError);
});

test("a_commit_is_opened_with_the_key_of_the_epoch_before_it", async () => {
  const { state } = await soloGroup();
  const cache = new EpochKeyCache();
  const before = await cache.remember(state);
  const outcome = await selfUpdate(state);
  await cache.remember(outcome.state);
  const event = wrapGroupMessage(outcome.commit, before);
  assert.equal(unwrapGroupEvent(event, cache).keyEpoch, state.groupContext.epoch);
});

test("commit_race_order_is_earliest_created_at_then_smallest_id", () => {
  const events = [
    { created_at: 10, id: "bb" },
    { created_at: 9, id: "ff" },
    { created_at: 10, id: "aa" },
  ];
  assert.deepEqual(
    [...events].sort(compareCommitEvents).map((event) => event.id),
    ["ff", "aa", "bb"],
  );
});

describe("unit: group event tags", () => {
  const invalidWith = (message: RegExp) => (error: unknown) => error instanceof MarmotError && error.code === "invalid_event" && message.test(String(error));

  test("two_h_tags_on_a_445_are_rejected", async () => {
    const { state, pubkey } = await soloGroup();
    const cache = new EpochKeyCache();
    const key = await cache.remember(state);
    const { message } = await encryptRumor(state, chatMessageRumor(pubkey, "hi"));
    const event = wrapGroupMessage(message, key);
    assert.equal(groupEventGroupId(event), key.nostrGroupId);
    // Re-signed with the second h, so only the tag check can refuse it.
    const doubled = signEvent({ kind: 445, created_at: event.created_at, content: event.content, tags: [["h", key.nostrGroupId], ["h", key.nostrGroupId]] }, generateSecretKey());
    assert.throws(() => groupEventGroupId(doubled), invalidWith(/2 h tags/));
    assert.throws(() => unwrapGroupEvent(doubled, cache), invalidWith(/2 h tags/));
  });

  test("a_missing_extra_valued_or_non_hex_h_is_rejected", () => {
    const event = (tags: string[][]) => ({ id: "ab".repeat(32), tags });
    assert.throws(() => groupEventGroupId(event([])), invalidWith(/missing h tag/));
    assert.throws(() => groupEventGroupId(event([["h", "ab".repeat(32), "extra"]])), invalidWith(/exactly one non-empty value, has 2/));
    assert.throws(() => groupEventGroupId(event([["h", "AB".repeat(32)]])), invalidWith(/lowercase hex/));
  });
});
