// Two real cores, real MLS, the embedded relay: direct chats end to end.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { nip19 } from "nostr-tools";
import { finalizeEvent } from "nostr-tools/pure";
import { WebSocketServer } from "ws";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import { RelayPool } from "../relays/pool.js";
import type { AppState } from "../../shared/state.js";
import { foldPushes } from "../../shared/statePush.js";
import type { AppCore } from "../app/appCore.js";
import type { CoreEvent } from "../base/events.js";
import { coreIn, tempDir, waitForState } from "../testing.js";

const npubOf = (state: AppState): string => (state.auth.status === "logged_in" ? state.auth.npub : "");

async function loggedInCore(dir: string, relays: string[]): Promise<AppCore> {
  const core = await coreIn(dir, 5, relays);
  await core.dispatch({ type: "CreateAccount" });
  await waitForState(core, (s) => s.auth.status === "logged_in" && s.key_package.published, 10_000);
  return core;
}

describe("direct chats over the embedded relay", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let alice: AppCore;
  let bob: AppCore;

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0, dbPath: `${dir.path}/relay.sqlite` });
    alice = await loggedInCore(`${dir.path}/alice`, [relay.url]);
    bob = await loggedInCore(`${dir.path}/bob`, [relay.url]);
  });
  after(async () => {
    await alice.close();
    await bob.close();
    await relay.close();
    await dir.remove();
  });

  test("key_package_is_published_and_network_is_online", () => {
    const state = alice.snapshot().state;
    assert.equal(state.key_package.published, true);
    assert.equal(state.network.status, "online");
    assert.deepEqual(state.network.relays, [{ url: relay.url, status: "connected" }]);
    assert.deepEqual(state.settings.relays, [relay.url]);
  });

  test("create_chat_invite_accept_and_exchange_messages", async () => {
    const bobNpub = npubOf(bob.snapshot().state);
    assert.deepEqual(await alice.dispatch({ type: "CreateChat", peer: bobNpub }), { ok: true });
    const opened = await waitForState(alice, (s) => s.open_chat !== null && !s.busy.creating_chat, 10_000);
    const chatId = opened.state.open_chat!.chat_id;
    assert.equal(opened.state.chats.length, 1);
    assert.equal(opened.state.chats[0]?.kind, "direct");
    assert.equal(opened.state.chats[0]?.peer?.npub, bobNpub);

    const bobEvents: CoreEvent[] = [];
    const stopListening = bob.onEvent((event) => bobEvents.push(event));
    const invited = await waitForState(bob, (s) => s.invites.length === 1, 10_000);
    const invite = invited.state.invites[0]!;
    assert.equal(invite.from.npub, npubOf(alice.snapshot().state));
    await bob.dispatch({ type: "AcceptInvite", invite_id: invite.id });
    const joined = await waitForState(bob, (s) => s.open_chat?.chat_id === chatId && s.invites.length === 0, 10_000);
    assert.equal(joined.state.chats[0]?.peer?.npub, npubOf(alice.snapshot().state));

    await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: "hello bob" });
    const aliceSent = await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "hello bob" && m.status === "sent") ?? false, 10_000);
    assert.equal(aliceSent.state.open_chat?.messages.at(-1)?.mine, true);
    const bobGot = await waitForState(bob, (s) => s.open_chat?.messages.some((m) => m.text === "hello bob") ?? false, 10_000);
    const received = bobGot.state.open_chat!.messages.find((m) => m.text === "hello bob")!;
    assert.equal(received.status, "received");
    assert.equal(received.mine, false);

    stopListening();
    assert.deepEqual(
      bobEvents.map((e) => (e.type === "message_received" ? [e.type, e.chat_id, e.message.text, e.message.mine] : [e.type, e.invite.from])),
      [
        ["invite_received", (alice.snapshot().state.auth as { pubkey: string }).pubkey],
        ["message_received", chatId, "hello bob", false],
      ],
    );

    await bob.dispatch({ type: "SendMessage", chat_id: chatId, text: "hi alice\nsecond line" });
    await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "hi alice\nsecond line") ?? false, 10_000);
  });

  test("a_used_key_package_is_replaced_and_the_old_one_deleted", async () => {
    const bobPubkey = bob.snapshot().state.auth.status === "logged_in" ? (bob.snapshot().state.auth as { pubkey: string }).pubkey : "";
    const pool = new RelayPool();
    pool.setRelays([relay.url]);
    try {
      // Bob accepted Alice's invite in the test before: his used KeyPackage is gone, a fresh one is out.
      const deadline = Date.now() + 10_000;
      let legacy: Awaited<ReturnType<RelayPool["query"]>> = [];
      let deletions: typeof legacy = [];
      while (Date.now() < deadline) {
        legacy = await pool.query([{ kinds: [443], authors: [bobPubkey] }], 1000);
        deletions = await pool.query([{ kinds: [5], authors: [bobPubkey] }], 1000);
        if (deletions.length > 0 && legacy.length === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(deletions.length, 1);
      const deleted = deletions[0]!.tags.filter((t) => t[0] === "e").map((t) => t[1]);
      assert.ok(deleted.length >= 1);
      assert.equal(legacy.length, 1, "only the fresh kind 443 is left");
      assert.ok(!deleted.includes(legacy[0]!.id));
      assert.deepEqual(deletions[0]!.tags.filter((t) => t[0] === "k").map((t) => t[1]).sort(), ["30443", "443"]);
    } finally {
      pool.close();
    }
  });

  test("profiles_give_names_to_chats", async () => {
    const exported = await bob.dispatch({ type: "ExportSecretKey", confirmed: true });
    assert.ok(exported.ok && exported.nsec);
    const secret = nip19.decode(exported.nsec).data as Uint8Array;
    const profile = finalizeEvent({ kind: 0, created_at: Math.floor(Date.now() / 1000), tags: [], content: JSON.stringify({ name: "Bob Builder", picture: "https://example.org/bob.png" }) }, secret);
    const pool = new RelayPool();
    pool.setRelays([relay.url]);
    assert.equal((await pool.publish(profile)).accepted.length, 1);
    pool.close();
    const { state } = await waitForState(alice, (s) => s.chats[0]?.title === "Bob Builder", 10_000);
    assert.equal(state.chats[0]?.peer?.picture, "https://example.org/bob.png");
  });

  test("create_chat_with_an_existing_peer_opens_the_same_chat", async () => {
    const before = alice.snapshot().state;
    await alice.dispatch({ type: "CloseChat" });
    await waitForState(alice, (s) => s.open_chat === null);
    await alice.dispatch({ type: "CreateChat", peer: npubOf(bob.snapshot().state) });
    const after = await waitForState(alice, (s) => s.open_chat !== null);
    assert.equal(after.state.open_chat?.chat_id, before.chats[0]?.id);
    assert.equal(after.state.chats.length, 1);
  });

  test("unread_counts_and_restart_keeps_history_and_decrypts_new_messages", async () => {
    const chatId = alice.snapshot().state.chats[0]!.id;
    await alice.dispatch({ type: "CloseChat" });
    await bob.dispatch({ type: "SendMessage", chat_id: chatId, text: "are you there?" });
    const unread = await waitForState(alice, (s) => (s.chats[0]?.unread ?? 0) >= 1, 10_000);
    assert.equal(unread.state.chats[0]?.last_message, "are you there?");

    await alice.close();
    alice = await coreIn(`${dir.path}/alice`, 5, [relay.url]);
    await alice.dispatch({ type: "OpenChat", chat_id: chatId });
    const restored = await waitForState(alice, (s) => (s.open_chat?.messages.length ?? 0) >= 3, 10_000);
    assert.deepEqual(
      restored.state.open_chat!.messages.map((m) => m.text),
      ["hello bob", "hi alice\nsecond line", "are you there?"],
    );
    assert.equal(restored.state.open_chat!.first_unread_id, restored.state.open_chat!.messages[2]!.id, "the divider sits above the message unread at opening");
    assert.equal(restored.state.open_chat!.unread_at_open, 1);
    await bob.dispatch({ type: "SendMessage", chat_id: chatId, text: "after restart" });
    await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "after restart") ?? false, 10_000);
  });

  test("messages_received_while_offline_arrive_once_after_reconnect", async () => {
    const chatId = alice.snapshot().state.chats[0]!.id;
    await alice.dispatch({ type: "SetNetworkEnabled", enabled: false });
    await waitForState(alice, (s) => s.network.status === "off");
    for (let i = 0; i < 5; i++) await bob.dispatch({ type: "SendMessage", chat_id: chatId, text: `offline ${i}` });
    await waitForState(bob, (s) => s.open_chat?.messages.filter((m) => m.text.startsWith("offline") && m.status === "sent").length === 5, 10_000);
    await alice.dispatch({ type: "SetNetworkEnabled", enabled: true });
    const caught = await waitForState(alice, (s) => s.open_chat?.messages.filter((m) => m.text.startsWith("offline")).length === 5, 10_000);
    const texts = caught.state.open_chat!.messages.map((m) => m.text);
    assert.equal(new Set(texts).size, texts.length, "no message shown twice");
  });

  test("sending_while_offline_fails_and_retry_sends_it", async () => {
    const chatId = alice.snapshot().state.chats[0]!.id;
    await alice.dispatch({ type: "SetNetworkEnabled", enabled: false });
    await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: "queued" });
    const failed = await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "queued" && m.status === "failed") ?? false, 10_000);
    const message = failed.state.open_chat!.messages.find((m) => m.text === "queued")!;
    assert.ok(message.error);
    await alice.dispatch({ type: "RetryMessage", chat_id: chatId, message_id: message.id });
    await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "queued" && m.status === "failed") ?? false, 10_000);
    // Back online, failed messages go out by themselves; an explicit retry is also fine.
    await alice.dispatch({ type: "SetNetworkEnabled", enabled: true });
    await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "queued" && m.status === "sent") ?? false, 10_000);
    await waitForState(bob, (s) => s.open_chat?.messages.some((m) => m.text === "queued") ?? false, 10_000);
  });

  test("bob_restarts_and_the_conversation_continues", async () => {
    const chatId = alice.snapshot().state.chats[0]!.id;
    await bob.close();
    await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: "while bob was away" });
    await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "while bob was away" && m.status === "sent") ?? false, 10_000);
    bob = await coreIn(`${dir.path}/bob`, 5, [relay.url]);
    await bob.dispatch({ type: "OpenChat", chat_id: chatId });
    await waitForState(bob, (s) => s.open_chat?.messages.some((m) => m.text === "while bob was away") ?? false, 10_000);
    await bob.dispatch({ type: "SendMessage", chat_id: chatId, text: "back again" });
    await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "back again") ?? false, 10_000);
  });

  test("a_relay_restart_mid_conversation_loses_nothing", async () => {
    const chatId = alice.snapshot().state.chats[0]!.id;
    const port = relay.port;
    await relay.close();
    await waitForState(alice, (s) => s.network.status !== "online", 10_000);
    await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: "during the outage" });
    await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "during the outage" && m.status === "failed") ?? false, 10_000);
    relay = await startRelay({ port, dbPath: `${dir.path}/relay.sqlite` });
    await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "during the outage" && m.status === "sent") ?? false, 10_000);
    await waitForState(bob, (s) => s.open_chat?.messages.some((m) => m.text === "during the outage") ?? false, 10_000);
    await bob.dispatch({ type: "SendMessage", chat_id: chatId, text: "after the relay came back" });
    const { state } = await waitForState(alice, (s) => s.open_chat?.messages.some((m) => m.text === "after the relay came back") ?? false, 10_000);
    const texts = state.open_chat!.messages.map((m) => m.text);
    for (const expected of ["hello bob", "are you there?", "queued", "while bob was away", "back again", "during the outage"]) assert.ok(texts.includes(expected), expected);
    assert.equal(new Set(texts).size, texts.length, "no message shown twice");
  });
});

