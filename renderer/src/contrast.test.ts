import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { contrastRatio, customProperties, declaration, resolveColor } from "./contrast.js";

// Run from dist/renderer-unit/renderer/src/; the stylesheet is read from the sources.
const css = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "renderer", "src", "styles.css"), "utf8");

/** Where small text sits: the page, a bubble, our own bubble, the open chat's row, a reaction chip, the new-messages divider. */
const backgrounds = (): Array<[string, string]> => [
  ["page", "var(--bg)"],
  ["surface", "var(--surface)"],
  ["bubble", declaration(css, ".bubble", "background")],
  ["own bubble", declaration(css, ".message-mine .bubble", "background")],
  ["open chat row", declaration(css, '.chat-button[aria-current="true"]', "background")],
  ["reaction", declaration(css, ".reaction", "background")],
];

describe("unit: colour contrast", () => {
  test("the_contrast_ratio_follows_wcag", () => {
    assert.equal(contrastRatio([0, 0, 0], [255, 255, 255]), 21);
    assert.equal(contrastRatio([255, 255, 255], [255, 255, 255]), 1);
    assert.equal(contrastRatio([0x77, 0x77, 0x77], [255, 255, 255]).toFixed(2), "4.48");
    assert.deepEqual(resolveColor("color-mix(in srgb, var(--a) 25%, #ffffff)", new Map([["--a", "#000000"]])), [191.25, 191.25, 191.25]);
  });

  for (const dark of [false, true]) {
    test(`${dark ? "dark" : "light"}_mode_text_timestamps_and_links_reach_4_5_to_1_on_every_background_they_sit_on`, () => {
      const properties = customProperties(css, dark);
      const tooLow: string[] = [];
      for (const foreground of ["var(--text)", "var(--muted)", "var(--accent)"]) {
        for (const [where, background] of backgrounds()) {
          const ratio = contrastRatio(resolveColor(foreground, properties), resolveColor(background, properties));
          if (ratio < 4.5) tooLow.push(`${foreground} on ${where}: ${ratio.toFixed(2)}:1`);
        }
      }
      assert.deepEqual(tooLow, []);
    });
  }
});
