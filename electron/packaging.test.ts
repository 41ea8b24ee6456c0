import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

// Compiled to dist/electron/packaging.test.js: the repository root is two folders up.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dist = join(root, "dist");

interface BuilderConfig {
  asar?: unknown;
  files?: unknown;
  electronFuses?: Record<string, unknown>;
}

function builderConfig(): BuilderConfig {
  const parsed: unknown = parse(readFileSync(join(root, "electron-builder.yml"), "utf8"));
  assert.ok(typeof parsed === "object" && parsed !== null, "electron-builder.yml is a mapping");
  return parsed as BuilderConfig;
}

/** The fuse names the installed electron-builder accepts (its JSON schema refuses any other). */
function knownFuseNames(): string[] {
  const schemaPath = createRequire(import.meta.url).resolve("app-builder-lib/scheme.json");
  const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as { definitions: { FuseOptionsV1: { properties: Record<string, unknown> } } };
  return Object.keys(schema.definitions.FuseOptionsV1.properties);
}

function packagedScripts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const fromDist = relative(dist, path);
    if (entry.isDirectory()) return fromDist === "server" ? [] : packagedScripts(path);
    return /\.(c|m)?js$/.test(entry.name) && !entry.name.endsWith(".test.js") ? [path] : [];
  });
}

describe("unit: packaging (electron-builder.yml)", () => {
  test("every_electron_fuse_is_set_to_the_security_checklist", () => {
    assert.deepEqual(builderConfig().electronFuses, {
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  test("fuse_names_are_ones_electron_builder_knows", () => {
    const known = new Set(knownFuseNames());
    for (const name of Object.keys(builderConfig().electronFuses ?? {})) {
      assert.ok(known.has(name), `electronFuses.${name} is not in app-builder-lib's schema`);
    }
  });

  test("the_app_is_packed_into_an_asar_so_only_load_app_from_asar_finds_it", () => {
    assert.equal(builderConfig().asar, true);
  });

  test("nothing_the_packaged_app_runs_relies_on_ELECTRON_RUN_AS_NODE", () => {
    // The scan below mirrors the `files` patterns: all of dist/ except the server.
    const files = builderConfig().files;
    assert.ok(Array.isArray(files) && files.includes("dist/**") && files.includes("!dist/server/**"));
    const scripts = packagedScripts(dist);
    assert.ok(scripts.includes(join(dist, "electron", "main.js")), "dist/ holds a build (run node scripts/build.mjs)");
    const relying = scripts.filter((file) => readFileSync(file, "utf8").includes("ELECTRON_RUN_AS_NODE"));
    assert.deepEqual(relying.map((file) => relative(root, file).split(sep).join("/")), []);
  });
});
