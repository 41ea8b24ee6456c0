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

const require = createRequire(import.meta.url);

/** The fuse names the installed electron-builder accepts (its JSON schema refuses any other). */
function knownFuseNames(): string[] {
  const schemaPath = require.resolve("app-builder-lib/scheme.json");
  const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as { definitions: { FuseOptionsV1: { properties: Record<string, unknown> } } };
  return Object.keys(schema.definitions.FuseOptionsV1.properties);
}

type ValidateConfiguration = (config: unknown, debugLogger: unknown) => Promise<void>;

/** electron-builder's own check of a configuration, the one `electron-builder` runs before packaging (an internal module, pinned by the lockfile). */
function electronBuilderValidation(): { validate: ValidateConfiguration; logger: unknown } {
  const { validateConfiguration } = require("app-builder-lib/out/util/config/config.js") as { validateConfiguration: ValidateConfiguration };
  const { DebugLogger } = require("builder-util") as { DebugLogger: new (enabled: boolean) => unknown };
  return { validate: validateConfiguration, logger: new DebugLogger(false) };
}

/** The folders of dist/ the `files` patterns leave out (`!dist/<folder>/**`). */
function excludedFolders(files: unknown): Set<string> {
  const folders = (Array.isArray(files) ? files : []).flatMap((pattern: unknown) => {
    const match = typeof pattern === "string" ? /^!dist\/([^/*]+)\/\*\*$/.exec(pattern) : null;
    return match?.[1] ? [match[1]] : [];
  });
  return new Set(folders);
}

function packagedScripts(dir: string, excluded: Set<string>): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const fromDist = relative(dist, path);
    if (entry.isDirectory()) return excluded.has(fromDist) ? [] : packagedScripts(path, excluded);
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

  test("the_whole_config_passes_electron_builders_own_validation_and_a_misspelled_fuse_does_not", async () => {
    const { validate, logger } = electronBuilderValidation();
    const config = builderConfig();
    await validate(config, logger);
    await assert.rejects(validate({ ...config, electronFuses: { ...config.electronFuses, runAsNod: false } }, logger), /electronFuses/);
  });

  test("the_app_is_packed_into_an_asar_so_only_load_app_from_asar_finds_it", () => {
    assert.equal(builderConfig().asar, true);
  });

  test("nothing_the_packaged_app_runs_relies_on_ELECTRON_RUN_AS_NODE", () => {
    // The scan below mirrors the `files` patterns: all of dist/ except the folders left out (the server, the hosts, …).
    const files = builderConfig().files;
    const excluded = excludedFolders(files);
    assert.ok(Array.isArray(files) && files.includes("dist/**") && excluded.has("server") && excluded.has("hosts"));
    assert.ok(!excluded.has("core") && !excluded.has("electron") && !excluded.has("renderer"), "the app's own code is packaged");
    const scripts = packagedScripts(dist, excluded);
    assert.ok(scripts.includes(join(dist, "electron", "main.js")), "dist/ holds a build (run node scripts/build.mjs)");
    const relying = scripts.filter((file) => readFileSync(file, "utf8").includes("ELECTRON_RUN_AS_NODE"));
    assert.deepEqual(relying.map((file) => relative(root, file).split(sep).join("/")), []);
  });
});
