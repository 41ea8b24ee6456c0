import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { AccountStore, accountDatabasePath, type GroupInput, type MessageInput, type MessageRow } from "./accountStore.js";
import { prepareStatements } from "./accountStatements.js";
import { SCHEMA_VERSION, SchemaTooNewError } from "./migrations.js";

const ME = "a".repeat(64);
const PEER = "b".repeat(64);
const OTHER = "c".repeat(64);

function tempDataDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "burrow-store-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function openStore(t: TestContext, dataDir = tempDataDir(t)): AccountStore {
  const store = AccountStore.open(dataDir, ME);
  t.after(() => store.close());
  return store;
}

function group(id: string, overrides: Partial<GroupInput> = {}): GroupInput {
  return {
    id,
    mls_group_id: `mls-${id}`,
    kind: "group",
    name: `Group ${id}`,
    description: "",
    admins: [ME],
    relays: ["wss://relay.example"],
    members: [ME, PEER],
    peer: null,
    state: new Uint8Array([1, 2, 3]),
    epoch: 0,
    created_at: 1_000,
    updated_at: 1_000,
    ...overrides,
  };
}

function message(id: string, groupId: string, createdAt: number, overrides: Partial<MessageInput> = {}): MessageInput {
  return {
    id,
    group_id: groupId,
    sender: PEER,
    kind: 9,
    content: `text ${id}`,
    tags: [["e", "ref"]],
    created_at: createdAt,
    status: "received",
    ...overrides,
  };
}

/** The first four bytes of a killWriter state blob: the message count it claims. */
const stateCounter = (state: Uint8Array): number => new DataView(state.buffer, state.byteOffset, state.byteLength).getUint32(0);

test("open_creates_the_account_database_in_wal_mode_at_the_current_schema", (t) => {
  const dataDir = tempDataDir(t);
  openStore(t, dataDir);
  const path = join(dataDir, "accounts", ME, "burrow.sqlite");
  assert.equal(accountDatabasePath(dataDir, ME), path);
  assert.ok(existsSync(path));
  const raw = new Database(path);
  t.after(() => raw.close());
  assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(raw.pragma("user_version", { simple: true }), SCHEMA_VERSION);
});

test("open_refuses_a_pubkey_that_is_not_lowercase_hex", (t) => {
  const dataDir = tempDataDir(t);
  assert.throws(() => AccountStore.open(dataDir, "../escape"), TypeError);
  assert.throws(() => AccountStore.open(dataDir, "A".repeat(64)), TypeError);
  assert.equal(existsSync(join(dataDir, "accounts")), false);
});

test("open_refuses_a_database_from_a_newer_schema", (t) => {
  const dataDir = tempDataDir(t);
  AccountStore.open(dataDir, ME).close();
  const raw = new Database(accountDatabasePath(dataDir, ME));
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  assert.throws(() => AccountStore.open(dataDir, ME), SchemaTooNewError);
});

test("foreign_keys_are_enforced", (t) => {
  const store = openStore(t);
  assert.throws(() => store.insertMessage(message("m1", "no-such-group", 1)), /FOREIGN KEY/);
  assert.throws(() => store.putEpochKey("no-such-group", 1, new Uint8Array([1])), /FOREIGN KEY/);
});

test("meta_round_trips_json_values", (t) => {
  const store = openStore(t);
  assert.equal(store.getMeta("relays"), null);
  store.setMeta("relays", ["wss://a", "wss://b"]);
  assert.deepEqual(store.getMeta<string[]>("relays"), ["wss://a", "wss://b"]);
  store.setMeta("cursor", { since: 42, relay: "wss://a" });
  store.setMeta("cursor", { since: 43, relay: "wss://a" });
  assert.deepEqual(store.getMeta("cursor"), { since: 43, relay: "wss://a" });
  store.deleteMeta("cursor");
  assert.equal(store.getMeta("cursor"), null);
  assert.throws(() => store.setMeta("bad", undefined), TypeError);
});

