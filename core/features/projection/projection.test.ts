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
import { Projection } from "./projection.js";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function chatWithMessages(count: number) {
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
  for (let i = 0; i < count; i++) {
    store.insertMessage({ id: i.toString(16).padStart(64, "0"), group_id: chatId, sender: keys.pubkey, kind: CHAT_MESSAGE_KIND, content: `m${i}`, tags: [], created_at: 1_000 + i, status: "sent" });
  }
  const projection = new Projection(ctx, registry);
  const close = async () => {
    ctx.close();
    pool.close();
    store.close();
    await dir.remove();
  };
  return { state, chatId, projection, close };
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
