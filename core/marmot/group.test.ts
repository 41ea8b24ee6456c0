import assert from "node:assert/strict";
import { before, test } from "node:test";
import { chacha20 } from "@noble/ciphers/chacha.js";
import { expand } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, randomBytes } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import * as nip44 from "nostr-tools/nip44";
import {
  createApplicationMessage,
  createCommit,
  defaultProposalTypes,
  encode,
  mlsMessageEncoder,
  type ClientState,
  type MlsMessage,
} from "ts-mls";
import { getCiphersuite } from "./cryptoProvider.js";
import { MarmotError } from "./errors.js";
import {
  addMembers,
  createGroup,
  deserializeGroupState,
  groupEpoch,
  groupMembers,
  joinFromWelcome,
  marmotAuthService,
  ownPubkey,
  processGroupMessage,
  proposeLeave,
  removeMembers,
  selfUpdate,
  serializeGroupState,
} from "./group.js";
import { nostrGroupIdHex } from "./groupData.js";
import { EpochKeyCache, deriveGroupEventKey, unwrapGroupEvent, wrapGroupMessage } from "./groupEvents.js";
import { legacyConversationKey } from "./legacyNip44.js";
import { generateKeyPackage, keyPackageEventTemplates, parseKeyPackageEvent, type KeyPackageBundle } from "./keyPackage.js";
import { receiveGroupEvent, sendRumor, wrapCommit } from "./messaging.js";
import { generateSecretKey, getPublicKey, initNostrCrypto, signEvent, type NostrEvent } from "./nostrCrypto.js";
import { chatMessageRumor, createRumor, reactionRumor } from "./rumor.js";
import { giftWrap, readWelcome, welcomeRumor } from "./welcome.js";

const relays = ["wss://relay.burrow.test"];

interface Member {
  secretKey: Uint8Array;
  pubkey: string;
  state: ClientState;
  cache: EpochKeyCache;
}

function person() {
  const secretKey = generateSecretKey();
  return { secretKey, pubkey: getPublicKey(secretKey) };
}

function isCode(code: string) {
  return (error: unknown): boolean => error instanceof MarmotError && error.code === code;
}

/** Bob publishes a KeyPackage; Alice invites him from the parsed 443 event; Bob joins from the gift-wrapped Welcome. */
async function aliceInvitesBob(): Promise<{ alice: Member; bob: Member; bobBundle: KeyPackageBundle }> {
  const aliceKeys = person();
  const bobKeys = person();
  const bobBundle = await generateKeyPackage(bobKeys.pubkey);
  const bobEvent = signEvent((await keyPackageEventTemplates(bobBundle.publicPackage, "d0".repeat(32), { relays, client: "Burrow" })).legacy, bobKeys.secretKey);
  const parsed = await parseKeyPackageEvent(bobEvent);

  const created = await createGroup({ creatorPubkey: aliceKeys.pubkey, members: [parsed.keyPackage], name: "Burrow", description: "test", relays });
  assert.ok(created.commit && created.welcome);
  const aliceCache = new EpochKeyCache();
  const commitEvent = await wrapCommit({ ...created, commit: created.commit }, aliceCache);
  assert.equal(commitEvent.kind, 445);
  // Relay accepted the commit: adopt the new state, then send the Welcome.
  const alice: Member = { ...aliceKeys, state: created.state, cache: aliceCache };
  const wrap = giftWrap(
    welcomeRumor(created.welcome, { senderPubkey: alice.pubkey, keyPackageEventId: parsed.event.id, relays: created.groupData.relays }),
    alice.secretKey,
    bobKeys.pubkey,
  );

  const received = readWelcome(wrap, bobKeys.secretKey);
  assert.equal(received.keyPackageEventId, bobEvent.id);
  const joined = await joinFromWelcome(received.welcome, bobBundle, received.sender);
  assert.equal(joined.groupData.name, "Burrow");
  assert.deepEqual(joined.groupData.adminPubkeys, [alice.pubkey]);
  const bob: Member = { ...bobKeys, state: joined.state, cache: new EpochKeyCache() };
  await bob.cache.remember(bob.state);
  return { alice, bob, bobBundle };
}

async function send(from: Member, text: string): Promise<NostrEvent> {
  const { state, event } = await sendRumor(from.state, from.cache, chatMessageRumor(from.pubkey, text));
  from.state = state;
  return event;
}

