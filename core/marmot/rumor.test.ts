import assert from "node:assert/strict";
import { test } from "node:test";
import { decode } from "nostr-tools/nip19";
import { getEventHash } from "nostr-tools/pure";
import { changeTarget, chatMessageRumor, deletionRumor, editRumor, parseRumor, replyRumor, replyTarget, replyText, serializeRumor } from "./rumor.js";

const ALICE = "a1".repeat(32);
const BOB = "b2".repeat(32);

test("unit: a_reply_quotes_its_parent_with_a_q_tag_and_an_nevent_line", () => {
  const parent = chatMessageRumor(ALICE, "lunch?", [], 1_700_000_000);
  const reply = replyRumor(BOB, parent, "yes", 1_700_000_001);
  assert.equal(reply.kind, 9);
  assert.deepEqual(reply.tags, [["q", parent.id, "", ALICE]]);
  const [reference, text] = reply.content.split("\n");
  assert.equal(text, "yes");
  const decoded = decode((reference ?? "").replace(/^nostr:/, ""));
  assert.equal(decoded.type, "nevent");
  assert.deepEqual(decoded.data, { id: parent.id, author: ALICE, relays: [], kind: undefined });
  assert.equal(replyTarget(reply.tags), parent.id);
  assert.equal(replyText(reply.content), "yes");
  assert.equal(getEventHash(reply), reply.id);
  assert.deepEqual(parseRumor(serializeRumor(reply)), reply);
});

test("unit: reply_text_keeps_text_that_only_looks_like_a_reference", () => {
  assert.equal(replyText("nostr:nevent1bad!\nhi"), "nostr:nevent1bad!\nhi");
  assert.equal(replyText("plain\nnostr:nevent1qqs\n"), "plain\nnostr:nevent1qqs\n");
  assert.equal(replyTarget([["q", "x"]]), null);
  assert.equal(replyTarget([["q", ALICE], ["q", BOB]]), null, "two parents: not a reply we can show");
});

test("unit: an_edit_is_kind_1009_naming_its_target_in_one_e_tag", () => {
  const target = chatMessageRumor(ALICE, "helo", [], 1_700_000_000);
  const edit = editRumor(ALICE, target.id, "hello", 1_700_000_005);
  assert.deepEqual({ kind: edit.kind, tags: edit.tags, content: edit.content, pubkey: edit.pubkey }, { kind: 1009, tags: [["e", target.id]], content: "hello", pubkey: ALICE });
  assert.equal(changeTarget(edit.tags), target.id);
  assert.equal(getEventHash(edit), edit.id);
});

test("unit: a_deletion_is_kind_5_with_an_e_tag_and_the_target_kind", () => {
  const target = chatMessageRumor(ALICE, "oops", [], 1_700_000_000);
  const deletion = deletionRumor(ALICE, target, 1_700_000_009);
  assert.deepEqual({ kind: deletion.kind, tags: deletion.tags, content: deletion.content }, { kind: 5, tags: [["e", target.id], ["k", "9"]], content: "" });
  assert.equal(changeTarget(deletion.tags), target.id);
});

test("unit: a_change_naming_no_target_or_several_is_ignored", () => {
  assert.equal(changeTarget([]), null);
  assert.equal(changeTarget([["e", "not-hex"]]), null);
  assert.equal(changeTarget([["e", ALICE], ["e", BOB]]), null);
  assert.equal(changeTarget([["e", ALICE.toUpperCase()]]), null);
});
