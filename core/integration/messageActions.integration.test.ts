// Two real cores, real MLS, the embedded relay: replies, edits and deletions end to end. What a
// member can forge is sent through the marmot layer from that member's own stored group state.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { AppState, MessageView } from "../../shared/state.js";
import type { AppCore } from "../app/appCore.js";
import {
  EpochKeyCache,
  chatMessageRumor,
  deletionRumor,
  deserializeGroupState,
  editRumor,
  sendRumor,
  serializeGroupState,
  type Rumor,
} from "../marmot/index.js";
import { RelayPool } from "../relays/pool.js";
import { AccountStore, accountDatabasePath } from "../storage/accountStore.js";
import { coreIn, tempDir, waitForState, withAccount } from "../testing.js";

const pubkeyOf = (core: AppCore): string => {
  const auth = core.snapshot().state.auth;
  return auth.status === "logged_in" ? auth.pubkey : "";
};
const npubOf = (core: AppCore): string => {
  const auth = core.snapshot().state.auth;
  return auth.status === "logged_in" ? auth.npub : "";
};
const shown = (state: AppState, text: string): MessageView | undefined => state.open_chat?.messages.find((m) => m.text === text);

/** The account database and its WAL, as bytes on disk. */
function databaseBytes(dataDir: string, pubkey: string): Buffer {
  const path = accountDatabasePath(dataDir, pubkey);
  return Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);
}

/**
 * Sends rumors into the chat as the closed core's account would, MLS-encrypted in the given order
 * from its stored state (the state it ends in is stored back).
 */
async function sendAs(dataDir: string, pubkey: string, chatId: string, rumors: Rumor[], relayUrl: string): Promise<void> {
  const store = AccountStore.open(dataDir, pubkey);
  const pool = new RelayPool();
  pool.setRelays([relayUrl]);
  try {
    const row = store.getGroup(chatId);
    assert.ok(row, "the member has the chat");
    let state = deserializeGroupState(row.state);
    const keys = new EpochKeyCache();
    for (const rumor of rumors) {
      const sent = await sendRumor(state, keys, rumor);
      state = sent.state;
      store.updateGroupState(chatId, serializeGroupState(state), Number(state.groupContext.epoch));
      assert.equal((await pool.publish(sent.event)).accepted.length, 1);
    }
  } finally {
    pool.close();
    store.close();
  }
}

