// The projection against a real store and a real MLS group state: the open chat's window, and
// `loading_older` while the page with older messages is being read.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_TIMINGS } from "../../base/config.js";
import { systemClock } from "../../base/clock.js";
import { EffectTokens } from "../../base/tokens.js";
import { generateKeys } from "../../base/keys.js";
import { ChatRegistry } from "../../chats/registry.js";
import { CHAT_MESSAGE_KIND, createGroup } from "../../marmot/index.js";
import { RelayPool } from "../../relays/pool.js";
import { initialState } from "../../state/appState.js";
import { AccountContext } from "../../state/context.js";
import { AccountStore } from "../../storage/accountStore.js";
import { tempDir } from "../../testing.js";
import { Projection, UNREAD_WINDOW_MAX } from "./projection.js";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** `read`: how many of the oldest messages were read; the messages are from `from` (ourselves when absent). */
async function chatWithMessages(count: number, options: { from?: string; read?: number } = {}) {
  const dir = await tempDir();
  const keys = generateKeys();
  const state = initialState({ kind: "plain_file", notice: null }, true, "");
  const pool = new RelayPool();
  const store = AccountStore.open(dir.path, keys.pubkey);
  const ctx = new AccountContext({
    keys: { pubkey: keys.pubkey, npub: keys.npub, secret: Buffer.from(keys.secretHex, "hex") },
    store,
    pool,
    timings: { ...DEFAULT_TIMINGS, messagePageSize: 20 },
    clock: systemClock,
    tokens: new EffectTokens(),
    log: () => undefined,
    state: () => state,
    update: (mutate) => mutate(state),
    toast: () => undefined,
    emit: () => undefined,
    live: () => true,
  });
  const registry = new ChatRegistry(ctx, () => undefined);
  const created = await createGroup({ creatorPubkey: keys.pubkey, members: [], name: "Paged", relays: [] });
  const chatId = await registry.add({ state: created.state, kind: "group", peer: null, relays: [], createdAt: 1_000 });
  const insert = (i: number): void => {
    const sender = options.from ?? keys.pubkey;
    store.insertMessage({ id: i.toString(16).padStart(64, "0"), group_id: chatId, sender, kind: CHAT_MESSAGE_KIND, content: `m${i}`, tags: [], created_at: 1_000 + i, status: sender === keys.pubkey ? "sent" : "received" });
  };
  for (let i = 0; i < count; i++) {
    insert(i);
    if (i + 1 === options.read) store.markRead(chatId);
  }
  const projection = new Projection(ctx, registry);
  const close = async () => {
    ctx.close();
    pool.close();
    store.close();
    await dir.remove();
  };
  return { state, store, ctx, registry, chatId, projection, insert, close };
}

test("loading_older_is_set_while_the_older_page_is_read_and_cleared_when_it_is_in_the_state", async () => {
  const { state, chatId, projection, close } = await chatWithMessages(50);
  try {
    assert.deepEqual(projection.open(chatId), { ok: true });
    await nextTurn();
    assert.equal(state.open_chat?.messages.length, 20);
    assert.equal(state.open_chat?.has_older, true);
    assert.equal(state.open_chat?.loading_older, false);

    assert.deepEqual(projection.loadOlder(chatId), { ok: true });
    assert.equal(state.open_chat?.loading_older, true, "set at once, before the page is read");
    assert.equal(state.open_chat?.messages.length, 20);
    await nextTurn();
    assert.equal(state.open_chat?.loading_older, false);
    assert.equal(state.open_chat?.messages.length, 40);
    assert.equal(state.open_chat?.messages[0]?.text, "m10", "the older messages come first");

    projection.loadOlder(chatId);
    await nextTurn();
    assert.equal(state.open_chat?.messages.length, 50);
    assert.equal(state.open_chat?.has_older, false);
    assert.equal(state.open_chat?.loading_older, false);
  } finally {
    await close();
  }
});

test("older_messages_of_a_chat_that_is_not_open_are_refused_and_nothing_loads", async () => {
  const { state, chatId, projection, close } = await chatWithMessages(5);
  try {
    const reply = projection.loadOlder(chatId);
    assert.equal(reply.ok, false);
    assert.equal(state.open_chat, null);
  } finally {
    await close();
  }
});

const id = (i: number): string => i.toString(16).padStart(64, "0");

