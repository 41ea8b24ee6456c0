import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encode, mlsMessageEncoder, type KeyPackage } from "ts-mls";
import { MarmotError } from "./errors.js";
import { createGroup } from "./group.js";
import { generateKeyPackage, keyPackageRef } from "./keyPackage.js";
import { generateSecretKey, getPublicKey, signEvent } from "./nostrCrypto.js";
import { createRumor } from "./rumor.js";
import { NIP44_MAX_PLAINTEXT, giftWrap, giftWrapSizes, parseWelcomeRumor, readWelcome, unwrapGiftWrap, welcomeKeyPackageRefs, welcomeRumor } from "./welcome.js";
import * as nip44 from "nostr-tools/nip44";

const relays = ["wss://relay.one"];

function isCode(code: string) {
  return (error: unknown): boolean => error instanceof MarmotError && error.code === code;
}

function person() {
  const secretKey = generateSecretKey();
  return { secretKey, pubkey: getPublicKey(secretKey) };
}

async function memberKeyPackages(count: number): Promise<KeyPackage[]> {
  return Promise.all(Array.from({ length: count }, async () => (await generateKeyPackage(person().pubkey)).publicPackage));
}

test("gift_wrapped_welcome_opens_with_its_real_sender_and_tags", async () => {
  const alice = person();
  const bob = person();
  const members = await memberKeyPackages(1);
  const created = await createGroup({ creatorPubkey: alice.pubkey, members, name: "g", relays });
  assert.ok(created.welcome && members[0]);
  assert.deepEqual(welcomeKeyPackageRefs(created.welcome), [await keyPackageRef(members[0])]);
  const rumor = welcomeRumor(created.welcome, { senderPubkey: alice.pubkey, keyPackageEventId: "ee".repeat(32), relays });
  assert.equal(rumor.kind, 444);
  assert.deepEqual(rumor.tags, [["e", "ee".repeat(32)], ["relays", ...relays], ["encoding", "base64"]]);

  const wrap = giftWrap(rumor, alice.secretKey, bob.pubkey);
  assert.equal(wrap.kind, 1059);
  assert.deepEqual(wrap.tags, [["p", bob.pubkey]]);
  assert.notEqual(wrap.pubkey, alice.pubkey);
  assert.ok(wrap.created_at <= Math.floor(Date.now() / 1000));

  const received = readWelcome(wrap, bob.secretKey);
  assert.equal(received.sender, alice.pubkey);
  assert.equal(received.keyPackageEventId, "ee".repeat(32));
  assert.deepEqual(received.relays, relays);
  assert.equal(received.giftWrapId, wrap.id);
  assert.deepEqual(encode(mlsMessageEncoder, received.welcome), encode(mlsMessageEncoder, created.welcome));
});

test("unwrap_rejects_foreign_tampered_and_impersonating_wraps", () => {
  const alice = person();
  const bob = person();
  const mallory = person();
  const rumor = createRumor({ pubkey: alice.pubkey, kind: 444, content: "", tags: [["encoding", "base64"]] });
  const wrap = giftWrap(rumor, alice.secretKey, bob.pubkey);
  assert.throws(() => unwrapGiftWrap(wrap, mallory.secretKey), isCode("undecryptable"));
  assert.throws(() => unwrapGiftWrap({ ...wrap, content: `x${wrap.content.slice(1)}` }, bob.secretKey), isCode("bad_signature"));
  assert.throws(() => unwrapGiftWrap({ ...wrap, kind: 1 }, bob.secretKey), isCode("invalid_event"));
  assert.throws(() => giftWrap(rumor, mallory.secretKey, bob.pubkey), isCode("identity_mismatch"));

  // Mallory seals a rumor that claims to be Alice's: the seal signer gives it away.
  const seal = signEvent(
    { kind: 13, created_at: 1, tags: [], content: nip44.encrypt(JSON.stringify(rumor), nip44.getConversationKey(mallory.secretKey, bob.pubkey)) },
    mallory.secretKey,
  );
  const throwaway = generateSecretKey();
  const forged = signEvent(
    { kind: 1059, created_at: 1, tags: [["p", bob.pubkey]], content: nip44.encrypt(JSON.stringify(seal), nip44.getConversationKey(throwaway, bob.pubkey)) },
    throwaway,
  );
  assert.throws(() => unwrapGiftWrap(forged, bob.secretKey), isCode("identity_mismatch"));
});

