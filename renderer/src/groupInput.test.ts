import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MAX_REQUEST_ID } from "../../shared/actions.js";
import { npubFromHex } from "../../shared/pubkeys.js";
import { newRequestId, outcomeOf, parseMemberInput } from "./groupInput.js";

const me = "c".repeat(64);
const other = "d".repeat(64);

describe("unit: group form input", () => {
  test("a_member_may_be_typed_as_npub_or_hex", () => {
    assert.deepEqual(parseMemberInput(` ${npubFromHex(other)} `, me, [], "Already in the list"), { ok: true, pubkey: other });
    assert.deepEqual(parseMemberInput(other.toUpperCase(), me, [], "Already in the list"), { ok: true, pubkey: other });
  });

  test("our_own_key_and_a_member_already_there_are_refused_with_their_reason", () => {
    assert.deepEqual(parseMemberInput(npubFromHex(me), me, [], "x"), { ok: false, error: "That is your own key. Enter another member's npub" });
    assert.deepEqual(parseMemberInput(other, me, [other], "Already in this group"), { ok: false, error: "Already in this group" });
  });

  test("input_that_is_no_public_key_keeps_the_parser_error", () => {
    const result = parseMemberInput("nsec1abc", me, [], "x");
    assert.equal(result.ok, false);
    assert.match(result.ok ? "" : result.error, /private key/);
  });

  test("request_ids_are_positive_integers_below_the_contract_limit", () => {
    for (let i = 0; i < 1000; i++) {
      const id = newRequestId();
      assert.ok(Number.isSafeInteger(id) && id > 0 && id < MAX_REQUEST_ID, String(id));
    }
  });

  test("the_outcome_of_our_own_request_is_found_by_id", () => {
    const outcomes = [
      { request_id: 7, error: "refused" },
      { request_id: 9, error: null },
    ];
    assert.deepEqual(outcomeOf(outcomes, 9), { request_id: 9, error: null });
    assert.equal(outcomeOf(outcomes, 8), undefined);
    assert.equal(outcomeOf(outcomes, undefined), undefined);
  });
});
