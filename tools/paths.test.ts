// Every path the project names exists after a build: package.json's entries and script arguments,
// electron-builder.yml's, the scripts' and e2e/host.ts's built files, README.md's commands, and the
// paths built programs compute from where they are. Each bin also starts and shows its usage.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { DEFAULT_AGENT_ENTRY } from "../server/agent/spawner/localSpawner.js";
import { STACK_ENTRIES } from "../server/stack/entries.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A path relative to the repository root, and where it was named. */
interface NamedPath {
  path: string;
  where: string;
}

interface PackageJson {
  main?: string;
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
}

const literals = (text: string): string[] => [...text.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);

/** `main`, each bin, and the file arguments of the scripts (words naming a file or a folder, not flags). */
function packagePaths(pkg: PackageJson, where = "package.json"): NamedPath[] {
  const paths: NamedPath[] = [];
  if (pkg.main) paths.push({ path: pkg.main, where: `${where} main` });
  for (const [name, path] of Object.entries(pkg.bin ?? {})) paths.push({ path, where: `${where} bin ${name}` });
  for (const [name, command] of Object.entries(pkg.scripts ?? {})) {
    for (const word of command.split(/\s+|&&/)) {
      if (word.startsWith("-") || word.includes("=")) continue;
      if (word.includes("/") || /\.(m?js|cjs|ts|json|ya?ml)$/.test(word)) paths.push({ path: word, where: `${where} scripts.${name}` });
    }
  }
  return paths;
}

/** extraMetadata.main, the bases of the packaged `files`, and the dist/ files its comments require. */
function builderPaths(text: string, where = "electron-builder.yml"): NamedPath[] {
  const config = parse(text) as { extraMetadata?: { main?: string }; files?: string[] };
  const paths: NamedPath[] = [];
  if (config.extraMetadata?.main) paths.push({ path: config.extraMetadata.main, where: `${where} extraMetadata.main` });
  for (const entry of config.files ?? []) {
    if (entry.startsWith("!")) continue;
    paths.push({ path: entry.split("*")[0]!, where: `${where} files` });
  }
  for (const line of text.split("\n").filter((l) => l.trimStart().startsWith("#"))) {
    for (const m of line.matchAll(/dist\/[\w./-]*/g)) paths.push({ path: m[0].replace(/\.$/, ""), where: `${where} comment` });
  }
  return paths;
}

/**
 * Paths in a script or e2e/host.ts, all relative to the repository root: `join(root, "…", …)` with
 * literal segments (outside node_modules/), `"dist/…"`, `"scripts/…"` and `"e2e/…"` literals,
 * `join("…", …)` of built modules (stack.mjs's `built()` takes them under dist/), and the start
 * script's SOURCES.
 */