test("key_packages_round_trip_through_publish_use_and_delete", (t) => {
  const store = openStore(t);
  const kp = { ref: "ref1", private: new Uint8Array([9, 9]), public: new Uint8Array([7]), d_tag: "d1", created_at: 100 };
  assert.equal(store.saveKeyPackage(kp), true);
  assert.equal(store.saveKeyPackage({ ...kp, d_tag: "other" }), false);
  assert.deepEqual(store.getKeyPackage("ref1"), {
    ...kp,
    event_443_id: null,
    event_30443_id: null,
    published_at: null,
    used_at: null,
    deleted_at: null,
  });
  assert.equal(store.getKeyPackage("missing"), null);

  assert.equal(store.markKeyPackagePublished("ref1", { event_443_id: "e443", event_30443_id: "e30443" }, 110), true);
  assert.equal(store.markKeyPackagePublished("missing", { event_443_id: "x" }, 110), false);
  assert.equal(store.findKeyPackageByEventId("e443")?.ref, "ref1");
  assert.equal(store.findKeyPackageByEventId("e30443")?.ref, "ref1");
  assert.equal(store.findKeyPackageByEventId("nope"), null);
  store.markKeyPackagePublished("ref1", { event_30443_id: "e30443-again" }, 120);
  const republished = store.getKeyPackage("ref1");
  assert.equal(republished?.event_443_id, "e443");
  assert.equal(republished?.event_30443_id, "e30443-again");
  assert.equal(republished?.published_at, 120);

  assert.equal(store.markKeyPackageUsed("ref1", 130), true);
  store.markKeyPackageUsed("ref1", 140);
  assert.equal(store.getKeyPackage("ref1")?.used_at, 130);

  store.saveKeyPackage({ ...kp, ref: "ref2", created_at: 200 });
  assert.deepEqual(store.listActiveKeyPackages().map((k) => k.ref), ["ref1", "ref2"]);
  assert.equal(store.markKeyPackageDeleted("ref1", 150), true);
  assert.equal(store.getKeyPackage("ref1")?.deleted_at, 150);
  assert.deepEqual(store.listActiveKeyPackages().map((k) => k.ref), ["ref2"]);
});

test("groups_round_trip_and_upsert_keeps_created_at_last_read_at_and_activity_order", (t) => {
  const store = openStore(t);
  const g1 = group("g1", { updated_at: 1_000 });
  store.upsertGroup(g1);
  assert.deepEqual(store.getGroup("g1"), { ...g1, last_read_at: 0 });
  assert.equal(store.getGroup("missing"), null);

  assert.equal(store.setLastReadAt("g1", 900), true);
  store.setLastReadAt("g1", 800);
  store.upsertGroup({ ...g1, name: "Renamed", members: [ME, PEER, OTHER], created_at: 5, updated_at: 500, epoch: 3 });
  const updated = store.getGroup("g1");
  assert.equal(updated?.name, "Renamed");
  assert.deepEqual(updated?.members, [ME, PEER, OTHER]);
  assert.equal(updated?.epoch, 3);
  assert.equal(updated?.created_at, 1_000);
  assert.equal(updated?.updated_at, 1_000);
  assert.equal(updated?.last_read_at, 900);

  store.upsertGroup(group("g2", { updated_at: 2_000 }));
  store.upsertGroup(group("g3", { updated_at: 1_500 }));
  assert.deepEqual(store.listGroups().map((g) => g.id), ["g2", "g3", "g1"]);
  assert.equal(store.touchGroup("g1", 3_000), true);
  store.touchGroup("g1", 10);
  assert.equal(store.getGroup("g1")?.updated_at, 3_000);
  assert.deepEqual(store.listGroups().map((g) => g.id), ["g1", "g2", "g3"]);
  assert.equal(store.touchGroup("missing", 1), false);

  assert.equal(store.updateGroupState("g2", new Uint8Array([4, 5]), 7), true);
  assert.deepEqual(store.getGroup("g2")?.state, new Uint8Array([4, 5]));
  assert.equal(store.getGroup("g2")?.epoch, 7);
  assert.equal(store.updateGroupState("missing", new Uint8Array(), 1), false);
});

