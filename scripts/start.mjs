// `npm start`: builds what is missing, then starts Burrow — the Electron app where an Electron binary
// can run, otherwise the browser host (printing why, and the URL). Extra arguments go to the host.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { FETCH_ELECTRON_FLAG, findElectron } from "./electronBinary.mjs";
import { root, run } from "./run.mjs";

const SOURCES = ["shared", "core", "electron", "hosts", "renderer", "server", "vite.config.ts", "vite.preload.config.ts", "package.json"];
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
const { defaultDataDir } = await import(pathToFileURL(join(root, "dist", "core", "base", "paths.js")).href);
const { useLocalStack } = await import(pathToFileURL(join(root, "scripts", "stack.mjs")).href);
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
// One stack for every instance on this machine: this one starts it only when none runs, and it stops
// by itself after the last instance has gone.
let stack;
try {
  stack = await useLocalStack(`npm start (data ${dataDir})`, runtime);
} catch (error) {
  console.error(`The local stack could not start: ${error.message}`);
  process.exit(1);
}
for (const notice of stack.notices) console.log(notice);
const { relay_url: relayUrl, agent_api_url: agentApiUrl, home } = stack.record;
console.log(`Local stack: relay ${relayUrl}, agent API ${agentApiUrl} (${stack.started ? "started" : "already running"}; data in ${home})`);

/** Runs the app; Ctrl+C reaches it directly, other signals sent to us are passed on. Resolves with its exit code. */
function launch(command, commandArgs, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: "inherit", ...options });
    stack.addPid(child.pid);
    const forward = (signal) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("error", reject);
    child.on("exit", (exitCode, signal) => resolvePromise(exitCode ?? (signal ? 1 : 0)));
  });
}

let code;
if (useElectron) {
  console.log("Starting the Burrow desktop app (Electron)…");
  code = await launch(electron.path, [root, `--user-data-dir=${dataDir}`], { env: { ...process.env, BURROW_RELAYS: relayUrl, BURROW_AGENT_API_URL: agentApiUrl } });
} else {
  console.log(`Electron cannot run here: ${electron.reason}. Burrow starts in the browser host instead (the same core and UI, in your browser).`);
  const hostArgs = dataDirIndex >= 0 ? args : ["--data-dir", dataDir, ...args];
  code = await launch(process.execPath, [join(root, "dist", "hosts", "web", "main.js"), "--relay", relayUrl, "--agent-api", agentApiUrl, ...hostArgs]);
}
const { others } = await stack.release();
console.log(others > 0 ? `The local stack keeps running for ${others} other instance(s).` : "The local stack has stopped.");
process.exit(code);
