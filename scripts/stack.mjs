// The local stack behind `npm start`, e2e and the demos: the embedded relay (more services join it
// later), all on 127.0.0.1 with state under one data dir, described in <data-dir>/stack.json.
import { spawn } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { root } from "./run.mjs";

/** The relay's preferred port, so relay URLs saved in chats stay valid across restarts. */
const PREFERRED_RELAY_PORT = Number(process.env.BURROW_RELAY_PORT ?? 7447);

function startService(name, args, runtime) {
  const child = spawn(runtime.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...runtime.env } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 15 s`)), 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}`));
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.event === "ready") {
        clearTimeout(timer);
        resolve({ child, url: entry.url });
      }
    });
  });
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** `runtime`: the Node to run services on (`{ execPath, env }`); default this process's. */
export async function startLocalStack(dataDir, runtime = { execPath: process.execPath, env: {} }) {
  const relayDir = join(dataDir, "relay");
  await mkdir(relayDir, { recursive: true, mode: 0o700 });
  const relayMain = join(root, "dist", "server", "relay", "main.js");
  let relay;
  try {
    relay = await startService("relay", [relayMain, "--port", String(PREFERRED_RELAY_PORT), "--data-dir", relayDir, "--json"], runtime);
  } catch {
    console.log(`Port ${PREFERRED_RELAY_PORT} is busy; the relay takes any free port.`);
    relay = await startService("relay", [relayMain, "--port", "0", "--data-dir", relayDir, "--json"], runtime);
  }
  const stackFile = join(dataDir, "stack.json");
  await writeFile(stackFile, JSON.stringify({ relay_url: relay.url, pids: { relay: relay.child.pid, stack: process.pid } }, null, 2) + "\n");
  return {
    relayUrl: relay.url,
    stop: async () => {
      await stopChild(relay.child);
      await rm(stackFile, { force: true });
    },
  };
}