test("find_direct_group_returns_the_most_active_direct_chat_with_the_peer", (t) => {
  const store = openStore(t);
  assert.equal(store.findDirectGroup(PEER), null);
  store.upsertGroup(group("plain", { peer: PEER, updated_at: 9_000 }));
  store.upsertGroup(group("dm-old", { kind: "direct", peer: PEER, updated_at: 1_000 }));
  store.upsertGroup(group("dm-new", { kind: "direct", peer: PEER, updated_at: 2_000 }));
  store.upsertGroup(group("dm-other", { kind: "direct", peer: OTHER, updated_at: 3_000 }));
  assert.equal(store.findDirectGroup(PEER)?.id, "dm-new");
  assert.equal(store.findDirectGroup(OTHER)?.id, "dm-other");
});

test("epoch_keys_list_newest_first_and_prune_to_the_newest_n", (t) => {
  const store = openStore(t);
  store.upsertGroup(group("g1"));
  store.upsertGroup(group("g2"));
  for (let epoch = 1; epoch <= 5; epoch++) store.putEpochKey("g1", epoch, new Uint8Array([epoch]));
  store.putEpochKey("g2", 1, new Uint8Array([100]));
  store.putEpochKey("g1", 5, new Uint8Array([55]));
  assert.deepEqual(store.listEpochKeys("g1", 3), [
    { group_id: "g1", epoch: 5, key: new Uint8Array([55]) },
    { group_id: "g1", epoch: 4, key: new Uint8Array([4]) },
    { group_id: "g1", epoch: 3, key: new Uint8Array([3]) },
  ]);
  assert.equal(store.pruneEpochKeys("g1", 2), 3);
  assert.deepEqual(store.listEpochKeys("g1", 10).map((k) => k.epoch), [5, 4]);
  assert.equal(store.listEpochKeys("g2", 10).length, 1);
});

test("delete_group_removes_its_epoch_keys_and_messages", (t) => {
  const store = openStore(t);
  store.upsertGroup(group("g1"));
  store.upsertGroup(group("g2"));
  store.putEpochKey("g1", 1, new Uint8Array([1]));
  store.insertMessage(message("m1", "g1", 1));
  store.insertMessage(message("m2", "g2", 1));
  assert.equal(store.deleteGroup("g1"), true);
  assert.equal(store.getGroup("g1"), null);
  assert.deepEqual(store.listEpochKeys("g1", 10), []);
  assert.equal(store.getMessage("m1"), null);
  assert.notEqual(store.getMessage("m2"), null);
  assert.equal(store.deleteGroup("g1"), false);
});

test("messages_round_trip_and_a_duplicate_id_is_never_stored_twice", (t) => {
  const store = openStore(t);
  store.upsertGroup(group("g1"));
  const mine = message("m1", "g1", 100, { sender: ME, status: "pending", tags: [["p", PEER], ["x"]] });
  assert.equal(store.insertMessage(mine), true);
  assert.equal(store.insertMessage({ ...mine, content: "changed", status: "received" }), false);
  const stored = store.getMessage("m1");
  assert.ok(stored);
  assert.equal(typeof stored.seq, "number");
  assert.deepEqual(stored, { ...mine, seq: stored.seq, error: null, event_json: null });
  assert.equal(store.getMessage("missing"), null);
  assert.equal(store.listMessages("g1", { limit: 10 }).messages.length, 1);

  assert.equal(store.setMessageEventJson("m1", '{"kind":445}'), true);
  assert.equal(store.updateMessageStatus("m1", "failed", "relay refused"), true);
  assert.equal(store.getMessage("m1")?.error, "relay refused");
  assert.equal(store.getMessage("m1")?.event_json, '{"kind":445}');
  store.insertMessage(message("m2", "g1", 101, { sender: ME, status: "pending", event_json: "{}" }));
  store.insertMessage(message("m3", "g1", 102));
  assert.deepEqual(store.listUnsentMessages().map((m) => m.id), ["m1", "m2"]);

  store.updateMessageStatus("m1", "sent");
  assert.equal(store.getMessage("m1")?.status, "sent");
  assert.equal(store.getMessage("m1")?.error, null);
  assert.deepEqual(store.listUnsentMessages().map((m) => m.id), ["m2"]);
  assert.equal(store.updateMessageStatus("missing", "sent"), false);
});

