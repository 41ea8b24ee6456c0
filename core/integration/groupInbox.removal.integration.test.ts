// Real cores over the embedded relay: a removed member's stored keys open nothing sent after its
// removal, and a removed member who is added again reads and writes in the group, across a restart.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { randomBytes } from "@noble/hashes/utils.js";
import { contentTypes, defaultCredentialTypes, defaultExtensionTypes, processMessage, wireformats, type ClientState, type MlsFramedMessage, type MlsMessage } from "ts-mls";
import * as unpatched from "ts-mls-unpatched";
import WebSocket from "ws";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { AppState } from "../../shared/state.js";
import { AppCore } from "../app/appCore.js";
import {
  EpochKeyCache,
  GROUP_EVENT_KIND,
  KEY_PACKAGE_KIND,
  MARMOT_GROUP_DATA_EXTENSION_TYPE,
  MarmotError,
  chatMessageRumor,
  copyEvent,
  deriveGroupEventKey,
  deserializeGroupState,
  generateKeyPackage,
  generateSecretKey,
  getCiphersuite,
  getPublicKey,
  giftWrap,
  groupDataExtension,
  marmotAuthService,
  newGroupData,
  processGroupMessage,
  selectKeyPackage,
  unwrapGroupEvent,
  welcomeRumor,
  wrapGroupMessage,
  type NostrEvent,
} from "../marmot/index.js";
import { serializeRumor } from "../marmot/rumor.js";
import { FileSecretStore } from "../base/secretStore.js";
import { AccountStore } from "../storage/accountStore.js";
import { FAST_TIMINGS, coreIn, tempDir, waitForState, withAccount } from "../testing.js";

const pubkeyOf = (core: AppCore): string => {
  const auth = core.snapshot().state.auth;
  return auth.status === "logged_in" ? auth.pubkey : "";
};
const texts = (state: AppState): string[] => state.open_chat?.messages.map((m) => m.text) ?? [];

/** Every stored event matching `filter`, straight from the relay (not through any core). */
function relayEvents(url: string, filter: Record<string, unknown>): Promise<NostrEvent[]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const events: NostrEvent[] = [];
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("no EOSE from the relay"));
    }, 10_000);
    socket.on("open", () => socket.send(JSON.stringify(["REQ", "dump", { ...filter, limit: 5_000 }])));
    socket.on("message", (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as [string, ...unknown[]];
      if (frame[0] === "EVENT") events.push(frame[2] as NostrEvent);
      if (frame[0] === "EOSE") {
        clearTimeout(timer);
        socket.close();
        resolve(events);
      }
    });
    socket.on("error", reject);
  });
}

/** Stores `event` on the relay; resolves once it answered OK true. */
function publish(url: string, event: NostrEvent): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on("open", () => socket.send(JSON.stringify(["EVENT", event])));
    socket.on("message", (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as [string, string, boolean, string];
      if (frame[0] !== "OK") return;
      socket.close();
      if (frame[2]) resolve();
      else reject(new Error(`relay refused the event: ${frame[3]}`));
    });
    socket.on("error", reject);
  });
}

/** What a member has on disk for a group: its MLS state and its stored epoch keys. */
function storedGroup(dataDir: string, pubkey: string, groupId: string) {
  const store = AccountStore.open(dataDir, pubkey);
  try {
    const row = store.getGroup(groupId);
    assert.ok(row, "the group is stored");
    const keys = new EpochKeyCache(1_000);
    for (const stored of store.listEpochKeys(groupId, 1_000)) for (const key of EpochKeyCache.deserialize(stored.key, 1).list()) keys.put(key);
    return { state: deserializeGroupState(row.state), keys };
  } finally {
    store.close();
  }
}