test("opening_a_chat_grows_its_window_to_the_first_unread_message_and_keeps_the_divider_while_open", async () => {
  const peer = generateKeys().pubkey;
  const { state, store, chatId, projection, insert, close } = await chatWithMessages(50, { from: peer, read: 10 });
  try {
    projection.open(chatId);
    await nextTurn();
    const open = state.open_chat!;
    assert.equal(open.first_unread_id, id(10));
    assert.equal(open.unread_at_open, 40);
    assert.equal(open.messages.length, 41, "the page of 20 grew to the first unread and one before it");
    assert.equal(open.messages[1]?.id, id(10));
    assert.equal(state.chats[0]?.unread, 0);
    assert.equal(store.listChatSummaries()[0]?.unread, 0, "opening still marks everything read");

    // A message arriving in the open chat is read at once; the divider stays where it was.
    insert(50);
    store.markRead(chatId);
    projection.open(chatId);
    await nextTurn();
    assert.equal(state.open_chat?.first_unread_id, id(10));
    assert.equal(state.open_chat?.unread_at_open, 40);
    assert.equal(state.open_chat?.messages.at(-1)?.id, id(50));

    projection.close();
    projection.open(chatId);
    await nextTurn();
    assert.equal(state.open_chat?.first_unread_id, null, "reopened with nothing unread");
    assert.equal(state.open_chat?.unread_at_open, 0);
    assert.equal(state.open_chat?.messages.length, 20);
  } finally {
    await close();
  }
});

test("the_window_grown_for_unread_messages_is_bounded", async () => {
  const peer = generateKeys().pubkey;
  const { state, chatId, projection, close } = await chatWithMessages(UNREAD_WINDOW_MAX + 50, { from: peer });
  try {
    projection.open(chatId);
    await nextTurn();
    assert.equal(state.open_chat?.messages.length, UNREAD_WINDOW_MAX);
    assert.equal(state.open_chat?.has_older, true);
    assert.equal(state.open_chat?.first_unread_id, id(0), "the divider shows once the reader scrolls up to it");
    assert.equal(state.open_chat?.unread_at_open, UNREAD_WINDOW_MAX + 50);
  } finally {
    await close();
  }
});

test("the_chat_list_reads_again_only_what_was_written_and_unchanged_chats_keep_their_objects", async () => {
  const { state, store, ctx, registry, chatId, projection, close } = await chatWithMessages(3);
  try {
    const peer = "b".repeat(64);
    // Chats only the store knows (their MLS state is not loaded): the list is read from the store.
    for (let i = 1; i <= 3; i++) {
      const chatPeer = i === 1 ? peer : id(200 + i);
      store.upsertGroup({ id: id(100 + i), mls_group_id: `m${i}`, kind: "direct", name: "", description: "", admins: [], relays: [], members: [chatPeer], peer: chatPeer, state: new Uint8Array(1), epoch: 0, created_at: i, updated_at: i });
    }
    projection.refresh();
    await nextTurn();
    const first = state.chats;
    assert.equal(first.length, 4);
    const same = (chatIdOf: string): void => assert.equal(state.chats.find((c) => c.id === chatIdOf), first.find((c) => c.id === chatIdOf), `${chatIdOf.slice(-3)} kept its object`);

    store.insertMessage({ id: id(900), group_id: id(102), sender: peer, kind: CHAT_MESSAGE_KIND, content: "hello", tags: [], created_at: 5_000, status: "received" });
    store.touchGroup(id(102), 4_000_000_000);
    projection.refresh();
    await nextTurn();
    assert.deepEqual([state.chats[0]?.id, state.chats[0]?.last_message, state.chats[0]?.unread], [id(102), "hello", 1], "the chat written moved to the top");
    for (const other of [chatId, id(101), id(103)]) same(other);

    store.upsertProfile({ pubkey: peer, name: "Bea", picture: null, created_at: 10 });
    projection.refresh();
    await nextTurn();
    assert.equal(state.chats.find((c) => c.id === id(101))?.title, "Bea", "a peer's new name reaches their chat");
    same(id(103));

    store.deleteGroup(id(103));
    projection.refresh();
    await nextTurn();
    assert.deepEqual(state.chats.map((c) => c.id).sort(), [chatId, id(101), id(102)].sort());

    // What the passes made equals one whole read.
    const incremental = state.chats;
    const whole = new Projection(ctx, registry);
    whole.refresh();
    await nextTurn();
    assert.notEqual(state.chats, incremental);
    assert.deepEqual(state.chats, incremental);
  } finally {
    await close();
  }
});
