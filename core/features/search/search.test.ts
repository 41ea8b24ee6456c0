import assert from "node:assert/strict";
import { test } from "node:test";
import { SNIPPET_CLOSE as C, SNIPPET_OPEN as O } from "../../storage/messageSearch.js";
import { MAX_SNIPPET_LENGTH, snippetParts } from "./search.js";

test("unit: a_snippet_splits_into_matched_and_plain_parts", () => {
  assert.deepEqual(snippetParts(`…the ${O}fox${C} and the ${O}fox${C}`), [
    { text: "…the ", match: false },
    { text: "fox", match: true },
    { text: " and the ", match: false },
    { text: "fox", match: true },
  ]);
  assert.deepEqual(snippetParts("plain <b>text</b>"), [{ text: "plain <b>text</b>", match: false }]);
  assert.deepEqual(snippetParts(`${O}${C}`), []);
});

test("unit: a_snippet_of_one_huge_word_is_cut", () => {
  const parts = snippetParts(`${O}${"x".repeat(60_000)}${C} and more`);
  assert.equal(parts.length, 1);
  assert.equal(parts[0]?.text, `${"x".repeat(MAX_SNIPPET_LENGTH)}…`);
  assert.equal(parts[0]?.match, true);
  const two = snippetParts(`${"a".repeat(MAX_SNIPPET_LENGTH - 2)} ${O}word${C}`);
  assert.deepEqual(two.at(-1), { text: "w…", match: true });
});
