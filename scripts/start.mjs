// `npm start`: builds what is missing, then starts Burrow — the Electron app where an Electron binary
// can run, otherwise the browser host (printing why, and the URL). Extra arguments go to the host.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { FETCH_ELECTRON_FLAG, findElectron } from "./electronBinary.mjs";
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

if (!buildIsCurrent()) {
  console.log("Building Burrow…");
  const code = await run(process.execPath, [join(root, "scripts", "build.mjs")]);
  if (code !== 0) process.exit(code);
}

const { ensureNativeModules } = await import(pathToFileURL(join(root, "scripts", "native.mjs")).href);
const { defaultDataDir } = await import(pathToFileURL(join(root, "dist", "electron", "core", "paths.js")).href);
const { startLocalStack } = await import(pathToFileURL(join(root, "scripts", "stack.mjs")).href);
const fetchElectron = process.argv.includes(FETCH_ELECTRON_FLAG);
const args = process.argv.slice(2).filter((arg) => arg !== FETCH_ELECTRON_FLAG);
const dataDirIndex = args.indexOf("--data-dir");
const dataDir = resolve(dataDirIndex >= 0 && args[dataDirIndex + 1] ? args[dataDirIndex + 1] : defaultDataDir());

const headlessLinux = process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
// No display, no Electron window: the binary is not even fetched.
const electron =
  process.env.BURROW_BROWSER_HOST === "1" ? { reason: "BURROW_BROWSER_HOST=1 is set" }
  : headlessLinux ? { reason: "there is no display (DISPLAY/WAYLAND_DISPLAY unset)" }
  : findElectron(root, { force: fetchElectron });
const useElectron = Boolean(electron.path);

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
  console.log(`Electron cannot run here: ${electron.reason}. Burrow starts in the browser host instead (the same core and UI, in your browser).`);
  const hostArgs = dataDirIndex >= 0 ? args : ["--data-dir", dataDir, ...args];
  code = await run(process.execPath, [join(root, "dist", "electron", "web.js"), "--relay", stack.relayUrl, "--agent-api", stack.agentApiUrl, ...hostArgs]);
}
await stack.stop();
process.exit(code);
