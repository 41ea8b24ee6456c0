import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import Database from "better-sqlite3";
import { AccountStore, accountDatabasePath, type MessageInput } from "./accountStore.js";
import { SNIPPET_CLOSE, SNIPPET_OPEN, ftsQuery } from "./messageSearch.js";
import { MIGRATIONS, runMigrations, userVersion } from "./migrations.js";

const ME = "a".repeat(64);
const PEER = "b".repeat(64);
const G1 = "1".repeat(64);
const G2 = "2".repeat(64);

function setup(t: TestContext): { store: AccountStore; raw: Database.Database } {
  const dir = mkdtempSync(join(tmpdir(), "burrow-search-"));
  const store = AccountStore.open(dir, ME);
  // A second connection, as another writer of the messages table (edits, deletes) would use.
  const raw = new Database(accountDatabasePath(dir, ME));
  t.after(() => {
    raw.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const id of [G1, G2]) {
    store.upsertGroup({
      id,
      mls_group_id: `mls-${id}`,
      kind: "group",
      name: "g",
      description: "",
      admins: [ME],
      relays: [],
      members: [ME, PEER],
      peer: null,
      state: new Uint8Array([1]),
      epoch: 0,
      created_at: 1,
      updated_at: 1,
    });
  }
  return { store, raw };
}

const msg = (id: string, groupId: string, content: string, createdAt: number, kind = 9): MessageInput => ({
  id,
  group_id: groupId,
  sender: PEER,
  kind,
  content,
  tags: [],
  created_at: createdAt,
  status: "received",
});

const ids = (store: AccountStore, query: string, options: { groupId?: string; limit?: number } = {}): string[] =>
  store.messageSearch.search(query, { limit: 50, ...options }).hits.map((hit) => hit.id);

/** Whether the index's own pages still hold this word: a deleted message must leave no trace there. */
function indexHolds(raw: Database.Database, word: string): boolean {
  return raw
    .prepare<[], { block: Buffer | null }>("SELECT block FROM messages_fts_data")
    .all()
    .some((row) => row.block?.includes(word) === true);
}

test("unit: search_finds_chat_messages_newest_first_with_a_marked_snippet", (t) => {
  const { store } = setup(t);
  store.insertMessage(msg("m1", G1, "the quick brown fox", 10));
  store.insertMessage(msg("m2", G2, "a fox again", 30));
  store.insertMessage(msg("m3", G1, "no match here", 20));
  assert.deepEqual(ids(store, "fox"), ["m2", "m1"]);
  const [hit] = store.messageSearch.search("QUICK", { limit: 1 }).hits;
  assert.equal(hit?.snippet, `the ${SNIPPET_OPEN}quick${SNIPPET_CLOSE} brown fox`);
  assert.deepEqual(ids(store, "fox", { groupId: G1 }), ["m1"]);
  // Every term is required; the last one matches as a prefix too.
  assert.deepEqual(ids(store, "quick fo"), ["m1"]);
  assert.deepEqual(ids(store, "quick again"), []);
});

test("unit: only_chat_messages_are_indexed_not_system_lines_or_reactions", (t) => {
  const { store } = setup(t);
  store.insertMessage(msg("text", G1, "banana", 1));
  store.insertMessage(msg("reaction", G1, "banana", 2, 7));
  store.insertMessage(msg("system", G1, "banana", 3, 1_000));
  assert.deepEqual(ids(store, "banana"), ["text"]);
});

test("unit: results_are_paged_with_has_more", (t) => {
  const { store } = setup(t);
  for (let i = 0; i < 5; i++) store.insertMessage(msg(`m${i}`, G1, `word ${i}`, i));
  const first = store.messageSearch.search("word", { limit: 2 });
  assert.deepEqual(first.hits.map((h) => h.id), ["m4", "m3"]);
  assert.equal(first.has_more, true);
  const all = store.messageSearch.search("word", { limit: 5 });
  assert.equal(all.hits.length, 5);
  assert.equal(all.has_more, false);
  assert.throws(() => store.messageSearch.search("word", { limit: 0 }), RangeError);
});

test("unit: user_input_is_searched_as_text_never_as_fts_syntax", (t) => {
  const { store } = setup(t);
  store.insertMessage(msg("and", G1, "salt AND pepper", 1));
  store.insertMessage(msg("quote", G1, 'he said "hi" (twice)', 2));
  store.insertMessage(msg("near", G1, "NEAR the col:umn", 3));
  const weird = ['"', '""', "*", "AND", "OR", "NOT", "(", ")", "NEAR(", "^", "-", ":", "col:umn", 'a"b', "'; DROP TABLE messages; --", "{x}", "\u0000", "…", "🎉", "  ", "", "+", "a*b", "NEAR/2"];
  for (const input of weird) assert.doesNotThrow(() => store.messageSearch.search(input, { limit: 5 }), `input ${JSON.stringify(input)}`);
  assert.deepEqual(ids(store, "AND"), ["and"]);
  assert.deepEqual(ids(store, "salt AND"), ["and"]);
  assert.deepEqual(ids(store, '"hi"'), ["quote"]);
  assert.deepEqual(ids(store, "(twice)"), ["quote"]);
  assert.deepEqual(ids(store, "NEAR("), ["near"]);
  assert.deepEqual(ids(store, "col:umn"), ["near"]);
  assert.deepEqual(ids(store, "*"), []);
  assert.equal(ftsQuery("  ( * ) "), null);
  assert.equal(ftsQuery('a"b  c'), '"a""b" "c"*');
  assert.equal(store.getMessage("and")?.content, "salt AND pepper");
});

test("unit: search_ignores_case_and_diacritics", (t) => {
  const { store } = setup(t);
  store.insertMessage(msg("cafe", G1, "Meet at the Café", 1));
  assert.deepEqual(ids(store, "cafe"), ["cafe"]);
  assert.deepEqual(ids(store, "CAFÉ"), ["cafe"]);
});

test("unit: an_edited_message_is_found_by_its_new_text_only", (t) => {
  const { store, raw } = setup(t);
  store.insertMessage(msg("m", G1, "original words", 1));
  raw.prepare("UPDATE messages SET content = ? WHERE id = ?").run("corrected text", "m");
  assert.deepEqual(ids(store, "original"), []);
  assert.deepEqual(ids(store, "corrected"), ["m"]);
  // Other columns changing leaves the index as it is.
  raw.prepare("UPDATE messages SET status = 'sent' WHERE id = ?").run("m");
  assert.deepEqual(ids(store, "corrected"), ["m"]);
});

test("unit: a_deleted_or_blanked_message_leaves_nothing_in_the_index", (t) => {
  const { store, raw } = setup(t);
  store.insertMessage(msg("deleted", G1, "secretword one", 1));
  store.insertMessage(msg("blanked", G1, "hiddenword two", 2));
  store.insertMessage(msg("grouped", G2, "cascadeword three", 3));
  store.insertMessage(msg("kept", G1, "keptword", 4));
  raw.prepare("DELETE FROM messages WHERE id = ?").run("deleted");
  raw.prepare("UPDATE messages SET content = '' WHERE id = ?").run("blanked");
  assert.ok(store.deleteGroup(G2));
  assert.deepEqual(ids(store, "secretword"), []);
  assert.deepEqual(ids(store, "hiddenword"), []);
  assert.deepEqual(ids(store, "cascadeword"), []);
  for (const word of ["secretword", "hiddenword", "cascadeword"]) assert.equal(indexHolds(raw, word), false, word);
  assert.equal(indexHolds(raw, "keptword"), true);
  assert.doesNotThrow(() => raw.prepare("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')").run());
});

test("unit: migration_2_indexes_the_messages_of_a_version_1_database", () => {
  const db = new Database(":memory:");
  runMigrations(db, MIGRATIONS.slice(0, 1));
  db.prepare("INSERT INTO groups (id, mls_group_id, kind, name, description, admins, relays, members, state, epoch, created_at, updated_at) VALUES (?, 'm', 'group', '', '', '[]', '[]', '[]', x'00', 0, 0, 0)").run(G1);
  const insert = db.prepare("INSERT INTO messages (id, group_id, sender, kind, content, tags, created_at, status) VALUES (?, ?, ?, ?, ?, '[]', ?, 'received')");
  insert.run("old", G1, PEER, 9, "message from before search", 1);
  insert.run("line", G1, PEER, 1_000, "system before search", 2);
  runMigrations(db);
  assert.ok(userVersion(db) >= 2);
  const found = db
    .prepare<[], { id: string }>("SELECT m.id FROM messages_fts JOIN messages AS m ON m.seq = messages_fts.rowid WHERE messages_fts MATCH 'before'")
    .all();
  assert.deepEqual(found, [{ id: "old" }]);
  insert.run("new", G1, PEER, 9, "message after", 3);
  assert.deepEqual(db.prepare("SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH 'message'").get(), { n: 2 });
  db.close();
});