async function receive(to: Member, event: NostrEvent) {
  const result = await receiveGroupEvent(to.state, to.cache, event);
  to.state = result.state;
  return result;
}

async function commitAndShare(committer: Member, outcome: Awaited<ReturnType<typeof selfUpdate>>, others: Member[]) {
  const event = await wrapCommit(outcome, committer.cache);
  committer.state = outcome.state;
  for (const other of others) {
    const result = await receive(other, event);
    assert.equal(result.kind, "commit");
  }
  return event;
}

before(async () => {
  await initNostrCrypto();
});

test("alice_and_bob_chat_both_ways_through_kind_445_after_a_gift_wrapped_welcome", async () => {
  const { alice, bob } = await aliceInvitesBob();
  assert.equal(groupEpoch(alice.state), 1n);
  assert.equal(groupEpoch(bob.state), 1n);
  assert.deepEqual(groupMembers(bob.state), [alice.pubkey, bob.pubkey]);
  assert.equal(ownPubkey(bob.state), bob.pubkey);

  const hello = await send(alice, "hello bob");
  const data = (await deriveGroupEventKey(alice.state)).nostrGroupId;
  assert.deepEqual(hello.tags, [["h", data]]);
  assert.notEqual(hello.pubkey, alice.pubkey, "signed by a throwaway key");
  const atBob = await receive(bob, hello);
  assert.equal(atBob.kind, "application");
  assert.ok(atBob.kind === "application");
  assert.equal(atBob.rumor.kind, 9);
  assert.equal(atBob.rumor.content, "hello bob");
  assert.equal(atBob.rumor.pubkey, alice.pubkey);
  assert.equal(atBob.sender, alice.pubkey);
  assert.equal(atBob.legacy, false);

  const reply = await send(bob, "hi alice");
  const atAlice = await receive(alice, reply);
  assert.ok(atAlice.kind === "application" && atAlice.rumor.content === "hi alice" && atAlice.sender === bob.pubkey);

  const reaction = await sendRumor(bob.state, bob.cache, reactionRumor(bob.pubkey, atBob.rumor, "🦫"));
  bob.state = reaction.state;
  const reacted = await receive(alice, reaction.event);
  assert.ok(reacted.kind === "application" && reacted.rumor.kind === 7);
  assert.deepEqual(reacted.rumor.tags[0], ["e", atBob.rumor.id]);
});

test("a_message_from_an_older_epoch_still_decrypts_through_the_epoch_cache", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const late = await send(bob, "sent at epoch 1");
  await commitAndShare(alice, await selfUpdate(alice.state), [bob]);
  await commitAndShare(bob, await selfUpdate(bob.state), [alice]);
  assert.equal(groupEpoch(alice.state), 3n);

  const result = await receive(alice, late);
  assert.ok(result.kind === "application");
  assert.equal(result.rumor.content, "sent at epoch 1");
  assert.equal(result.epoch, 1n);
  assert.equal(unwrapGroupEvent(late, alice.cache).keyEpoch, 1n);

  const current = await send(bob, "sent at epoch 3");
  const now = await receive(alice, current);
  assert.ok(now.kind === "application" && now.epoch === 3n);
});

/** The legacy envelope, written the way pre-MIP-03-update clients did: NIP-44 v2 over the raw MLSMessage bytes. */
function legacyContent(message: MlsMessage, exporterNostrSecret: Uint8Array): string {
  const plain = encode(mlsMessageEncoder, message);
  const conversationKey = nip44.getConversationKey(exporterNostrSecret, getPublicKey(exporterNostrSecret));
  assert.deepEqual(conversationKey, legacyConversationKey(exporterNostrSecret));
  const nonce = randomBytes(32);
  const keys = expand(sha256, conversationKey, nonce, 76);
  const padded = new Uint8Array(2 + nip44.v2.utils.calcPaddedLen(plain.length));
  padded[0] = plain.length >> 8;
  padded[1] = plain.length & 0xff;
  padded.set(plain, 2);
  const ciphertext = chacha20(keys.subarray(0, 32), keys.subarray(32, 44), padded);
  const mac = hmac(sha256, keys.subarray(44, 76), concatBytes(nonce, ciphertext));
  return base64.encode(concatBytes(Uint8Array.of(2), nonce, ciphertext, mac));
}