test("list_messages_pages_back_in_created_at_then_seq_order", (t) => {
  const store = openStore(t);
  store.upsertGroup(group("g1"));
  store.upsertGroup(group("g2"));
  // Arrival order differs from created_at order, and many messages share a created_at.
  const createdAts = [5, 1, 3, 3, 3, 2, 5, 5, 4, 1, 3, 3, 2, 5, 4, 4, 1, 3, 2, 2, 5, 5, 3];
  createdAts.forEach((at, index) => {
    store.insertMessage(message(`m${index}`, "g1", at));
    store.insertMessage(message(`other${index}`, "g2", at));
  });
  const expected = createdAts
    .map((_, index) => store.getMessage(`m${index}`))
    .filter((m): m is MessageRow => m !== null)
    .sort((a, b) => a.created_at - b.created_at || a.seq - b.seq)
    .map((m) => m.id);

  const pages: string[][] = [];
  let page = store.listMessages("g1", { limit: 5 });
  for (;;) {
    pages.unshift(page.messages.map((m) => m.id));
    const first = page.messages[0];
    if (!page.has_older || first === undefined) break;
    page = store.listMessages("g1", { before: first, limit: 5 });
  }
  assert.deepEqual(pages.map((p) => p.length), [3, 5, 5, 5, 5]);
  assert.deepEqual(pages.flat(), expected);

  const exact = store.listMessages("g1", { limit: createdAts.length });
  assert.equal(exact.has_older, false);
  assert.equal(exact.messages.length, createdAts.length);
  assert.deepEqual(store.listMessages("missing", { limit: 5 }), { messages: [], has_older: false });
  assert.throws(() => store.listMessages("g1", { limit: 0 }), RangeError);
});

test("chat_summaries_show_the_last_chat_message_and_count_unread_from_others", (t) => {
  const store = openStore(t);
  store.upsertGroup(group("dm", { kind: "direct", peer: PEER, members: [ME, PEER], updated_at: 300 }));
  store.upsertGroup(group("team", { updated_at: 200 }));
  store.upsertGroup(group("empty", { updated_at: 100 }));
  store.transaction(() => {
    store.insertMessage(message("d1", "dm", 10));
  });
  store.markRead("dm");
  store.transaction(() => {
    store.insertMessage(message("d2", "dm", 10, { content: "same second as the read mark" }));
    store.insertMessage(message("d3", "dm", 30, { sender: ME, content: "mine" }));
    store.insertMessage(message("d4", "dm", 40, { kind: 7, content: "+" }));
    store.insertMessage(message("t1", "team", 50, { sender: OTHER }));
    store.insertMessage(message("t2", "team", 50, { sender: PEER, content: "same second, inserted later" }));
  });
  const summaries = store.listChatSummaries();
  assert.deepEqual(
    summaries.map((s) => [s.id, s.last_message, s.last_message_at, s.last_message_sender, s.unread]),
    [
      ["dm", "mine", 30, ME, 1],
      ["team", "same second, inserted later", 50, PEER, 2],
      ["empty", null, null, null, 0],
    ],
  );
  assert.deepEqual(summaries[0]?.members, [ME, PEER]);
  assert.equal(summaries[0]?.peer, PEER);
  assert.equal(summaries[0]?.kind, "direct");

  store.markRead("team");
  assert.equal(store.listChatSummaries()[1]?.unread, 0);
  store.insertMessage(message("t3", "team", 50, { sender: PEER, content: "after the read mark" }));
  assert.equal(store.listChatSummaries()[1]?.unread, 1);
});

