// Removals and UpdatePaths between Burrow (ts-mls with patches/ts-mls+2.0.0-rc.10.patch) and another
// v1 client on unpatched ts-mls 2.0.0-rc.10 (the `ts-mls-unpatched` alias). Messages cross between
// the two libraries only as MLSMessage bytes, as they do on the wire.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createCommit, decode, defaultProposalTypes, encode, mlsMessageDecoder, mlsMessageEncoder, nodeTypes, wireformats, type ClientState, type MlsMessage } from "ts-mls";
import { getCiphersuite } from "./cryptoProvider.js";
import * as unpatched from "ts-mls-unpatched";
import { MarmotError } from "./errors.js";
import {
  createGroup,
  encryptRumor,
  groupEpoch,
  groupMembers,
  joinFromWelcome,
  marmotAuthService,
  processGroupMessage,
  proposeLeave,
  removeMembers,
  addMembers,
  removeMembersAndUpdateGroupData,
  updateGroupData,
  type CommitOutcome,
  type ProcessedMessage,
} from "./group.js";
import { readGroupData } from "./groupData.js";
import { credentialPubkey, generateKeyPackage, type KeyPackageBundle } from "./keyPackage.js";
import { generateSecretKey, getPublicKey } from "./nostrCrypto.js";
import { chatMessageRumor, parseRumor, serializeRumor } from "./rumor.js";

type UnpatchedState = Awaited<ReturnType<typeof unpatched.joinGroup>>;
type UnpatchedMessage = NonNullable<ReturnType<typeof unpatched.decode<unpatched.MlsMessage>>>;

const relays = ["wss://relay.burrow.test"];

/** A member on Burrow's group.ts (patched ts-mls). */
interface Patched {
  kind: "patched";
  pubkey: string;
  bundle: KeyPackageBundle;
  state: ClientState;
}

/** Another v1 client: raw unpatched ts-mls 2.0.0-rc.10 APIs, no Burrow code. */
interface Unpatched {
  kind: "unpatched";
  pubkey: string;
  bundle: KeyPackageBundle;
  state: UnpatchedState;
}

type Member = Patched | Unpatched;

async function unpatchedContext(): Promise<unpatched.MlsContext> {
  return { cipherSuite: await unpatched.getCiphersuiteImpl("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"), authService: marmotAuthService };
}

const toBytes = (message: MlsMessage): Uint8Array => encode(mlsMessageEncoder, message);
const fromUnpatched = (message: unpatched.MlsMessage): Uint8Array => unpatched.encode(unpatched.mlsMessageEncoder, message);

function asPatched(bytes: Uint8Array): MlsMessage {
  const message = decode(mlsMessageDecoder, bytes);
  assert.ok(message);
  return message;
}

function asUnpatched(bytes: Uint8Array): UnpatchedMessage {
  const message = unpatched.decode(unpatched.mlsMessageDecoder, bytes);
  assert.ok(message);
  return message;
}

function framedUnpatched(bytes: Uint8Array): unpatched.MlsFramedMessage {
  const message = asUnpatched(bytes);
  assert.ok(message.wireformat === unpatched.wireformats.mls_private_message || message.wireformat === unpatched.wireformats.mls_public_message);
  return message as unpatched.MlsFramedMessage;
}

async function person(): Promise<{ pubkey: string; bundle: KeyPackageBundle }> {
  const pubkey = getPublicKey(generateSecretKey());
  return { pubkey, bundle: await generateKeyPackage(pubkey) };
}

