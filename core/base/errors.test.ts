// What a user reads for a failure: table text for the core's own, words for the protocol's, never
// the protocol layer's log message.
import assert from "node:assert/strict";
import { test } from "node:test";
import { toUserMessage } from "../../shared/errors.js";
import { MarmotError } from "../marmot/errors.js";
import { CoreError, userText, userTextOr } from "./errors.js";

test("a_protocol_failure_reaches_the_user_in_words_not_as_its_log_message", () => {
  const error = new MarmotError("invalid_key_package", "KeyPackage lifetime not_after 1700000000 is in the past (leaf 0x01)");
  assert.equal(userText(error), "their key package is not valid");
  const shown = userTextOr("group_update_failed", error);
  assert.equal(shown, "Could not update the group: their key package is not valid");
  assert.ok(!shown.includes("leaf 0x01"));
});

test("a_core_failure_is_shown_as_its_table_text_and_is_not_wrapped_again", () => {
  assert.equal(userText(new CoreError("chat_not_found")), "That chat does not exist.");
  assert.equal(userTextOr("chat_create_failed", new CoreError("key_package_not_found", "npub1abc…")), toUserMessage("key_package_not_found", "npub1abc…"));
});

test("an_error_with_its_own_user_message_and_a_plain_error_keep_their_text", () => {
  assert.equal(userText({ toUserMessage: () => "Agent auth failed. Please sign in again." }), "Agent auth failed. Please sign in again.");
  assert.equal(userTextOr("chat_create_failed", new Error("socket hang up")), "Could not create the chat: socket hang up");
});
