// `npm start`: builds what is missing, then starts Burrow — the Electron app where an Electron binary
// can run, otherwise the browser host (printing why, and the URL). Extra arguments go to the host.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { root, run } from "./run.mjs";

const SOURCES = ["shared", "electron", "renderer", "server", "vite.config.ts", "vite.preload.config.ts", "package.json"];
const stampPath = join(root, "dist", "build-stamp.json");

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), info.mtimeMs);
}

function buildIsCurrent() {
  if (!existsSync(stampPath)) return false;
  const built = statSync(stampPath).mtimeMs;
  return SOURCES.every((source) => newestMtime(join(root, source)) <= built);
}

/** The installed Electron binary (as node_modules/electron/index.js finds it, without running its download), or null. */
function electronBinary() {
  const packageDir = join(root, "node_modules", "electron");
  const pathFile = join(packageDir, "path.txt");
  if (!existsSync(pathFile)) return null;
  const binary = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(packageDir, "dist"), readFileSync(pathFile, "utf8").trim());
  return existsSync(binary) ? binary : null;
}

/** The Electron binary's path, fetching it on first use, or the reason there is none. */
function findElectron() {
  const installed = electronBinary();
  if (installed) return { path: installed };
  const installer = join(root, "node_modules", "electron", "install.js");
  if (!existsSync(installer)) return { reason: "the electron package is not installed" };
  console.log("Fetching the Electron binary (first start)…");
  const result = spawnSync(process.execPath, [installer], { cwd: root, encoding: "utf8", timeout: 300_000 });
  const fetched = electronBinary();
  if (fetched) return { path: fetched };
  const output = `${result.stderr ?? ""}\n${result.stdout ?? ""}`.split("\n").map((line) => line.trim());
  const detail = output.find((line) => /error|failed/i.test(line)) ?? output.find(Boolean) ?? (result.error?.message || "unknown error");
  return { reason: `its binary could not be downloaded (${detail})` };
}

if (!buildIsCurrent()) {
  console.log("Building Burrow…");
  const code = await run(process.execPath, [join(root, "scripts", "build.mjs")]);
  if (code !== 0) process.exit(code);
}

const { ensureNativeModules } = await import(pathToFileURL(join(root, "scripts", "native.mjs")).href);
const { defaultDataDir } = await import(pathToFileURL(join(root, "dist", "electron", "core", "paths.js")).href);
const { startLocalStack } = await import(pathToFileURL(join(root, "scripts", "stack.mjs")).href);
const args = process.argv.slice(2);
const dataDirIndex = args.indexOf("--data-dir");
const dataDir = resolve(dataDirIndex >= 0 && args[dataDirIndex + 1] ? args[dataDirIndex + 1] : defaultDataDir());

const headlessLinux = process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const electron = process.env.BURROW_BROWSER_HOST === "1" ? { reason: "BURROW_BROWSER_HOST=1 is set" } : findElectron();
const useElectron = Boolean(electron.path) && !headlessLinux;

// Native modules serve one runtime at a time, so in Electron mode the stack's services run on
// Electron's own Node (ELECTRON_RUN_AS_NODE) and share the app's build of them.
await ensureNativeModules(useElectron ? "electron" : "node");
const runtime = useElectron ? { execPath: electron.path, env: { ELECTRON_RUN_AS_NODE: "1" } } : { execPath: process.execPath, env: {} };
const stack = await startLocalStack(dataDir, runtime);
console.log(`Local stack: relay ${stack.relayUrl}, agent API ${stack.agentApiUrl} (data in ${dataDir})`);

let code;
if (useElectron) {
  console.log("Starting the Burrow desktop app (Electron)…");
  code = await run(electron.path, [root, `--user-data-dir=${dataDir}`], { env: { ...process.env, BURROW_RELAYS: stack.relayUrl, BURROW_AGENT_API_URL: stack.agentApiUrl } });
} else {
  const why = electron.path ? "there is no display (DISPLAY/WAYLAND_DISPLAY unset)" : electron.reason;
  console.log(`Electron cannot run here: ${why}.`);
  console.log("Starting Burrow in the browser host instead: the same core and UI, served to your browser on 127.0.0.1.");
  const hostArgs = dataDirIndex >= 0 ? args : ["--data-dir", dataDir, ...args];
  code = await run(process.execPath, [join(root, "dist", "electron", "web.js"), "--relay", stack.relayUrl, "--agent-api", stack.agentApiUrl, ...hostArgs]);
}
await stack.stop();
process.exit(code);