test("first_unread_is_the_oldest_unread_message_from_others_and_counts_the_window_from_it", (t) => {
  const store = openStore(t);
  store.upsertGroup(group("dm", { kind: "direct", peer: PEER, members: [ME, PEER] }));
  store.insertMessage(message("read", "dm", 10, { sender: PEER }));
  store.markRead("dm");
  assert.equal(store.firstUnread("dm"), null);
  store.transaction(() => {
    store.insertMessage(message("mine", "dm", 20, { sender: ME }));
    store.insertMessage(message("late", "dm", 40, { sender: PEER }));
    // Arrives after "late" but was written before it: it is the first in the chat's order.
    store.insertMessage(message("early", "dm", 30, { sender: PEER }));
    store.insertMessage(message("reaction", "dm", 50, { sender: PEER, kind: 7, content: "+" }));
  });
  assert.deepEqual(store.firstUnread("dm"), { id: "early", unread: 2, window: 2 });
  store.markRead("dm");
  assert.equal(store.firstUnread("dm"), null);
  assert.equal(store.firstUnread("missing"), null);
});

test("mark_processed_reports_first_sight_and_prune_forgets_old_events", (t) => {
  const store = openStore(t);
  assert.equal(store.isProcessed("e1"), false);
  assert.equal(store.markProcessed("e1", 445, 100), true);
  assert.equal(store.markProcessed("e1", 445, 200), false);
  assert.equal(store.isProcessed("e1"), true);
  store.markProcessed("e2", 1059, 300);
  assert.equal(store.pruneProcessed(300), 1);
  assert.equal(store.isProcessed("e1"), false);
  assert.equal(store.isProcessed("e2"), true);
});

test("invites_round_trip_ignore_duplicates_and_leave_pending_when_answered", (t) => {
  const store = openStore(t);
  const invite = {
    id: "w1",
    from_pubkey: PEER,
    group_name: "Team",
    welcome: new Uint8Array([1, 2, 3, 4]),
    key_package_event_id: "kp-event",
    relays: ["wss://relay.example"],
    received_at: 100,
  };
  assert.equal(store.saveInvite(invite), true);
  assert.equal(store.saveInvite({ ...invite, group_name: "Other" }), false);
  assert.deepEqual(store.getInvite("w1"), { ...invite, status: "pending" });
  assert.equal(store.getInvite("missing"), null);
  store.saveInvite({ ...invite, id: "w2", received_at: 200 });
  assert.deepEqual(store.listPendingInvites().map((i) => i.id), ["w2", "w1"]);
  assert.equal(store.setInviteStatus("w2", "accepted"), true);
  assert.equal(store.setInviteStatus("w1", "declined"), true);
  assert.deepEqual(store.listPendingInvites(), []);
  assert.equal(store.getInvite("w2")?.status, "accepted");
  assert.equal(store.setInviteStatus("missing", "accepted"), false);
});

test("profiles_are_replaced_only_by_newer_ones", (t) => {
  const store = openStore(t);
  assert.equal(store.upsertProfile({ pubkey: PEER, name: "Bob", picture: null, created_at: 100 }), true);
  assert.equal(store.upsertProfile({ pubkey: PEER, name: "Older", picture: null, created_at: 50 }), false);
  assert.equal(store.upsertProfile({ pubkey: PEER, name: "Same age", picture: null, created_at: 100 }), false);
  assert.equal(store.upsertProfile({ pubkey: PEER, name: "Bobby", picture: "https://p", created_at: 150 }), true);
  store.upsertProfile({ pubkey: OTHER, name: null, picture: null, created_at: 1 });
  const profiles = store.getProfiles([PEER, OTHER, ME]);
  assert.equal(profiles.size, 2);
  assert.deepEqual(profiles.get(PEER), { pubkey: PEER, name: "Bobby", picture: "https://p", created_at: 150 });
  assert.deepEqual(profiles.get(OTHER), { pubkey: OTHER, name: null, picture: null, created_at: 1 });
  assert.equal(store.getProfiles([]).size, 0);
});

test("a_transaction_that_throws_leaves_nothing_behind", (t) => {
  const store = openStore(t);
  assert.throws(
    () =>
      store.transaction(() => {
        store.upsertGroup(group("g1"));
        store.insertMessage(message("m1", "g1", 1));
        store.markProcessed("e1", 445, 1);
        store.setMeta("cursor", 1);
        throw new Error("boom");
      }),
    /boom/,
  );
  assert.equal(store.getGroup("g1"), null);
  assert.equal(store.getMessage("m1"), null);
  assert.equal(store.isProcessed("e1"), false);
  assert.equal(store.getMeta("cursor"), null);
});

