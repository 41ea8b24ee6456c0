import assert from "node:assert/strict";
import { test } from "node:test";
import { EMOJI_COLUMNS, EMOJI_GROUPS, gridMove, insertAt } from "./emoji.js";

test("an_emoji_replaces_the_selection_and_the_caret_follows_it", () => {
  assert.deepEqual(insertAt("hello world", 5, 5, "🦫"), { text: "hello🦫 world", caret: 7 });
  assert.deepEqual(insertAt("hello world", 6, 11, "👋"), { text: "hello 👋", caret: 8 });
  assert.deepEqual(insertAt("", 0, 0, "✨"), { text: "✨", caret: 1 });
});

test("a_selection_out_of_range_is_clamped_to_the_text", () => {
  assert.deepEqual(insertAt("abc", 10, 20, "🔥"), { text: "abc🔥", caret: 5 });
  assert.deepEqual(insertAt("abc", 2, 1, "🔥"), { text: "ab🔥c", caret: 4 });
});

test("arrow_keys_move_within_the_grid_and_stop_at_its_edges", () => {
  assert.equal(gridMove(0, "ArrowLeft", 10, 4), 0);
  assert.equal(gridMove(0, "ArrowRight", 10, 4), 1);
  assert.equal(gridMove(1, "ArrowDown", 10, 4), 5);
  assert.equal(gridMove(8, "ArrowDown", 10, 4), 9);
  assert.equal(gridMove(2, "ArrowUp", 10, 4), 2);
  assert.equal(gridMove(6, "ArrowUp", 10, 4), 2);
  assert.equal(gridMove(6, "End", 10, 4), 9);
  assert.equal(gridMove(6, "Home", 10, 4), 0);
  assert.equal(gridMove(6, "a", 10, 4), 6);
});

test("every_emoji_is_listed_once", () => {
  const all = EMOJI_GROUPS.flatMap((group) => group.emoji);
  assert.equal(new Set(all).size, all.length);
});

test("every_group_fills_whole_rows_so_arrow_keys_match_the_grid", () => {
  for (const group of EMOJI_GROUPS) assert.equal(group.emoji.length % EMOJI_COLUMNS, 0, group.name);
});