test("the_legacy_nip44_envelope_is_read", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const key = await deriveGroupEventKey(alice.state);
  const encrypted = await createApplicationMessage({
    context: { cipherSuite: await getCiphersuite(), authService: marmotAuthService },
    state: alice.state,
    message: new TextEncoder().encode(JSON.stringify(chatMessageRumor(alice.pubkey, "old format"))),
  });
  alice.state = encrypted.newState;
  const event = signEvent({ kind: 445, created_at: 1, tags: [["h", key.nostrGroupId]], content: legacyContent(encrypted.message, key.legacySecret) }, generateSecretKey());
  const result = await receive(bob, event);
  assert.ok(result.kind === "application");
  assert.equal(result.rumor.content, "old format");
  assert.equal(result.legacy, true);
});

test("a_tampered_or_foreign_445_is_rejected_with_an_error", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const event = await send(alice, "tamper with me");
  const bytes = base64.decode(event.content);
  bytes[40] = (bytes[40] ?? 0) ^ 0x01;
  const tampered = signEvent({ kind: 445, created_at: event.created_at, tags: event.tags, content: base64.encode(bytes) }, generateSecretKey());
  await assert.rejects(receive(bob, tampered), isCode("undecryptable"));
  await assert.rejects(receive(bob, { ...event, content: base64.encode(bytes) }), isCode("bad_signature"));
  const elsewhere = signEvent({ kind: 445, created_at: 1, tags: [["h", "ff".repeat(32)]], content: event.content }, generateSecretKey());
  await assert.rejects(receive(bob, elsewhere), isCode("wrong_group"));
  const garbage = signEvent({ kind: 445, created_at: 1, tags: event.tags, content: "not base64 !!" }, generateSecretKey());
  await assert.rejects(receive(bob, garbage), isCode("undecryptable"));
  // The untouched event still opens afterwards.
  const result = await receive(bob, event);
  assert.ok(result.kind === "application" && result.rumor.content === "tamper with me");
});

test("a_rumor_whose_pubkey_is_not_the_mls_sender_is_rejected", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const impersonation = createRumor({ pubkey: alice.pubkey, kind: 9, content: "I am alice" });
  await assert.rejects(sendRumor(bob.state, bob.cache, impersonation), isCode("identity_mismatch"));
  // Bypass our own check by calling ts-mls directly, as a hostile client would.
  const forged = await createApplicationMessage({
    context: { cipherSuite: await getCiphersuite(), authService: marmotAuthService },
    state: bob.state,
    message: new TextEncoder().encode(JSON.stringify(impersonation)),
  });
  const event = wrapGroupMessage(forged.message, await deriveGroupEventKey(bob.state));
  await assert.rejects(receive(alice, event), isCode("identity_mismatch"));
});

test("state_and_epoch_keys_survive_serialization_and_still_decrypt", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const first = await send(alice, "before restart");
  assert.ok((await receive(bob, first)).kind === "application");
  const early = await send(alice, "sent before a commit, read after restart");
  await commitAndShare(alice, await selfUpdate(alice.state), [bob]);

  const restored: Member = {
    ...bob,
    state: deserializeGroupState(serializeGroupState(bob.state)),
    cache: EpochKeyCache.deserialize(bob.cache.serialize()),
  };
  assert.equal(groupEpoch(restored.state), 2n);
  const afterRestart = await receive(restored, await send(alice, "after restart"));
  assert.ok(afterRestart.kind === "application" && afterRestart.rumor.content === "after restart");
  const older = await receive(restored, early);
  assert.ok(older.kind === "application" && older.epoch === 1n);
  const replyEvent = await send(restored, "restored bob writes");
  const atAlice = await receive(alice, replyEvent);
  assert.ok(atAlice.kind === "application" && atAlice.sender === bob.pubkey);
  assert.throws(() => deserializeGroupState(new Uint8Array([1, 2, 3])), isCode("corrupt_storage"));
});

