import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { npubFromHex } from "../../shared/pubkeys.js";
import { generatedAvatar, initialsOf } from "./avatar.js";

const A = "a1".repeat(32);
const B = "3c".repeat(16) + "f0".repeat(16);

describe("unit: generated avatars", () => {
  test("the_same_key_always_gives_the_same_avatar_and_other_keys_differ", () => {
    assert.deepEqual(generatedAvatar(A, null, npubFromHex(A)), generatedAvatar(A, null, npubFromHex(A)));
    const a = generatedAvatar(A, null, npubFromHex(A));
    const b = generatedAvatar(B, null, npubFromHex(B));
    assert.notDeepEqual(a.cells, b.cells);
    assert.notEqual(a.foreground, b.foreground);
  });

  test("the_grid_is_five_by_five_and_mirrored", () => {
    for (const key of [A, B, "0f".repeat(32), "e7".repeat(8) + "18".repeat(24)]) {
      const { cells } = generatedAvatar(key, null, npubFromHex(key));
      assert.equal(cells.length, 25);
      for (let row = 0; row < 5; row += 1) {
        assert.equal(cells[row * 5], cells[row * 5 + 4]);
        assert.equal(cells[row * 5 + 1], cells[row * 5 + 3]);
      }
    }
  });

  test("cells_and_colour_follow_the_key_bytes", () => {
    // A cell is drawn when its byte is odd; the hue is the first two bytes modulo 360.
    assert.ok(generatedAvatar(A, null, "").cells.every(Boolean));
    assert.ok(generatedAvatar("00".repeat(32), null, "").cells.every((c) => !c));
    assert.equal(generatedAvatar("0100" + "00".repeat(30), null, "").foreground, "hsl(256 55% 42%)");
  });

  test("the_path_draws_exactly_the_drawn_cells", () => {
    for (const key of [A, B, "0f".repeat(32), "e7".repeat(8) + "18".repeat(24), "00".repeat(32)]) {
      const { cells, cellsPath } = generatedAvatar(key, null, npubFromHex(key));
      const squares = [...cellsPath.matchAll(/M(\d) (\d)h1v1h-1z/g)].map((m) => Number(m[2]) * 5 + Number(m[1]));
      assert.equal(cellsPath.replace(/M\d \dh1v1h-1z/g, ""), "");
      assert.deepEqual(squares, cells.flatMap((on, i) => (on ? [i] : [])));
    }
  });

  test("initials_come_from_the_name_else_the_npub", () => {
    assert.equal(initialsOf("Alice Liddell", "npub1xyz"), "AL");
    assert.equal(initialsOf("bob", "npub1xyz"), "BO");
    assert.equal(initialsOf("  ", "npub1qz9"), "QZ");
    assert.equal(initialsOf(null, "npub1ab"), "AB");
    assert.equal(initialsOf("Émile 😀", "npub1"), "É😀");
  });
});