/** Alice (Burrow, admin) creates a group with `others` in leaf order after her; the unpatched ones are admins too. */
async function group(others: Array<"patched" | "unpatched">): Promise<{ alice: Patched; members: Member[] }> {
  const alicePerson = await person();
  const people = await Promise.all(others.map(() => person()));
  const admins = people.filter((_, i) => others[i] === "unpatched").map((p) => p.pubkey);
  const created = await createGroup({
    creatorPubkey: alicePerson.pubkey,
    creatorKeyPackage: alicePerson.bundle,
    members: people.map((p) => p.bundle.publicPackage),
    name: "Removal",
    relays,
    adminPubkeys: admins,
  });
  assert.ok(created.welcome);
  const welcomeBytes = toBytes(created.welcome);
  const alice: Patched = { kind: "patched", ...alicePerson, state: created.state };
  const members: Member[] = [];
  for (const [i, p] of people.entries()) {
    if (others[i] === "patched") {
      const welcome = asPatched(welcomeBytes);
      assert.ok("welcome" in welcome);
      members.push({ kind: "patched", ...p, state: (await joinFromWelcome(welcome, p.bundle, alice.pubkey)).state });
    } else {
      const welcome = asUnpatched(welcomeBytes);
      assert.ok("welcome" in welcome);
      const state = await unpatched.joinGroup({
        context: await unpatchedContext(),
        welcome: welcome.welcome,
        keyPackage: p.bundle.publicPackage as unknown as unpatched.KeyPackage,
        privateKeys: p.bundle.privatePackage,
      });
      members.push({ kind: "unpatched", ...p, state });
    }
  }
  return { alice, members };
}

/** A commit made by unpatched ts-mls, as another v1 client's admin makes it. */
async function unpatchedCommit(by: Unpatched, proposals: unpatched.Proposal[]): Promise<Uint8Array> {
  const result = await unpatched.createCommit({
    context: await unpatchedContext(),
    state: by.state,
    extraProposals: proposals,
    ratchetTreeExtension: true,
    wireAsPublicMessage: false,
  });
  by.state = result.newState;
  return fromUnpatched(result.commit);
}

/** The leaf index of `pubkey` (blank leaves count: leaf indexes do not shift on removal). */
function leafOf(state: { ratchetTree: ClientState["ratchetTree"] }, pubkey: string): number {
  const nodeIndex = state.ratchetTree.findIndex((node) => node?.nodeType === nodeTypes.leaf && credentialPubkey(node.leaf.credential) === pubkey);
  assert.ok(nodeIndex >= 0, "is a member");
  return nodeIndex / 2;
}

/** Our commit, adopted by us, as bytes for the others. */
function adopt(alice: Patched, outcome: CommitOutcome): Uint8Array {
  alice.state = outcome.state;
  return toBytes(outcome.commit);
}

async function receiveAt(member: Member, bytes: Uint8Array): Promise<ProcessedMessage | "applied"> {
  if (member.kind === "patched") {
    const result = await processGroupMessage(member.state, asPatched(bytes));
    member.state = result.state;
    return result;
  }
  const message = framedUnpatched(bytes);
  const result = await unpatched.processMessage({ context: await unpatchedContext(), state: member.state, message });
  member.state = result.newState;
  return "applied";
}

async function say(from: Member, text: string): Promise<Uint8Array> {
  const rumor = chatMessageRumor(from.pubkey, text);
  if (from.kind === "patched") {
    const sent = await encryptRumor(from.state, rumor);
    from.state = sent.state;
    return toBytes(sent.message);
  }
  const sent = await unpatched.createApplicationMessage({ context: await unpatchedContext(), state: from.state, message: new TextEncoder().encode(serializeRumor(rumor)) });
  from.state = sent.newState;
  return fromUnpatched(sent.message);
}

async function reads(member: Member, bytes: Uint8Array): Promise<string> {
  if (member.kind === "patched") {
    const result = await processGroupMessage(member.state, asPatched(bytes));
    assert.equal(result.kind, "application");
    member.state = result.state;
    return result.kind === "application" ? result.rumor.content : "";
  }
  const result = await unpatched.processMessage({ context: await unpatchedContext(), state: member.state, message: framedUnpatched(bytes) });
  assert.equal(result.kind, "applicationMessage");
  member.state = result.newState;
  return result.kind === "applicationMessage" ? parseRumor(new TextDecoder().decode(result.message)).content : "";
}