test("only_admins_commit_but_anyone_may_self_update", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const carol = person();
  const carolBundle = await generateKeyPackage(carol.pubkey);
  await assert.rejects(addMembers(bob.state, [carolBundle.publicPackage]), isCode("not_allowed"));

  // A hostile non-admin commit (removing the admin), made with ts-mls directly, is refused by Alice.
  const hostile = await createCommit({
    context: { cipherSuite: await getCiphersuite(), authService: marmotAuthService },
    state: bob.state,
    extraProposals: [{ proposalType: defaultProposalTypes.remove, remove: { removed: 0 } }],
    ratchetTreeExtension: true,
  });
  const hostileEvent = wrapGroupMessage(hostile.commit, await deriveGroupEventKey(bob.state));
  await assert.rejects(receive(alice, hostileEvent), isCode("not_allowed"));
  assert.equal(groupEpoch(alice.state), 1n);

  const update = await commitAndShare(bob, await selfUpdate(bob.state), [alice]);
  assert.equal(groupEpoch(alice.state), 2n);
  const skipped = await processGroupMessage(alice.state, unwrapGroupEvent(update, alice.cache).message);
  assert.equal(skipped.kind, "skipped", "a commit of a past epoch is skipped, not re-applied");
});

test("admin_adds_and_removes_members_and_everyone_follows", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const carolKeys = person();
  const carolBundle = await generateKeyPackage(carolKeys.pubkey);
  const added = await addMembers(alice.state, [carolBundle.publicPackage]);
  assert.ok(added.welcome);
  const addEvent = await wrapCommit(added, alice.cache);
  alice.state = added.state;
  const atBob = await receive(bob, addEvent);
  assert.ok(atBob.kind === "commit");
  assert.deepEqual(atBob.added, [carolKeys.pubkey]);
  assert.equal(atBob.sender, alice.pubkey);
  const carolJoined = await joinFromWelcome(added.welcome, carolBundle, alice.pubkey);
  const carol: Member = { ...carolKeys, state: carolJoined.state, cache: new EpochKeyCache() };
  assert.equal(groupEpoch(carol.state), 2n);

  const toAll = await send(carol, "hi all");
  for (const member of [alice, bob]) {
    const result = await receive(member, toAll);
    assert.ok(result.kind === "application" && result.sender === carol.pubkey);
  }

  const removal = await removeMembers(alice.state, [bob.pubkey]);
  const removeEvent = await wrapCommit(removal, alice.cache);
  alice.state = removal.state;
  const atCarol = await receive(carol, removeEvent);
  assert.ok(atCarol.kind === "commit" && atCarol.removed[0] === bob.pubkey && !atCarol.removedUs);
  const atRemoved = await receive(bob, removeEvent);
  assert.ok(atRemoved.kind === "commit" && atRemoved.removedUs);
  assert.deepEqual(groupMembers(carol.state), [alice.pubkey, carol.pubkey]);
  await assert.rejects(removeMembers(alice.state, [alice.pubkey]), isCode("not_allowed"));
});

test("a_member_leaves_by_proposal_and_the_admins_next_commit_applies_it", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const carolKeys = person();
  const carolBundle = await generateKeyPackage(carolKeys.pubkey);
  const added = await addMembers(alice.state, [carolBundle.publicPackage]);
  assert.ok(added.welcome);
  await commitAndShare(alice, { ...added, welcome: undefined }, [bob]);
  const carol: Member = { ...carolKeys, state: (await joinFromWelcome(added.welcome, carolBundle)).state, cache: new EpochKeyCache() };

  const leave = await proposeLeave(bob.state);
  bob.state = leave.state;
  const leaveEvent = wrapGroupMessage(leave.message, await deriveGroupEventKey(bob.state));
  for (const member of [alice, carol]) {
    const result = await receive(member, leaveEvent);
    assert.ok(result.kind === "proposal" && result.sender === bob.pubkey && result.proposalType === defaultProposalTypes.remove);
  }
  // A non-admin's self-update must not sweep up Bob's pending proposal.
  const carolUpdate = await selfUpdate(carol.state);
  assert.deepEqual(groupMembers(carolUpdate.state), [alice.pubkey, bob.pubkey, carol.pubkey]);
  // The admin's next commit does, and everyone agrees on it.
  const aliceUpdate = await selfUpdate(alice.state);
  assert.deepEqual(groupMembers(aliceUpdate.state), [alice.pubkey, carol.pubkey]);
  const event = await wrapCommit(aliceUpdate, alice.cache);
  alice.state = aliceUpdate.state;
  const atCarol = await receive(carol, event);
  assert.ok(atCarol.kind === "commit" && atCarol.removed[0] === bob.pubkey);
  const atBob = await receive(bob, event);
  assert.ok(atBob.kind === "commit" && atBob.removedUs);
});

