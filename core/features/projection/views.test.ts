import assert from "node:assert/strict";
import { test } from "node:test";
import type { MessageRow } from "../../storage/accountStore.js";
import { messageChanges, messageText, replyQuote } from "./views.js";

const AUTHOR = "a".repeat(64);
const OTHER = "b".repeat(64);
const TARGET = "1".repeat(64);

let seq = 0;
const row = (sender: string, kind: number, content: string, tags: string[][], createdAt = 1_000): MessageRow => ({
  seq: ++seq,
  id: String(seq).padStart(64, "0"),
  group_id: "g",
  sender,
  kind,
  content,
  tags,
  created_at: createdAt,
  status: "received",
  error: null,
  event_json: null,
});

const target: MessageRow = { ...row(AUTHOR, 9, "helo", []), id: TARGET };
const profile = (pubkey: string) => ({ pubkey, npub: `npub-${pubkey.slice(0, 4)}`, name: null, picture: null });

test("unit: only_the_authors_newest_edit_counts", () => {
  const changes = messageChanges([row(AUTHOR, 1009, "hello", [["e", TARGET]], 1_001), row(OTHER, 1009, "forged", [["e", TARGET]], 1_005), row(AUTHOR, 1009, "hello!", [["e", TARGET]], 1_002)]);
  assert.equal(changes.editedText(target), "hello!");
  assert.equal(messageText(target, changes), "hello!");
  assert.equal(messageChanges([row(OTHER, 1009, "forged", [["e", TARGET]])]).editedText(target), null);
});

test("unit: only_the_authors_deletion_counts", () => {
  assert.equal(messageChanges([row(OTHER, 5, "", [["e", TARGET]])]).deleted(target), false);
  const changes = messageChanges([row(AUTHOR, 5, "", [["e", TARGET]])]);
  assert.equal(changes.deleted(target), true);
  assert.equal(messageText(target, changes), "");
  assert.deepEqual(replyQuote(TARGET, target, changes, profile), { id: TARGET, sender: profile(AUTHOR), excerpt: "", state: "deleted" });
});

test("unit: a_quote_shows_its_parent_cut_short_or_says_it_is_not_here", () => {
  const long = { ...target, content: "x".repeat(300) };
  const quote = replyQuote(TARGET, long, messageChanges([]), profile);
  assert.equal(quote.state, "shown");
  assert.equal(quote.excerpt, `${"x".repeat(120)}…`);
  assert.deepEqual(replyQuote(TARGET, null, messageChanges([]), profile), { id: TARGET, sender: null, excerpt: "", state: "not_loaded" });
});
