// Integration: real cores, real MLS and the embedded relay (its future limit raised, as on the many
// public relays that store any created_at). A sender chooses created_at; it must never move our
// subscription cursors or our ordering past our own clock.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { AppState } from "../../shared/state.js";
import type { AppCore } from "../app/appCore.js";
import { DEFAULT_TIMINGS } from "../base/config.js";
import { AccountStore } from "../storage/accountStore.js";
import { coreIn, skewedClock, tempDir, waitForState } from "../testing.js";

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const RELAY_FUTURE_LIMIT_SEC = 40 * 24 * 60 * 60;
const SKEW_SEC = DEFAULT_TIMINGS.futureSkewSec;

const auth = (state: AppState): { npub: string; pubkey: string } =>
  state.auth.status === "logged_in" ? { npub: state.auth.npub, pubkey: state.auth.pubkey } : { npub: "", pubkey: "" };
const nowSec = (): number => Math.floor(Date.now() / 1000);

type Clock = ReturnType<typeof skewedClock>;

async function account(dir: string, relays: string[], clock: Clock = skewedClock()): Promise<AppCore> {
  const core = await coreIn(dir, 5, relays, undefined, undefined, { clock });
  if (core.snapshot().state.auth.status !== "logged_in") await core.dispatch({ type: "CreateAccount" });
  await waitForState(core, (s) => s.auth.status === "logged_in" && s.key_package.published, 15_000);
  return core;
}

/** `from` opens a direct chat with `to`, `to` accepts; returns the chat id. */
async function directChat(from: AppCore, to: AppCore): Promise<string> {
  const invitesBefore = to.snapshot().state.invites.length;
  assert.deepEqual(await from.dispatch({ type: "CreateChat", peer: auth(to.snapshot().state).npub }), { ok: true });
  const opened = await waitForState(from, (s) => s.open_chat !== null && !s.busy.creating_chat && s.chats.some((c) => c.peer?.pubkey === auth(to.snapshot().state).pubkey), 15_000);
  const chatId = opened.state.open_chat!.chat_id;
  const invited = await waitForState(to, (s) => s.invites.length > invitesBefore, 15_000);
  const invite = invited.state.invites.find((i) => i.from.pubkey === auth(from.snapshot().state).pubkey)!;
  await to.dispatch({ type: "AcceptInvite", invite_id: invite.id });
  await waitForState(to, (s) => s.chats.some((c) => c.id === chatId), 15_000);
  return chatId;
}

async function send(core: AppCore, chatId: string, text: string): Promise<void> {
  await core.dispatch({ type: "SendMessage", chat_id: chatId, text });
  await waitForState(core, (s) => s.open_chat?.messages.some((m) => m.text === text && m.status === "sent") ?? true, 15_000);
}

async function receives(core: AppCore, chatId: string, text: string): Promise<void> {
  await core.dispatch({ type: "OpenChat", chat_id: chatId });
  await waitForState(core, (s) => s.open_chat?.chat_id === chatId && s.open_chat.messages.some((m) => m.text === text), 15_000);
}

/** The stored cursors of the account in `dir` (read while its core is closed). */
function storedCursors(dir: string, pubkey: string, keys: string[]): Record<string, number | null> {
  const store = AccountStore.open(dir, pubkey);
  try {
    return Object.fromEntries(keys.map((key) => [key, store.getMeta<number>(key)]));
  } finally {
    store.close();
  }
}