test("own_echoes_are_skipped_and_future_epoch_messages_fail_with_typed_errors", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const echo = await send(alice, "mine");
  const skipped = await receive(alice, echo);
  assert.ok(skipped.kind === "skipped" && skipped.reason === "own_message");
  const leave = await proposeLeave(bob.state);
  const ownProposal = await processGroupMessage(leave.state, leave.message);
  assert.ok(ownProposal.kind === "skipped" && ownProposal.reason === "own_message");
  const outcome = await selfUpdate(alice.state);
  const commitEvent = await wrapCommit(outcome, alice.cache);
  alice.state = outcome.state;
  const ahead = await send(alice, "epoch 2");
  await assert.rejects(receive(bob, ahead), (error: unknown) => isCode("undecryptable")(error) || isCode("future_epoch")(error));
  assert.equal((await receive(bob, commitEvent)).kind, "commit");
  assert.ok((await receive(bob, ahead)).kind === "application");
  const oldEcho = await receive(alice, echo);
  assert.ok(oldEcho.kind === "skipped" && oldEcho.reason === "own_message", "an own message of a past epoch too");
});

test("a_received_message_names_its_sender_and_message_number_also_out_of_order_and_from_a_past_epoch", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const events = [await send(alice, "zero"), await send(alice, "one"), await send(alice, "two")];
  const late = await send(alice, "three, read after a commit");
  for (const index of [2, 0, 1]) {
    const result = await receive(bob, events[index]!);
    assert.ok(result.kind === "application");
    assert.equal(result.sender, alice.pubkey);
    assert.equal(result.generation, index);
    assert.equal(result.epoch, 1n);
  }
  const outcome = await selfUpdate(bob.state);
  await commitAndShare(bob, outcome, [alice]);
  const past = await receive(bob, late);
  assert.ok(past.kind === "application" && past.sender === alice.pubkey && past.generation === 3 && past.epoch === 1n);
  const reply = await receive(alice, await send(bob, "from bob in epoch 2"));
  assert.ok(reply.kind === "application" && reply.sender === bob.pubkey && reply.generation === 0 && reply.epoch === 2n);
});

test("the_join_checks_the_welcome_against_our_key_package_and_the_inviter", async () => {
  const alice = person();
  const bob = person();
  const bobBundle = await generateKeyPackage(bob.pubkey);
  const otherBundle = await generateKeyPackage(bob.pubkey);
  const created = await createGroup({ creatorPubkey: alice.pubkey, members: [bobBundle.publicPackage], name: "g", relays });
  assert.ok(created.welcome);
  await assert.rejects(joinFromWelcome(created.welcome, otherBundle), isCode("invalid_welcome"));
  await assert.rejects(joinFromWelcome(created.welcome, bobBundle, person().pubkey), isCode("identity_mismatch"));
  const joined = await joinFromWelcome(created.welcome, bobBundle, alice.pubkey);
  assert.equal(nostrGroupIdHex(joined.groupData), nostrGroupIdHex(created.groupData));
});

test("prints_throughput_of_500_messages_through_kind_445", async () => {
  const { alice, bob } = await aliceInvitesBob();
  const rounds = 500;
  const text = "x".repeat(100);
  const events: NostrEvent[] = [];
  let started = performance.now();
  for (let index = 0; index < rounds; index++) events.push(await send(alice, text));
  const sendRate = rounds / ((performance.now() - started) / 1000);
  started = performance.now();
  for (const event of events) {
    const result = await receive(bob, event);
    assert.equal(result.kind, "application");
  }
  const receiveRate = rounds / ((performance.now() - started) / 1000);
  const sample = events[0];
  assert.ok(sample);
  console.log(
    `kind 445 pipeline, ${rounds} messages of 100 chars: encrypt+wrap+sign ${sendRate.toFixed(0)}/s, ` +
      `verify+unwrap+decrypt ${receiveRate.toFixed(0)}/s; event ${JSON.stringify(sample).length} B`,
  );
});