describe("integration: removal and re-adding over a real relay", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  const cores: Record<string, AppCore> = {};
  let groupId = "";

  const sees = (name: string, text: string, timeoutMs = 15_000) =>
    waitForState(cores[name]!, (s) => s.open_chat?.chat_id === groupId && texts(s).includes(text), timeoutMs);
  const sent = (name: string, text: string) =>
    waitForState(cores[name]!, (s) => s.open_chat?.messages.some((m) => m.text === text && m.status === "sent") ?? false, 15_000);
  const acceptNewest = async (name: string) => {
    const core = cores[name]!;
    const invited = await waitForState(core, (s) => s.invites.length > 0, 15_000);
    await core.dispatch({ type: "AcceptInvite", invite_id: invited.state.invites[0]!.id });
    return waitForState(core, (s) => s.open_chat?.chat_id === groupId && s.open_chat.left === false, 15_000);
  };

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0 });
    for (const name of ["alice", "bob", "carol"]) {
      cores[name] = await coreIn(`${dir.path}/${name}`, 5, [relay.url]);
      await withAccount(cores[name]);
    }
    // Carol first after Alice: not the last leaf, so unpatched ts-mls fails rather than loops below.
    await cores["alice"]!.dispatch({ type: "CreateGroup", name: "Removal", description: "", members: [pubkeyOf(cores["carol"]!), pubkeyOf(cores["bob"]!)] });
    const created = await waitForState(cores["alice"]!, (s) => s.open_chat?.kind === "group" && !s.busy.updating_group, 20_000);
    groupId = created.state.open_chat!.chat_id;
    for (const name of ["bob", "carol"]) await acceptNewest(name);
    await cores["carol"]!.dispatch({ type: "SendMessage", chat_id: groupId, text: "carol is here" });
    for (const name of ["alice", "bob"]) await sees(name, "carol is here");
  });
  after(async () => {
    for (const core of Object.values(cores)) await core.close();
    await relay.close();
    await dir.remove();
  });

  test("integration: a_removed_members_stored_keys_and_state_open_nothing_sent_after_its_removal", async () => {
    const [alice, bob, carol] = [cores["alice"]!, cores["bob"]!, cores["carol"]!];
    await alice.dispatch({ type: "RemoveMember", chat_id: groupId, member: pubkeyOf(carol) });
    await waitForState(carol, (s) => s.open_chat?.left === true, 15_000);
    await waitForState(bob, (s) => (s.open_chat?.members.length ?? 0) === 2, 15_000);
    await alice.dispatch({ type: "RenameGroup", chat_id: groupId, name: "Without Carol", description: "" });
    await waitForState(bob, (s) => s.open_chat?.title === "Without Carol", 15_000);
    const sends: Array<["alice" | "bob", string]> = [["bob", "secret one"], ["alice", "secret two"], ["bob", "secret three"]];
    for (const [from, text] of sends) {
      await cores[from]!.dispatch({ type: "SendMessage", chat_id: groupId, text });
      await sent(from, text);
      await sees(from === "bob" ? "alice" : "bob", text);
    }
    const secrets = sends.map(([, text]) => text);

    const events = (await relayEvents(relay.url, { kinds: [GROUP_EVENT_KIND], "#h": [groupId] })).map(copyEvent);
    const carolDisk = storedGroup(`${dir.path}/carol`, pubkeyOf(carol), groupId);
    const bobDisk = storedGroup(`${dir.path}/bob`, pubkeyOf(bob), groupId);
    const lastEpoch = carolDisk.state.groupContext.epoch;
    // Ground truth from a remaining member: what was sent in the epochs after Carol's last one.
    const after = events.filter((event) => {
      try {
        return unwrapGroupEvent(event, bobDisk.keys).keyEpoch > lastEpoch;
      } catch {
        return false;
      }
    });
    assert.ok(after.length >= 1 + secrets.length, `the rename and the messages were sent after the removal (${after.length})`);
    const removal = events.find((event) => {
      try {
        const opened = unwrapGroupEvent(event, bobDisk.keys);
        return opened.keyEpoch === lastEpoch && opened.message.wireformat === wireformats.mls_private_message && opened.message.privateMessage.contentType === contentTypes.commit;
      } catch {
        return false;
      }
    });
    assert.ok(removal, "the removal commit is on the relay");

    // Every key Carol can derive: those she stored, her state's, and her state's after she applied her removal.
    const removed = await processGroupMessage(carolDisk.state, unwrapGroupEvent(removal, carolDisk.keys).message);
    assert.ok(removed.kind === "commit" && removed.removedUs);
    assert.equal(removed.state.groupContext.epoch, lastEpoch, "a removed member derives no later epoch");
    const carolKeys = new EpochKeyCache(1_000);
    for (const key of carolDisk.keys.list()) carolKeys.put(key);
    carolKeys.put(await deriveGroupEventKey(carolDisk.state));
    carolKeys.put(await deriveGroupEventKey(removed.state));
    assert.ok(carolKeys.list().every((key) => key.epoch <= lastEpoch));

    const cs = await getCiphersuite();
    for (const event of after) {
      assert.throws(() => unwrapGroupEvent(event, carolKeys), (error: unknown) => error instanceof MarmotError && error.code === "undecryptable", "the outer layer stays shut");
      // The MLS layer, opened for her with Bob's key: her secrets decrypt none of it either.
      const message = unwrapGroupEvent(event, bobDisk.keys).message as MlsFramedMessage;
      await assert.rejects(processGroupMessage(removed.state, message));
      await assert.rejects(processMessage({ context: { cipherSuite: cs, authService: marmotAuthService }, state: carolDisk.state, message }));
    }
    // The removal's path reached no key of hers: even unpatched ts-mls cannot take her into the next epoch.
    const removalMessage = unwrapGroupEvent(removal, carolDisk.keys).message;
    const unpatchedMessage = unpatched.decode(unpatched.mlsMessageDecoder, unpatched.encode(unpatched.mlsMessageEncoder, removalMessage as unknown as unpatched.MlsMessage));
    await assert.rejects(
      unpatched.processMessage({
        context: { cipherSuite: await unpatched.getCiphersuiteImpl("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"), authService: marmotAuthService },
        state: carolDisk.state as unknown as Parameters<typeof unpatched.processMessage>[0]["state"],
        message: unpatchedMessage as unpatched.MlsFramedMessage,
      }),
      /No overlap between provided private keys and update path/,
    );
    for (const text of secrets) assert.ok(!texts(carol.snapshot().state).includes(text));
  });

  test("integration: a_removed_member_added_again_reads_and_writes_and_keeps_doing_so_after_a_restart", async () => {
    const [alice, bob] = [cores["alice"]!, cores["bob"]!];
    const carolKey = pubkeyOf(cores["carol"]!);
    await alice.dispatch({ type: "AddMembers", chat_id: groupId, members: [carolKey] });
    await waitForState(bob, (s) => s.open_chat?.members.some((m) => m.pubkey === carolKey) ?? false, 15_000);
    // Sent after Carol was added and before she accepts: she reads it once she does.
    await bob.dispatch({ type: "SendMessage", chat_id: groupId, text: "before carol accepts" });
    await sent("bob", "before carol accepts");

    const back = await acceptNewest("carol");
    assert.equal(back.state.open_chat!.title, "Without Carol");
    await sees("carol", "before carol accepts");
    await bob.dispatch({ type: "SendMessage", chat_id: groupId, text: "welcome back" });
    await sees("carol", "welcome back");
    await cores["carol"]!.dispatch({ type: "SendMessage", chat_id: groupId, text: "carol is back" });
    for (const name of ["alice", "bob"]) await sees(name, "carol is back");
    assert.ok(!texts(cores["carol"]!.snapshot().state).includes("secret one"), "what was sent while she was out stays unread");

    await cores["carol"]!.close();
    await bob.dispatch({ type: "SendMessage", chat_id: groupId, text: "while carol restarts" });
    await sent("bob", "while carol restarts");
    cores["carol"] = await coreIn(`${dir.path}/carol`, 5, [relay.url]);
    await cores["carol"].dispatch({ type: "OpenChat", chat_id: groupId });
    const restarted = await sees("carol", "while carol restarts");
    assert.equal(restarted.state.open_chat!.left, false);
    await cores["carol"].dispatch({ type: "SendMessage", chat_id: groupId, text: "carol after restart" });
    for (const name of ["alice", "bob"]) await sees(name, "carol after restart");
  });
});

