import assert from "node:assert/strict";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { LogLine } from "../../../core/index.js";
import { tempDir } from "../../../core/testing.js";
import { DONE_IDS_KEPT, ReplyJournal } from "./replyJournal.js";

const entry = (id: string, createdAt = 1) => ({ id, chat_id: "c".repeat(64), text: `text ${id}`, created_at: createdAt });

describe("reply journal", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let path: string;
  const logs: LogLine[] = [];
  const log = (line: LogLine) => logs.push(line);
  beforeEach(async () => {
    dir = await tempDir();
    path = join(dir.path, "nested", "replies.json");
    logs.length = 0;
  });
  afterEach(async () => {
    await dir.remove();
  });

  test("pending_entries_survive_a_reopen_oldest_first", async () => {
    const journal = ReplyJournal.open(path, log);
    assert.deepEqual(journal.pending(), []);
    assert.equal(journal.add(entry("b", 20)), true);
    assert.equal(journal.add(entry("a", 10)), true);
    assert.equal((await stat(path)).mode & 0o777, 0o600, "message text is readable by the agent only");
    const reopened = ReplyJournal.open(path, log);
    assert.deepEqual(reopened.pending(), [entry("a", 10), entry("b", 20)]);
  });

  test("a_message_is_taken_on_once_even_after_it_was_answered", () => {
    const journal = ReplyJournal.open(path, log);
    assert.equal(journal.add(entry("a")), true);
    assert.equal(journal.add(entry("a")), false);
    journal.complete("a");
    assert.deepEqual(journal.pending(), []);
    assert.equal(journal.add(entry("a")), false);
    const reopened = ReplyJournal.open(path, log);
    assert.equal(reopened.has("a"), true);
    assert.equal(reopened.add(entry("a")), false);
    assert.deepEqual(reopened.pending(), []);
  });

  test("only_the_newest_answered_ids_are_kept", () => {
    const journal = ReplyJournal.open(path, log);
    for (let i = 0; i <= DONE_IDS_KEPT; i++) journal.complete(`id${i}`);
    const reopened = ReplyJournal.open(path, log);
    assert.equal(reopened.has("id0"), false);
    assert.equal(reopened.has("id1"), true);
    assert.equal(reopened.has(`id${DONE_IDS_KEPT}`), true);
  });

  test("a_damaged_journal_is_set_aside_and_logged", async () => {
    ReplyJournal.open(path, log).add(entry("a"));
    await writeFile(path, "{ half written");
    const journal = ReplyJournal.open(path, log);
    assert.deepEqual(journal.pending(), []);
    assert.equal(logs[0]?.event, "reply_journal_damaged");
    const names = await readdir(join(dir.path, "nested"));
    assert.ok(names.some((name) => name.startsWith("replies.json.damaged-")));
    journal.add(entry("b"));
    assert.match(await readFile(path, "utf8"), /"b"/);
  });
});
