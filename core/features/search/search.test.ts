import assert from "node:assert/strict";
import { test } from "node:test";
import { SNIPPET_CLOSE as C, SNIPPET_OPEN as O } from "../../storage/messageSearch.js";
import { snippetParts } from "./search.js";

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