describe("integration: replies, edits and deletions between two cores", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let alice: AppCore;
  let bob: AppCore;
  let chatId = "";
  const aliceDir = (): string => `${dir.path}/alice`;
  const bobDir = (): string => `${dir.path}/bob`;

  const send = async (core: AppCore, text: string, replyTo?: string): Promise<MessageView> => {
    assert.deepEqual(await core.dispatch({ type: "SendMessage", chat_id: chatId, text, ...(replyTo ? { reply_to: replyTo } : {}) }), { ok: true });
    const sent = await waitForState(core, (s) => shown(s, text)?.status === "sent", 10_000);
    return shown(sent.state, text)!;
  };

  before(async () => {
    dir = await tempDir("burrow-message-actions-");
    relay = await startRelay({ port: 0, dbPath: `${dir.path}/relay.sqlite` });
    alice = await withAccount(await coreIn(aliceDir(), 5, [relay.url]));
    bob = await withAccount(await coreIn(bobDir(), 5, [relay.url]));
    await alice.dispatch({ type: "CreateChat", peer: npubOf(bob) });
    chatId = (await waitForState(alice, (s) => s.open_chat !== null && !s.busy.creating_chat, 15_000)).state.open_chat!.chat_id;
    const invited = await waitForState(bob, (s) => s.invites.length === 1, 15_000);
    await bob.dispatch({ type: "AcceptInvite", invite_id: invited.state.invites[0]!.id });
    await waitForState(bob, (s) => s.open_chat?.chat_id === chatId, 15_000);
  });
  after(async () => {
    await alice.close();
    await bob.close();
    await relay.close();
    await dir.remove();
  });

  test("a_reply_shows_its_parent_on_the_other_side_and_focus_brings_the_parent_into_the_window", async () => {
    const parent = await send(alice, "lunch at noon?");
    await waitForState(bob, (s) => shown(s, "lunch at noon?") !== undefined, 10_000);
    const reply = await send(bob, "yes, see you there", parent.id);
    assert.deepEqual(reply.reply_to, { id: parent.id, sender: reply.reply_to?.sender, excerpt: "lunch at noon?", state: "shown" });
    const got = await waitForState(alice, (s) => shown(s, "yes, see you there") !== undefined, 10_000);
    const quote = shown(got.state, "yes, see you there")!.reply_to;
    assert.equal(quote?.state, "shown");
    assert.equal(quote?.id, parent.id);
    assert.equal(quote?.excerpt, "lunch at noon?");
    assert.equal(quote?.sender?.pubkey, pubkeyOf(alice));
    assert.deepEqual(await alice.dispatch({ type: "FocusMessage", chat_id: chatId, message_id: parent.id }), { ok: true });
    const focused = await waitForState(alice, (s) => s.open_chat?.focus_message_id === parent.id);
    assert.ok(focused.state.open_chat?.messages.some((m) => m.id === parent.id));
  });

  test("an_edit_shows_the_new_text_as_edited_on_the_other_side", async () => {
    const original = await send(alice, "see you at 12");
    await waitForState(bob, (s) => shown(s, "see you at 12") !== undefined, 10_000);
    assert.deepEqual(await alice.dispatch({ type: "EditMessage", chat_id: chatId, message_id: original.id, text: "see you at 1" }), { ok: true });
    const mine = await waitForState(alice, (s) => s.open_chat?.messages.find((m) => m.id === original.id)?.text === "see you at 1");
    assert.equal(mine.state.open_chat?.messages.find((m) => m.id === original.id)?.edited, true);
    const theirs = await waitForState(bob, (s) => s.open_chat?.messages.find((m) => m.id === original.id)?.text === "see you at 1", 10_000);
    const edited = theirs.state.open_chat!.messages.find((m) => m.id === original.id)!;
    assert.equal(edited.edited, true);
    assert.equal(theirs.state.chats[0]?.last_message, "see you at 1", "the chat list shows the newest text");
    assert.equal(theirs.state.open_chat!.messages.filter((m) => m.text.startsWith("see you at")).length, 1, "an edit is no row of its own");
    // Bob cannot ask his core to edit or delete Alice's message.
    const refused = await bob.dispatch({ type: "EditMessage", chat_id: chatId, message_id: original.id, text: "hijacked" });
    assert.equal(refused.ok, false);
    assert.equal((await bob.dispatch({ type: "DeleteMessage", chat_id: chatId, message_id: original.id })).ok, false);
  });

  test("a_deletion_shows_message_deleted_and_leaves_no_trace_in_either_database_file", async () => {
    const secret = `the door code is ${randomBytes(8).toString("hex")}`;
    const original = await send(alice, secret);
    await waitForState(bob, (s) => shown(s, secret) !== undefined, 10_000);
    assert.ok(databaseBytes(bobDir(), pubkeyOf(bob)).includes(secret), "before the deletion the text is on disk (the check can fail)");
    assert.deepEqual(await alice.dispatch({ type: "DeleteMessage", chat_id: chatId, message_id: original.id }), { ok: true });
    const theirs = await waitForState(bob, (s) => s.open_chat?.messages.find((m) => m.id === original.id)?.deleted === true, 10_000);
    const deleted = theirs.state.open_chat!.messages.find((m) => m.id === original.id)!;
    assert.equal(deleted.text, "");
    assert.equal(theirs.state.chats[0]?.last_message, "Message deleted");
    await waitForState(alice, (s) => s.open_chat?.messages.find((m) => m.id === original.id)?.deleted === true);
    for (const [dataDir, core] of [[aliceDir(), alice], [bobDir(), bob]] as const) {
      const bytes = databaseBytes(dataDir, pubkeyOf(core));
      assert.ok(!bytes.includes(secret), "the deleted text is gone from the file and its WAL");
      assert.ok(!bytes.includes(secret.slice(-16)), "not even its tail is left");
    }
    assert.equal((await alice.dispatch({ type: "EditMessage", chat_id: chatId, message_id: original.id, text: "back" })).ok, false, "a deleted message stays deleted");
  });

  test("an_edit_or_deletion_by_anyone_but_the_author_is_ignored", async () => {
    const original = await send(alice, "only I may change this");
    await waitForState(bob, (s) => shown(s, "only I may change this") !== undefined, 10_000);
    const bobKey = pubkeyOf(bob);
    await bob.close();
    // Sent from Bob's own MLS leaf, so the rumors' pubkey is his, as the receiver requires.
    const forged = [editRumor(bobKey, original.id, "forged text"), deletionRumor(bobKey, { id: original.id, kind: 9 }), chatMessageRumor(bobKey, "after the forgery")];
    await sendAs(bobDir(), bobKey, chatId, forged, relay.url);
    const got = await waitForState(alice, (s) => shown(s, "after the forgery") !== undefined, 10_000);
    const kept = got.state.open_chat!.messages.find((m) => m.id === original.id)!;
    assert.deepEqual({ text: kept.text, edited: kept.edited, deleted: kept.deleted }, { text: "only I may change this", edited: false, deleted: false });
    assert.ok(databaseBytes(aliceDir(), pubkeyOf(alice)).includes("only I may change this"), "a forged deletion erases nothing");
    bob = await coreIn(bobDir(), 5, [relay.url]);
    await waitForState(bob, (s) => s.auth.status === "logged_in" && s.chats.length === 1, 10_000);
    await bob.dispatch({ type: "OpenChat", chat_id: chatId });
  });

  test("an_edit_or_deletion_arriving_before_its_message_still_applies", async () => {
    const aliceKey = pubkeyOf(alice);
    await alice.close();
    const at = Math.floor(Date.now() / 1000);
    const secret = `never to be read ${randomBytes(8).toString("hex")}`;
    const early = chatMessageRumor(aliceKey, "first draft", [], at);
    const gone = chatMessageRumor(aliceKey, secret, [], at);
    // Encrypted (so stored by Bob) in this order: each change before the message it names.
    const rumors = [editRumor(aliceKey, early.id, "final text", at), early, deletionRumor(aliceKey, gone, at), gone, chatMessageRumor(aliceKey, "marker", [], at)];
    await sendAs(aliceDir(), aliceKey, chatId, rumors, relay.url);
    const got = await waitForState(bob, (s) => shown(s, "marker") !== undefined, 10_000);
    const messages = got.state.open_chat!.messages;
    const edited = messages.find((m) => m.id === early.id);
    assert.deepEqual({ text: edited?.text, edited: edited?.edited }, { text: "final text", edited: true });
    const deleted = messages.find((m) => m.id === gone.id);
    assert.deepEqual({ text: deleted?.text, deleted: deleted?.deleted }, { text: "", deleted: true });
    assert.ok(!databaseBytes(bobDir(), pubkeyOf(bob)).includes(secret), "a message deleted before it arrived is never kept");
    alice = await coreIn(aliceDir(), 5, [relay.url]);
    await waitForState(alice, (s) => s.auth.status === "logged_in", 10_000);
  });
});