test("welcome_rumor_must_be_base64_mls_welcome", () => {
  const alice = person();
  assert.throws(() => parseWelcomeRumor(createRumor({ pubkey: alice.pubkey, kind: 444, content: "00", tags: [["encoding", "hex"]] })), isCode("invalid_welcome"));
  assert.throws(() => parseWelcomeRumor(createRumor({ pubkey: alice.pubkey, kind: 444, content: "AAAA", tags: [["e", "ee".repeat(32)], ["relays", ...relays], ["encoding", "base64"]] })), (error: unknown) => isCode("invalid_welcome")(error) && /not an MLSMessage|does not decode/.test(String(error)));
  assert.throws(() => parseWelcomeRumor(createRumor({ pubkey: alice.pubkey, kind: 9, content: "", tags: [] })), isCode("invalid_welcome"));
});

test("an_add_whose_welcome_cannot_be_gift_wrapped_fails_before_any_commit_is_returned", async () => {
  const alice = person();
  const small = await createGroup({ creatorPubkey: alice.pubkey, members: await memberKeyPackages(20), name: "g", relays });
  assert.ok(small.welcome);
  const sizes = giftWrapSizes(welcomeRumor(small.welcome, { senderPubkey: alice.pubkey, keyPackageEventId: "00".repeat(32), relays }));
  const welcomeBytes = encode(mlsMessageEncoder, small.welcome).length;
  const perMember = welcomeBytes / 20;
  console.log(
    `Welcome for 20 members: ${welcomeBytes} B MLS (${perMember.toFixed(0)} B/member), rumor JSON ${sizes.rumor} B, seal JSON ${sizes.seal} B ` +
      `of ${NIP44_MAX_PLAINTEXT}; about ${Math.floor((NIP44_MAX_PLAINTEXT / sizes.seal) * 20)} members fit one Welcome`,
  );
  await assert.rejects(
    createGroup({ creatorPubkey: alice.pubkey, members: await memberKeyPackages(120), name: "g", relays }),
    (error: unknown) => isCode("welcome_too_large")(error) && /120 new member/.test(String(error)),
  );
});

describe("unit: welcome tags", () => {
  async function welcomeTags(): Promise<{ pubkey: string; content: string; tags: string[][] }> {
    const alice = person();
    const created = await createGroup({ creatorPubkey: alice.pubkey, members: await memberKeyPackages(1), name: "g", relays });
    assert.ok(created.welcome);
    const rumor = welcomeRumor(created.welcome, { senderPubkey: alice.pubkey, keyPackageEventId: "ee".repeat(32), relays });
    return { pubkey: alice.pubkey, content: rumor.content, tags: rumor.tags };
  }
  const parse = (base: { pubkey: string; content: string }, tags: string[][]) => () => parseWelcomeRumor(createRumor({ ...base, kind: 444, tags }));
  const invalidWith = (message: RegExp) => (error: unknown) => isCode("invalid_welcome")(error) && message.test(String(error));

  test("two_e_tags_on_a_444_are_rejected", async () => {
    const welcome = await welcomeTags();
    assert.throws(parse(welcome, [...welcome.tags, ["e", "ff".repeat(32)]]), invalidWith(/2 e tags/));
  });

  test("a_missing_extra_valued_or_malformed_e_tag_is_rejected", async () => {
    const welcome = await welcomeTags();
    assert.throws(parse(welcome, welcome.tags.filter((tag) => tag[0] !== "e")), invalidWith(/missing e tag/));
    assert.throws(parse(welcome, welcome.tags.map((tag) => (tag[0] === "e" ? ["e", "ee".repeat(32), "wss://hint"] : tag))), invalidWith(/e tag must have exactly one/));
    assert.throws(parse(welcome, welcome.tags.map((tag) => (tag[0] === "e" ? ["e", "EE".repeat(32)] : tag))), invalidWith(/not a 64-character lowercase hex/));
  });

  test("repeated_encoding_or_relays_tags_on_a_444_are_rejected", async () => {
    const welcome = await welcomeTags();
    assert.throws(parse(welcome, [...welcome.tags, ["encoding", "base64"]]), invalidWith(/2 encoding tags/));
    assert.throws(parse(welcome, [...welcome.tags, ["relays", "wss://relay.two"]]), invalidWith(/2 relays tags/));
    assert.equal(parse(welcome, welcome.tags)().keyPackageEventId, "ee".repeat(32));
  });
});