describe("key package waiting path", () => {
  test("stale_key_package_publish_failure_is_ignored", async () => {
    const dir = await tempDir();
    // A relay that accepts connections and never answers: a publish to it stays in flight.
    const silent = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => silent.once("listening", resolve));
    const silentUrl = `ws://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const relay = await startRelay({ port: 0 });
    const dave = await loggedInCore(`${dir.path}/dave`, [relay.url]);
    const frank = await coreIn(`${dir.path}/frank`, 5, [silentUrl], { keyPackageFetchMs: 1000, relayQueryMs: 300, publishTimeoutMs: 5000, connectTimeoutMs: 1000 });
    try {
      await frank.dispatch({ type: "CreateAccount" });
      await waitForState(frank, (s) => s.key_package.publishing, 5000);
      await frank.dispatch({ type: "CreateChat", peer: npubOf(dave.snapshot().state) });
      // Leaving the silent relay fails the first publish at once; that result is stale by then.
      await frank.dispatch({ type: "SetRelays", relays: [relay.url] });
      const { state } = await waitForState(frank, (s) => s.open_chat !== null, 10_000);
      assert.equal(state.key_package.published, true);
      assert.equal(state.busy.creating_chat, false);
      assert.deepEqual(state.toasts, []);
    } finally {
      await frank.close();
      await dave.close();
      await relay.close();
      for (const client of silent.clients) client.terminate();
      await new Promise((resolve) => silent.close(resolve));
      await dir.remove();
    }
  });

  test("key_package_publish_failure_clears_pending_direct_chat", async () => {
    const dir = await tempDir();
    const core = await coreIn(`${dir.path}/carol`, 5, ["ws://127.0.0.1:9"]);
    try {
      await core.dispatch({ type: "CreateAccount" });
      await waitForState(core, (s) => s.auth.status === "logged_in");
      await waitForState(core, (s) => !s.key_package.publishing && !s.key_package.published, 10_000);
      await core.dispatch({ type: "CreateChat", peer: "npub1sg6plzptd64u62a878hep2kev88swjh3tw00gjsfl8f237lmu63q0uf63m" });
      const { state } = await waitForState(core, (s) => s.toasts.some((t) => t.message.startsWith("Key package publish failed:")), 10_000);
      assert.equal(state.busy.creating_chat, false);
      assert.equal(state.open_chat, null);
      assert.equal(state.chats.length, 0);
    } finally {
      await core.close();
      await dir.remove();
    }
  });

  test("create_chat_waits_for_local_key_package_publication", async () => {
    const dir = await tempDir();
    const relay = await startRelay({ port: 0 });
    const dave = await loggedInCore(`${dir.path}/dave`, [relay.url]);
    const erin = await coreIn(`${dir.path}/erin`, 5, [relay.url]);
    try {
      const seen: Array<{ creating: boolean; published: boolean; open: boolean }> = [];
      erin.subscribe(foldPushes(({ state }) => seen.push({ creating: state.busy.creating_chat, published: state.key_package.published, open: state.open_chat !== null })));
      await erin.dispatch({ type: "CreateAccount" });
      await waitForState(erin, (s) => s.auth.status === "logged_in");
      // Straight after login our KeyPackage is not out yet: the creation waits for it, then goes on.
      await erin.dispatch({ type: "CreateChat", peer: npubOf(dave.snapshot().state) });
      const done = await waitForState(erin, (s) => s.open_chat !== null, 10_000);
      assert.equal(done.state.busy.creating_chat, false);
      assert.ok(seen.some((s) => s.creating && !s.published), "creation was pending while the key package was unpublished");
      const firstOpen = seen.findIndex((s) => s.open);
      const firstPublished = seen.findIndex((s) => s.published);
      assert.ok(firstPublished >= 0 && firstPublished <= firstOpen);
      await waitForState(dave, (s) => s.invites.length === 1, 10_000);
    } finally {
      await erin.close();
      await dave.close();
      await relay.close();
      await dir.remove();
    }
  });
});
