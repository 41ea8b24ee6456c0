// The architecture page describes the code as it is: every source path it (and the README's
// "Where things are") names exists, and every feature folder of the core is on the page.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SOURCE_ROOTS = ["core/", "shared/", "electron/", "hosts/", "renderer/", "server/", "tools/", "scripts/", "e2e/", "bench/", "docs/"];

/** Backticked repository paths in `text`: `core/app/routes.ts`, `core/chats/` … (a `<name>` pattern is no path). */
export function namedPaths(text: string): string[] {
  return [...text.matchAll(/`([^`\s]+)`/g)]
    .map((m) => m[1]!)
    .filter((p) => SOURCE_ROOTS.some((r) => p.startsWith(r)) && !p.includes("<") && !p.includes("*"));
}

/** The named paths that do not exist in the repository. */
function missing(paths: string[]): string[] {
  return paths.filter((p) => !existsSync(join(root, p)));
}

test("every_path_the_architecture_page_and_readme_name_exists", () => {
  const page = namedPaths(readFileSync(join(root, "docs", "ARCHITECTURE.md"), "utf8"));
  assert.ok(page.length > 30, `the page names the code it describes (found ${page.length} paths)`);
  assert.deepEqual(missing(page), []);
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const where = readme.slice(readme.indexOf("## Where things are"), readme.indexOf("## What the messaging core guarantees"));
  assert.deepEqual(missing(namedPaths(where)), []);
});

test("the_page_names_every_feature_of_the_core", () => {
  const page = readFileSync(join(root, "docs", "ARCHITECTURE.md"), "utf8");
  const features = readdirSync(join(root, "core", "features"));
  assert.ok(features.length >= 10);
  assert.deepEqual(features.filter((name) => !page.includes(`\`${name}\``)), []);
});

test("a_path_that_does_not_exist_is_found_missing", () => {
  const paths = namedPaths("see `core/app/routes.ts`, `core/app/nowhere.ts` and `features/<name>/` and `npm test`");
  assert.deepEqual(paths, ["core/app/routes.ts", "core/app/nowhere.ts"]);
  assert.deepEqual(missing(paths), ["core/app/nowhere.ts"]);
});