function commitResult(result: ProcessedMessage | "applied"): Extract<ProcessedMessage, { kind: "commit" }> {
  assert.ok(result !== "applied" && result.kind === "commit", `a commit result, got ${JSON.stringify(result === "applied" ? result : result.kind)}`);
  return result;
}

const removeProposal = (leaf: number): unpatched.Proposal => ({ proposalType: unpatched.defaultProposalTypes.remove, remove: { removed: leaf } });

/** Settles within `ms` or fails: the unpatched removed member could loop forever. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

describe("unit: removal against unpatched ts-mls 2.0.0-rc.10", () => {
  test("unit: a_pathless_removal_from_an_unpatched_client_is_applied_and_reported_pathless", async () => {
    const { alice, members } = await group(["patched", "patched", "unpatched"]);
    const [bob, carol, dave] = members as [Patched, Patched, Unpatched];
    const commit = await unpatchedCommit(dave, [removeProposal(leafOf(dave.state as unknown as ClientState, carol.pubkey))]);

    for (const member of [alice, bob]) {
      const result = commitResult(await receiveAt(member, commit));
      assert.equal(result.pathless, true, "the unpatched library sent a single Remove without a path");
      assert.equal(result.removedUs, false);
      assert.deepEqual(result.removed, [carol.pubkey]);
      assert.equal(result.sender, dave.pubkey);
    }
    const atCarol = commitResult(await receiveAt(carol, commit));
    assert.equal(atCarol.removedUs, true);
    assert.equal(atCarol.pathless, true);

    // Everyone left is still in the same epoch.
    assert.equal(await reads(alice, await say(dave, "from the other client")), "from the other client");
    const hello = await say(alice, "from burrow");
    assert.equal(await reads(bob, hello), "from burrow");
    assert.equal(await reads(dave, hello), "from burrow");
  });

  test("unit: our_removal_and_rename_commits_carry_a_path_that_an_unpatched_client_applies", async () => {
    const { alice, members } = await group(["patched", "patched", "unpatched"]);
    const [bob, carol, dave] = members as [Patched, Patched, Unpatched];
    const removal = adopt(alice, await removeMembers(alice.state, [carol.pubkey]));
    const atBob = commitResult(await receiveAt(bob, removal));
    assert.equal(atBob.pathless, false, "our commit carries an UpdatePath");
    assert.equal(await receiveAt(dave, removal), "applied");
    assert.equal(dave.state.groupContext.epoch, groupEpoch(alice.state));

    // A rename alone is a GroupContextExtensions commit: with a path under the new context (#742).
    const rename = adopt(alice, await updateGroupData(alice.state, { name: "Renamed" }));
    assert.equal(commitResult(await receiveAt(bob, rename)).pathless, false);
    assert.equal(await receiveAt(dave, rename), "applied");
    assert.equal(readGroupData(bob.state).name, "Renamed");

    const hello = await say(alice, "after remove and rename");
    assert.equal(await reads(bob, hello), "after remove and rename");
    assert.equal(await reads(dave, hello), "after remove and rename");
    assert.equal(await reads(alice, await say(dave, "unpatched reply")), "unpatched reply");
  });

  test("unit: a_rename_and_a_removal_in_one_commit_open_for_every_remaining_member", async () => {
    const { alice, members } = await group(["patched", "unpatched", "patched", "patched"]);
    const [bob, dave, carol, erin] = members as [Patched, Unpatched, Patched, Patched];
    const commit = adopt(alice, await removeMembersAndUpdateGroupData(alice.state, [carol.pubkey], { name: "Without Carol" }));
    for (const member of [bob, erin]) {
      const result = commitResult(await receiveAt(member, commit));
      assert.equal(result.pathless, false);
      assert.equal(result.groupData.name, "Without Carol");
      assert.deepEqual(result.removed, [carol.pubkey]);
    }
    assert.equal(await receiveAt(dave, commit), "applied");
    assert.equal(readGroupData(dave.state as unknown as ClientState).name, "Without Carol");
    const atCarol = commitResult(await receiveAt(carol, commit));
    assert.equal(atCarol.removedUs, true);

    const hello = await say(alice, "renamed and removed");
    for (const member of [bob, dave, erin]) assert.equal(await reads(member, hello), "renamed and removed");
    await assert.rejects(processGroupMessage(carol.state, asPatched(hello)), (error: unknown) => error instanceof MarmotError && error.code === "future_epoch");
  });

  test("unit: without_the_patch_a_removed_member_reads_on_and_with_it_cannot", async () => {
    // Unpatched: one Remove, no path, so Carol (also unpatched) derives the next epoch and reads it.
    {
      const { members } = await group(["unpatched", "unpatched"]);
      const [dave, carol] = members as [Unpatched, Unpatched];
      const commit = await unpatchedCommit(dave, [removeProposal(leafOf(dave.state as unknown as ClientState, carol.pubkey))]);
      assert.equal(await receiveAt(carol, commit), "applied");
      assert.equal(carol.state.groupActiveState.kind, "removedFromGroup");
      assert.equal(carol.state.groupContext.epoch, dave.state.groupContext.epoch, "the removed member computed the new epoch");
      assert.equal(await reads(carol, await say(dave, "after the removal")), "after the removal", "the bug this patch fixes");
    }
    // Patched: our commit carries a path Carol is not on. Neither library lets her derive the epoch.
    const { alice, members } = await group(["patched", "patched", "patched"]);
    const [bob, carol, erin] = members as [Patched, Patched, Patched];
    const beforeRemoval = carol.state;
    const commit = adopt(alice, await removeMembers(alice.state, [carol.pubkey]));
    for (const member of [bob, erin]) commitResult(await receiveAt(member, commit));
    const atCarol = commitResult(await receiveAt(carol, commit));
    assert.equal(atCarol.removedUs, true);
    assert.equal(atCarol.pathless, false);
    assert.equal(groupEpoch(carol.state), groupEpoch(beforeRemoval), "a removed member stays at its last epoch");
    const secret = await say(alice, "after the removal");
    assert.equal(await reads(bob, secret), "after the removal");
    await assert.rejects(processGroupMessage(carol.state, asPatched(secret)), (error: unknown) => error instanceof MarmotError && error.code === "future_epoch");
    // Even unpatched code applying the commit to Carol's state finds no key of hers on the path.
    await assert.rejects(
      within(10_000, unpatched.processMessage({ context: await unpatchedContext(), state: beforeRemoval as unknown as UnpatchedState, message: framedUnpatched(commit) })),
      /No overlap between provided private keys and update path/,
    );
  });

  test("unit: a_removed_member_holding_the_last_leaf_survives_its_removal_with_a_path", { timeout: 30_000 }, async () => {
    const { alice, members } = await group(["patched", "patched"]);
    const [bob, carol] = members as [Patched, Patched];
    const leaves = [alice, bob, carol].map((m) => leafOf(alice.state, m.pubkey));
    assert.equal(leafOf(alice.state, carol.pubkey), Math.max(...leaves), "Carol holds the last leaf: removing it shrinks the tree");
    const commit = adopt(alice, await removeMembers(alice.state, [carol.pubkey]));
    const atCarol = commitResult(await within(10_000, receiveAt(carol, commit)));
    assert.equal(atCarol.removedUs, true);
    assert.equal(atCarol.sender, alice.pubkey);
    assert.equal(commitResult(await receiveAt(bob, commit)).removedUs, false);
    assert.equal(await reads(bob, await say(alice, "two of us")), "two of us");
  });

  test("unit: a_removed_member_survives_a_removal_without_a_path_in_any_leaf", { timeout: 30_000 }, async () => {
    // Carol in a middle leaf, then Erin in the last one; removed by the unpatched admin.
    const { alice, members } = await group(["unpatched", "patched", "patched"]);
    const [dave, carol, erin] = members as [Unpatched, Patched, Patched];
    for (const removed of [carol, erin]) {
      const commit = await unpatchedCommit(dave, [removeProposal(leafOf(dave.state as unknown as ClientState, removed.pubkey))]);
      const result = commitResult(await within(10_000, receiveAt(removed, commit)));
      assert.equal(result.removedUs, true);
      assert.equal(result.pathless, true);
      assert.equal(commitResult(await receiveAt(alice, commit)).removedUs, false);
      if (removed === carol) commitResult(await receiveAt(erin, commit));
    }
    assert.deepEqual(groupMembers(alice.state), [alice.pubkey, dave.pubkey]);
    assert.equal(await reads(alice, await say(dave, "just us")), "just us");
  });

  test("unit: a_removed_member_in_the_middle_survives_a_removal_with_a_path", async () => {
    const { alice, members } = await group(["patched", "patched", "patched"]);
    const [bob, carol, erin] = members as [Patched, Patched, Patched];
    const commit = adopt(alice, await removeMembers(alice.state, [bob.pubkey]));
    const atBob = commitResult(await within(10_000, receiveAt(bob, commit)));
    assert.equal(atBob.removedUs, true);
    for (const member of [carol, erin]) assert.equal(commitResult(await receiveAt(member, commit)).removedUs, false);
  });

  test("unit: an_add_that_commits_a_pending_leave_sends_the_path_to_no_new_or_removed_leaf", async () => {
    const { alice, members } = await group(["patched", "unpatched", "patched"]);
    const [bob, dave, carol] = members as [Patched, Unpatched, Patched];
    const leave = await proposeLeave(carol.state);
    carol.state = leave.state;
    for (const member of [alice, bob, dave]) await receiveAt(member, toBytes(leave.message));
    const erin = await person();

    // The path goes to Dave's leaf only: Erin's leaf took Carol's place and gets it through the Welcome.
    const context = { cipherSuite: await getCiphersuite(), authService: marmotAuthService };
    const add = { proposalType: defaultProposalTypes.add, add: { keyPackage: erin.bundle.publicPackage } } as const;
    const probe = await createCommit({ context, state: alice.state, extraProposals: [add], wireAsPublicMessage: true });
    assert.ok(probe.commit.wireformat === wireformats.mls_public_message);
    const path = "commit" in probe.commit.publicMessage.content ? probe.commit.publicMessage.content.commit.path : undefined;
    assert.ok(path, "a Remove rides along: the commit has a path");
    assert.deepEqual(path.nodes.map((node) => node.encryptedPathSecret.length), [1, 1], "one recipient per level, Bob then Dave: none to the new leaf, which rc.10 encrypted to under Carol's old key");

    const outcome = await addMembers(alice.state, [erin.bundle.publicPackage]);
    const commit = adopt(alice, outcome);
    assert.ok(outcome.welcome);
    assert.deepEqual(commitResult(await receiveAt(bob, commit)).added, [erin.pubkey]);
    assert.equal(await receiveAt(dave, commit), "applied");
    assert.equal(commitResult(await receiveAt(carol, commit)).removedUs, true);
    const welcome = asPatched(toBytes(outcome.welcome));
    assert.ok("welcome" in welcome);
    const erinMember: Patched = { kind: "patched", ...erin, state: (await joinFromWelcome(welcome, erin.bundle, alice.pubkey)).state };
    assert.equal(leafOf(erinMember.state, erin.pubkey), 3, "Erin has Carol's old leaf");
    const hello = await say(alice, "hello erin");
    for (const member of [bob, dave, erinMember]) assert.equal(await reads(member, hello), "hello erin");
  });
});