/**
 * Another v1 Marmot client on unpatched ts-mls 2.0.0-rc.10, driven through its raw API: it
 * administers a group of Burrow cores and removes one with a commit that has no UpdatePath.
 */
describe("integration: a pathless commit from another v1 client", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  const cores: Record<string, AppCore> = {};
  const logs: Record<string, Array<Record<string, unknown>>> = { bob: [], carol: [] };

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0 });
    for (const name of ["bob", "carol"]) {
      const dataDir = `${dir.path}/${name}`;
      cores[name] = await AppCore.create({
        secretStore: new FileSecretStore(dataDir),
        dataDir,
        pushIntervalMs: 5,
        defaultRelays: [relay.url],
        timings: FAST_TIMINGS,
        log: (line) => logs[name]!.push(line),
      });
      await withAccount(cores[name]);
    }
  });
  after(async () => {
    for (const core of Object.values(cores)) await core.close();
    await relay.close();
    await dir.remove();
  });

  test("integration: a_pathless_removal_by_an_unpatched_client_is_applied_logged_and_ends_the_removed_members_chat", async () => {
    const context = { cipherSuite: await unpatched.getCiphersuiteImpl("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"), authService: marmotAuthService };
    const daveSecret = generateSecretKey();
    const dave = getPublicKey(daveSecret);
    const daveBundle = await generateKeyPackage(dave);
    const groupData = newGroupData({ name: "Dave's", adminPubkeys: [dave], relays: [relay.url] });
    let state = await unpatched.createGroup({
      context,
      groupId: randomBytes(32),
      keyPackage: daveBundle.publicPackage as unknown as unpatched.KeyPackage,
      privateKeyPackage: daveBundle.privatePackage,
      extensions: [
        groupDataExtension(groupData) as unknown as unpatched.GroupContextExtension,
        {
          extensionType: defaultExtensionTypes.required_capabilities,
          extensionData: { extensionTypes: [MARMOT_GROUP_DATA_EXTENSION_TYPE], proposalTypes: [], credentialTypes: [defaultCredentialTypes.basic] },
        } as unknown as unpatched.GroupContextExtension,
      ],
    });
    const key = () => deriveGroupEventKey(state as unknown as ClientState);
    const commit = async (proposals: unpatched.Proposal[]) => {
      const made = await unpatched.createCommit({ context, state, extraProposals: proposals, ratchetTreeExtension: true, wireAsPublicMessage: false });
      await publish(relay.url, wrapGroupMessage(made.commit as unknown as MlsMessage, await key()));
      state = made.newState;
      return made;
    };
    const say = async (text: string) => {
      const made = await unpatched.createApplicationMessage({ context, state, message: new TextEncoder().encode(serializeRumor(chatMessageRumor(dave, text))) });
      state = made.newState;
      await publish(relay.url, wrapGroupMessage(made.message as unknown as MlsMessage, await key()));
    };

    const members = await Promise.all(
      ["bob", "carol"].map(async (name) => {
        const pubkey = pubkeyOf(cores[name]!);
        const chosen = await selectKeyPackage((await relayEvents(relay.url, { kinds: [KEY_PACKAGE_KIND], authors: [pubkey] })).map(copyEvent));
        return { name, pubkey, chosen };
      }),
    );
    const added = await commit(members.map((m) => ({ proposalType: unpatched.defaultProposalTypes.add, add: { keyPackage: m.chosen.keyPackage as unknown as unpatched.KeyPackage } })));
    assert.ok(added.welcome);
    for (const member of members) {
      const rumor = welcomeRumor(added.welcome as unknown as Parameters<typeof welcomeRumor>[0], { senderPubkey: dave, keyPackageEventId: member.chosen.event.id, relays: [relay.url] });
      await publish(relay.url, giftWrap(rumor, daveSecret, member.pubkey));
      const core = cores[member.name]!;
      const invited = await waitForState(core, (s) => s.invites.length > 0, 15_000);
      await core.dispatch({ type: "AcceptInvite", invite_id: invited.state.invites[0]!.id });
      await waitForState(core, (s) => s.open_chat?.title === "Dave's", 15_000);
    }
    await say("hello from dave");
    for (const name of ["bob", "carol"]) await waitForState(cores[name]!, (s) => texts(s).includes("hello from dave"), 15_000);

    const carolLeaf = members.findIndex((m) => m.name === "carol") + 1;
    await commit([{ proposalType: unpatched.defaultProposalTypes.remove, remove: { removed: carolLeaf } }]);
    await waitForState(cores["carol"]!, (s) => s.open_chat?.left === true, 15_000);
    await waitForState(cores["bob"]!, (s) => (s.open_chat?.members.length ?? 0) === 2, 15_000);
    for (const name of ["bob", "carol"]) {
      assert.ok(logs[name]!.some((line) => line["event"] === "commit_without_path" && line["sender"] === dave.slice(0, 12)), `${name} logged the pathless commit`);
    }
    await say("after carol was removed");
    await waitForState(cores["bob"]!, (s) => texts(s).includes("after carol was removed"), 15_000);
    await cores["bob"]!.dispatch({ type: "SendMessage", chat_id: cores["bob"]!.snapshot().state.open_chat!.chat_id, text: "bob replies" });
    await waitForState(cores["bob"]!, (s) => s.open_chat?.messages.some((m) => m.text === "bob replies" && m.status === "sent") ?? false, 15_000);
    const atDave = await relayEvents(relay.url, { kinds: [GROUP_EVENT_KIND] });
    const epochKeys = new EpochKeyCache(1);
    epochKeys.put(await key());
    const readByDave: string[] = [];
    for (const event of atDave.map(copyEvent)) {
      try {
        const opened = unwrapGroupEvent(event, epochKeys).message as unknown as unpatched.MlsFramedMessage;
        const result = await unpatched.processMessage({ context, state, message: opened });
        if (result.kind === "applicationMessage") readByDave.push(JSON.parse(new TextDecoder().decode(result.message)).content as string);
        state = result.newState;
      } catch {
        // earlier epochs and Dave's own messages
      }
    }
    assert.deepEqual(readByDave, ["bob replies"], "the unpatched client reads Burrow's message in the epoch after the removal");
    assert.ok(!texts(cores["carol"]!.snapshot().state).includes("after carol was removed"));
  });

  test("integration: an_invitation_that_cannot_be_joined_says_why_and_how_to_get_back_in", async () => {
    // Fault injected into Bob's store: an invitation whose Welcome is unreadable.
    const bob = cores["bob"]!;
    const inviteId = "ab".repeat(32);
    const store = AccountStore.open(`${dir.path}/bob`, pubkeyOf(bob));
    try {
      store.saveInvite({
        id: inviteId,
        from_pubkey: pubkeyOf(cores["carol"]!),
        group_name: "Broken",
        welcome: new TextEncoder().encode("not a welcome rumor"),
        key_package_event_id: "",
        relays: [relay.url],
        received_at: Math.floor(Date.now() / 1000),
      });
    } finally {
      store.close();
    }
    const chatId = bob.snapshot().state.chats[0]!.id;
    await bob.dispatch({ type: "SetChatMuted", chat_id: chatId, muted: false });
    await waitForState(bob, (s) => s.invites.some((invite) => invite.id === inviteId), 10_000);
    await bob.dispatch({ type: "AcceptInvite", invite_id: inviteId });
    const { state } = await waitForState(bob, (s) => s.toasts.some((t) => /^Could not join the chat: .*Ask whoever invited you to add you again\.$/.test(t.message)), 10_000);
    assert.ok(state.toasts.some((t) => t.kind === "error"));
    assert.ok(logs["bob"]!.some((line) => line["event"] === "join_failed"));
    assert.ok(state.invites.some((invite) => invite.id === inviteId), "still there to retry or decline");
  });
});