describe("integration: sender-chosen timestamps do not move cursors or ordering", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let relayPort: number;
  const cores: AppCore[] = [];

  before(async () => {
    dir = await tempDir("burrow-clock-");
    relay = await startRelay({ port: 0, dbPath: `${dir.path}/relay.sqlite`, maxFutureSeconds: RELAY_FUTURE_LIMIT_SEC });
    relayPort = relay.port;
  });
  after(async () => {
    for (const core of cores) await core.close();
    await relay.close();
    await dir.remove();
  });

  const open = async (name: string, clock?: Clock): Promise<AppCore> => {
    const core = await account(`${dir.path}/${name}`, [relay.url], clock);
    cores.push(core);
    return core;
  };
  const reopen = async (core: AppCore, name: string): Promise<AppCore> => {
    await core.close();
    cores.splice(cores.indexOf(core), 1);
    return open(name);
  };

  test("a_member_an_hour_fast_does_not_make_us_miss_later_messages_after_a_restart", async () => {
    const aliceClock = skewedClock(HOUR_MS);
    const alice = await open("alice1", aliceClock);
    let bob = await open("bob1");
    const chatId = await directChat(alice, bob);
    await send(alice, chatId, "from an hour ahead");
    await receives(bob, chatId, "from an hour ahead");

    const state = bob.snapshot().state;
    assert.ok(state.chats.every((c) => c.updated_at <= nowSec()), "the chat's place in the list is not in the future");
    assert.ok(state.open_chat!.messages.every((m) => m.created_at <= nowSec()), "the message sorts no later than now");

    const bobPubkey = auth(state).pubkey;
    await bob.close();
    cores.splice(cores.indexOf(bob), 1);
    const cursor = storedCursors(`${dir.path}/bob1`, bobPubkey, [`cursor:445:${chatId}`])[`cursor:445:${chatId}`];
    assert.ok(cursor !== null && cursor !== undefined && cursor <= nowSec() + SKEW_SEC, `group cursor ${cursor} stays within now + skew`);

    aliceClock.offsetMs = 0;
    bob = await open("bob1");
    await send(alice, chatId, "sent after bob restarted");
    await receives(bob, chatId, "sent after bob restarted");
  });

  test("a_gift_wrap_dated_30_days_ahead_does_not_hide_later_invitations", async () => {
    const stranger = await open("stranger2", skewedClock(30 * DAY_MS));
    const alice = await open("alice2");
    let bob = await open("bob2");
    const strangerChat = await directChat(stranger, bob);
    const bobState = bob.snapshot().state;
    assert.ok(bobState.chats.every((c) => c.updated_at <= nowSec()));

    // A message from 30 days ahead must not pin its chat above chats that get real messages later.
    await send(stranger, strangerChat, "pinned from the future?");
    await receives(bob, strangerChat, "pinned from the future?");
    const bobPubkey = auth(bob.snapshot().state).pubkey;
    bob = await reopen(bob, "bob2");
    const cursors = storedCursors(`${dir.path}/bob2`, bobPubkey, ["cursor:1059"]);
    await waitForState(bob, (s) => s.network.status === "online", 10_000);
    assert.ok((cursors["cursor:1059"] ?? 0) <= nowSec() + SKEW_SEC, "the gift wrap cursor stays within now + skew");

    // After the restart, a real invitation still arrives.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const aliceChat = await directChat(alice, bob);
    await send(alice, aliceChat, "a real message, later");
    await receives(bob, aliceChat, "a real message, later");
    const { state } = await waitForState(bob, (s) => s.chats.length === 2, 10_000);
    assert.equal(state.chats[0]?.id, aliceChat, "the chat with the newest real message is on top");
    assert.ok(state.chats.every((c) => c.updated_at <= nowSec()));
  });

  test("an_invite_from_the_future_is_listed_as_received_now", async () => {
    const stranger = await open("stranger3", skewedClock(30 * DAY_MS));
    const bob = await open("bob3");
    await stranger.dispatch({ type: "CreateChat", peer: auth(bob.snapshot().state).npub });
    const { state } = await waitForState(bob, (s) => s.invites.length === 1, 15_000);
    assert.ok(state.invites[0]!.received_at <= nowSec(), `received_at ${state.invites[0]!.received_at} is not in the future`);
  });

  test("a_relay_reconnect_resubscribes_from_a_cursor_the_fast_clock_did_not_move", async () => {
    const aliceClock = skewedClock(HOUR_MS);
    const alice = await open("alice4", aliceClock);
    const bob = await open("bob4");
    const chatId = await directChat(alice, bob);
    await send(alice, chatId, "an hour ahead, before the relay restart");
    await receives(bob, chatId, "an hour ahead, before the relay restart");

    await relay.close();
    await waitForState(bob, (s) => s.network.status !== "online", 10_000);
    relay = await startRelay({ port: relayPort, dbPath: `${dir.path}/relay.sqlite`, maxFutureSeconds: RELAY_FUTURE_LIMIT_SEC });
    await waitForState(bob, (s) => s.network.status === "online", 15_000);
    await waitForState(alice, (s) => s.network.status === "online", 15_000);

    aliceClock.offsetMs = 0;
    await send(alice, chatId, "after the relay came back");
    await receives(bob, chatId, "after the relay came back");
  });
});