test("a_nested_transaction_that_throws_rolls_back_only_itself", (t) => {
  const store = openStore(t);
  const result = store.transaction(() => {
    store.upsertGroup(group("g1"));
    assert.throws(() =>
      store.transaction(() => {
        store.insertMessage(message("m1", "g1", 1));
        throw new Error("inner");
      }),
    );
    store.insertMessage(message("m2", "g1", 2));
    return "done";
  });
  assert.equal(result, "done");
  assert.notEqual(store.getGroup("g1"), null);
  assert.equal(store.getMessage("m1"), null);
  assert.notEqual(store.getMessage("m2"), null);
});

test("an_async_transaction_function_is_refused_and_rolled_back", (t) => {
  const store = openStore(t);
  assert.throws(
    () =>
      store.transaction(async () => {
        store.upsertGroup(group("g1"));
      }),
    TypeError,
  );
  assert.equal(store.getGroup("g1"), null);
});

test("data_survives_close_and_reopen", (t) => {
  const dataDir = tempDataDir(t);
  const first = AccountStore.open(dataDir, ME);
  first.upsertGroup(group("g1"));
  first.insertMessage(message("m1", "g1", 1));
  first.setMeta("relays", ["wss://a"]);
  first.close();
  first.close();

  const second = openStore(t, dataDir);
  assert.equal(second.getGroup("g1")?.name, "Group g1");
  assert.equal(second.getMessage("m1")?.content, "text m1");
  assert.deepEqual(second.getMeta("relays"), ["wss://a"]);
  assert.equal(second.insertMessage(message("m1", "g1", 1)), false);
});

test("a_writer_killed_mid_transaction_leaves_a_consistent_store", { timeout: 60_000 }, async (t) => {
  const dataDir = tempDataDir(t);
  const setup = AccountStore.open(dataDir, ME);
  setup.upsertGroup(group("g1", { state: new Uint8Array(4) }));
  setup.close();
  const fixture = fileURLToPath(new URL("./killWriter.fixture.js", import.meta.url));

  let previous = 0;
  for (let round = 1; round <= 3; round++) {
    const child = spawn(process.execPath, [fixture, dataDir, ME, "g1"], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`writer exited with ${code} before writing`)));
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL");

    const raw = new Database(accountDatabasePath(dataDir, ME));
    const integrity = raw.pragma("integrity_check", { simple: true });
    raw.close();
    assert.equal(integrity, "ok");

    const store = AccountStore.open(dataDir, ME);
    const state = store.getGroup("g1")?.state;
    const count = store.listMessages("g1", { limit: 1_000_000 }).messages.length;
    const processed = store.listMessages("g1", { limit: 1_000_000 }).messages.filter((m) => store.isProcessed(`event-${m.id}`)).length;
    store.close();
    assert.ok(state);
    assert.equal(stateCounter(state), count);
    assert.equal(processed, count);
    assert.ok(count > previous, `round ${round} wrote nothing`);
    t.diagnostic(`round ${round}: ${count - previous} transactions committed before SIGKILL, ${count} in total`);
    previous = count;
  }
});