function scriptPaths(text: string, where: string): NamedPath[] {
  const paths: NamedPath[] = [];
  for (const m of text.matchAll(/join\(\s*root((?:\s*,\s*"[^"]*")+)\s*\)/g)) {
    const path = literals(m[1]!).join("/");
    // node_modules/ is npm's, and holds stamp files the scripts write themselves.
    if (!path.startsWith("node_modules/")) paths.push({ path, where });
  }
  for (const m of text.matchAll(/[^\w.]join\(((?:\s*"[^"]*"\s*,?)+)\)/g)) paths.push({ path: ["dist", ...literals(m[1]!)].join("/"), where: `${where} (built module)` });
  for (const m of text.matchAll(/"((?:dist|scripts|e2e)\/[^"]*)"/g)) paths.push({ path: m[1]!, where });
  const sources = /const SOURCES = \[([^\]]*)\]/.exec(text);
  if (sources) for (const path of literals(sources[1]!)) paths.push({ path, where: `${where} SOURCES` });
  return paths;
}

/** Every `node dist/…` command. */
function readmePaths(text: string, where = "README.md"): NamedPath[] {
  return [...text.matchAll(/\bnode (dist\/[\w./-]*\w)/g)].map((m) => ({ path: m[1]!, where }));
}

function missing(paths: NamedPath[]): NamedPath[] {
  return paths.filter(({ path }) => !existsSync(join(root, path)));
}

const read = (path: string): string => readFileSync(join(root, path), "utf8");
const pkg = JSON.parse(read("package.json")) as PackageJson;

test("the_collectors_flag_paths_that_do_not_exist", () => {
  const named = [
    ...packagePaths({ main: "dist/electron/main.js", bin: { gone: "dist/nowhere/main.js" }, scripts: { start: "node scripts/start.mjs", old: "node scripts/old.mjs --json" } }),
    ...builderPaths("# needs dist/electron/vanished.cjs\nextraMetadata:\n  main: dist/electron/main.js\nfiles:\n  - dist/**\n  - \"!dist/server/**\"\n"),
    ...scriptPaths('spawn(process.execPath, [join(root, "dist", "made-up", "web.js")]);\ncapture("dist/hosts/cli/main.js");\nawait built(join("made-up", "core", "paths.js"));', "made-up.mjs"),
    ...readmePaths("run `node dist/made-up/cli/main.js`, or `node dist/hosts/cli/main.js --help`"),
  ];
  assert.deepEqual(
    missing(named).map((p) => p.path),
    ["dist/nowhere/main.js", "scripts/old.mjs", "dist/electron/vanished.cjs", "dist/made-up/web.js", "dist/made-up/core/paths.js", "dist/made-up/cli/main.js"],
  );
});

test("every_path_named_by_the_project_exists_after_the_build", () => {
  const scripts = readdirSync(join(root, "scripts")).filter((name) => name.endsWith(".mjs")).map((name) => `scripts/${name}`);
  const named = [
    ...packagePaths(pkg),
    ...builderPaths(read("electron-builder.yml")),
    // What the packaged window loads (app://burrow/index.html), beside the files named above.
    { path: "dist/renderer/index.html", where: "electron-builder.yml (the renderer's page)" },
    ...[...scripts, "e2e/host.ts"].flatMap((path) => scriptPaths(read(path), path)),
    ...readmePaths(read("README.md")),
  ];
  for (const where of ["package.json main", "package.json bin burrow-web", "electron-builder.yml comment", "scripts/agent-demo.mjs", "e2e/host.ts", "README.md"]) {
    assert.ok(named.some((p) => p.where === where), `nothing collected from ${where}`);
  }
  assert.deepEqual(missing(named), []);
});

test("paths_computed_by_built_programs_exist", () => {
  const computed = [...Object.entries(STACK_ENTRIES).map(([name, path]) => ({ path, where: `server/stack/entries.ts ${name}` })), { path: DEFAULT_AGENT_ENTRY, where: "localSpawner's bot entry" }];
  for (const { path, where } of computed) {
    assert.ok(!relative(join(root, "dist"), path).startsWith(".."), `${where} (${path}) is outside dist/`);
    assert.ok(existsSync(path), `${where}: ${path} does not exist`);
  }
});

/** A throwaway home: no bin may read or write this user's data or config. */
async function withTempHome<T>(run: (env: NodeJS.ProcessEnv, home: string) => Promise<T>): Promise<T> {
  const home = await mkdtemp(join(tmpdir(), "burrow-paths-"));
  try {
    return await run({ ...process.env, HOME: home, USERPROFILE: home, APPDATA: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_DATA_HOME: join(home, ".local", "share"), XDG_CACHE_HOME: join(home, ".cache"), BURROW_STACK_HOME: join(home, "stack") }, home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function runNode(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

test("each_bin_has_a_node_shebang_and_prints_its_usage_for_help", async () => {
  const bins = Object.entries(pkg.bin ?? {});
  await withTempHome(async (env) => {
    for (const [name, built] of bins) {
      const source = built.replace(/^dist\//, "").replace(/\.js$/, ".ts");
      assert.equal(read(source).split("\n")[0], "#!/usr/bin/env node", `${source} (bin ${name})`);
      assert.equal(read(built).split("\n")[0], "#!/usr/bin/env node", `${built} (bin ${name})`);
      const help = await runNode([built, "--help"], env, 10_000);
      assert.equal(help.code, 0, `${name} --help: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`^usage: ${name}\\b`, "im"), `${name} --help prints its usage`);
      assert.ok(help.ms < 5_000, `${name} --help took ${help.ms} ms`);
    }
  });
});

test("the_browser_host_serves_the_built_renderer", async () => {
  await withTempHome(async (env, home) => {
    const child = spawn(process.execPath, [join(root, pkg.bin!["burrow-web"]!), "--data-dir", join(home, "data"), "--port", "0", "--no-open", "--json"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`burrow-web did not report ready in 20 s: ${stderr}`)), 20_000);
        void exited.then((code) => reject(new Error(`burrow-web exited with ${code}: ${stderr}`)));
        createInterface({ input: child.stdout }).on("line", (line) => {
          let entry: { event?: string; url?: string } = {};
          try {
            entry = JSON.parse(line) as typeof entry;
          } catch {
            // Not a log line.
          }
          if (entry.event === "ready" && entry.url) {
            clearTimeout(timer);
            resolve(entry.url);
          }
        });
      });
      const response = await fetch(new URL("/", url));
      assert.equal(response.status, 200);
      assert.equal(await response.text(), read("dist/renderer/index.html"));
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });
});