test("batched_inserts_keep_well_above_2000_messages_per_second", (t) => {
  const store = openStore(t);
  store.upsertGroup(group("g1"));
  const total = 10_000;
  const batch = 500;
  const state = new Uint8Array(4096);

  const timeBatches = (prefix: string, write: (m: MessageInput, index: number) => void): number => {
    const started = process.hrtime.bigint();
    for (let offset = 0; offset < total; offset += batch) {
      store.transaction(() => {
        for (let index = offset; index < offset + batch; index++) write(message(`${prefix}${index}`, "g1", 1_700_000_000 + index), index);
      });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return Math.round(total / seconds);
  };

  const messagesOnly = timeBatches("a", (m) => store.insertMessage(m));
  const fullPath = timeBatches("b", (m, index) => {
    store.markProcessed(`event-${m.id}`, 445, m.created_at);
    store.insertMessage(m);
    store.updateGroupState("g1", state, index);
    store.touchGroup("g1", m.created_at);
  });
  const figure = `${total} messages in batches of ${batch}: ${messagesOnly} msgs/s inserting messages; ${fullPath} msgs/s with markProcessed + 4 KiB group state + touch per message`;
  t.diagnostic(figure);
  assert.equal(store.listMessages("g1", { limit: 1 }).has_older, true);
  assert.ok(fullPath > 2_000, figure);
});

test("unit: erase_message_blanks_only_the_senders_message_and_edits_and_leaves_no_bytes_behind", (t) => {
  const dataDir = tempDataDir(t);
  const store = openStore(t, dataDir);
  store.upsertGroup(group("g1"));
  const target = "1".repeat(64);
  const secret = "the-secret-words-0042";
  store.insertMessage(message(target, "g1", 1_000, { content: secret, tags: [] }));
  store.insertMessage(message("2".repeat(64), "g1", 1_001, { kind: 1009, content: `${secret} (edited)`, tags: [["e", target]] }));
  store.insertMessage(message("3".repeat(64), "g1", 1_002, { kind: 1009, sender: OTHER, content: "someone else's edit", tags: [["e", target]] }));
  assert.equal(store.listMessages("g1", { limit: 10 }).messages.length, 1, "edits are no rows of the window");
  assert.equal(store.eraseMessage("g1", target, OTHER), true, "the other's own edit row is theirs to blank");
  assert.equal(store.getMessage(target)?.content, secret, "nobody but the sender erases the message");
  store.insertMessage(message("4".repeat(64), "g1", 1_003, { kind: 5, content: "", tags: [["e", target], ["k", "9"]] }));
  assert.equal(store.isDeleted("g1", target, PEER), true);
  assert.equal(store.isDeleted("g1", target, OTHER), false);
  store.transaction(() => store.eraseMessage("g1", target, PEER));
  assert.equal(store.getMessage(target)?.content, "");
  assert.equal(store.getMessage("2".repeat(64))?.content, "");
  const path = accountDatabasePath(dataDir, ME);
  const bytes = Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);
  assert.ok(!bytes.includes("the-secret-words"), "neither the file nor its WAL holds the text");
});

test("unit: a_chat_of_one_sender_after_analyze_still_finds_reactions_edits_and_deletions_through_the_index", (t) => {
  const dataDir = tempDataDir(t);
  const store = openStore(t, dataDir);
  store.upsertGroup(group("g1"));
  // One sender, one kind, thousands of rows: the statistics that once made the planner scan the table.
  store.transaction(() => {
    for (let i = 0; i < 3_000; i++) store.insertMessage(message(i.toString(16).padStart(64, "0"), "g1", 1_000 + i, { tags: [] }));
  });
  const db = new Database(accountDatabasePath(dataDir, ME));
  t.after(() => db.close());
  db.exec("ANALYZE");
  const fresh = AccountStore.open(dataDir, ME);
  t.after(() => fresh.close());
  const plans = prepareStatementsFor(db);
  for (const [name, source] of plans) {
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...placeholders(source)) as Array<{ detail: string }>;
    assert.ok(plan.some((step) => step.detail.includes("USING INDEX messages_by_kind")), `${name}: ${plan.map((s) => s.detail).join("; ")}`);
    assert.ok(!plan.some((step) => /^SCAN messages\b/.test(step.detail)), `${name} scans the table`);
  }
  const target = "0".repeat(64);
  store.insertMessage(message("f".repeat(64), "g1", 9_000, { kind: 5, content: "", tags: [["e", target]] }));
  assert.equal(fresh.isDeleted("g1", target, PEER), true);
  assert.equal(fresh.isDeleted("g1", "1".padStart(64, "0"), PEER), false);
});

/** The sources of the statements that read one kind of a chat's rows, by name. */
function prepareStatementsFor(db: Database.Database): Array<[string, string]> {
  const statements = prepareStatements(db);
  return (["reactions", "messageChanges", "isDeleted", "latestEdit"] as const).map((name) => [name, statements[name].source]);
}

function placeholders(source: string): string[] {
  return Array.from({ length: (source.match(/\?/g) ?? []).length }, () => "x");
}
