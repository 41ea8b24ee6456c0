// The local stack behind `npm start` and the demos: the embedded relay, the VM spawner service and
// the agent API server, all on 127.0.0.1 with state under one data dir, described in
// <data-dir>/stack.json. Each service's log lines go to <data-dir>/logs/<service>.log.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { root } from "./run.mjs";

/** The relay's preferred port, so relay URLs saved in chats stay valid across restarts. */
const PREFERRED_RELAY_PORT = Number(process.env.BURROW_RELAY_PORT ?? 7447);

/** Starts a service and waits for its ready line: `{"event":"ready"}` or `{"event":"listening","service":…}`. */
function startService(name, args, runtime, logDir, listeningService) {
  const child = spawn(runtime.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...runtime.env } });
  const logFile = createWriteStream(join(logDir, `${name.replace(/\s+/g, "-")}.log`), { flags: "a" });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 15 s`)), 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}`));
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      logFile.write(`${line}\n`);
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      const listening = entry.event === "listening" && (listeningService === undefined || entry.service === listeningService);
      if (entry.event === "ready" || listening) {
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
  const serverDir = join(dataDir, "server");
  await mkdir(relayDir, { recursive: true, mode: 0o700 });
  await mkdir(serverDir, { recursive: true, mode: 0o700 });
  const logDir = join(dataDir, "logs");
  await mkdir(logDir, { recursive: true, mode: 0o700 });
  const started = [];
  const stopAll = async () => {
    for (const child of started.reverse()) await stopChild(child);
  };
  try {
    const relayMain = join(root, "dist", "server", "relay", "main.js");
    let relay;
    try {
      relay = await startService("relay", [relayMain, "--port", String(PREFERRED_RELAY_PORT), "--data-dir", relayDir, "--json"], runtime, logDir);
    } catch {
      console.log(`Port ${PREFERRED_RELAY_PORT} is busy; the relay takes any free port.`);
      relay = await startService("relay", [relayMain, "--port", "0", "--data-dir", relayDir, "--json"], runtime, logDir);
    }
    started.push(relay.child);
    const spawner = await startService("spawner", [join(root, "dist", "server", "agent", "spawner", "main.js"), "--port", "0", "--data-dir", join(serverDir, "spawner"), "--json"], runtime, logDir);
    started.push(spawner.child);
    // Development stack: every account that signs in may have an agent (audited as open-allowlist).
    const api = await startService(
      "agent server",
      [join(root, "dist", "server", "agent", "main.js"), "serve", "--port", "0", "--data-dir", serverDir, "--relay", relay.url, "--spawner-url", spawner.url, "--open-allowlist", "--json"],
      runtime,
      logDir,
      "agent-api",
    );
    started.push(api.child);
    const stackFile = join(dataDir, "stack.json");
    const description = {
      relay_url: relay.url,
      spawner_url: spawner.url,
      agent_api_url: api.url,
      data_dir: dataDir,
      pids: { stack: process.pid, relay: relay.child.pid, spawner: spawner.child.pid, agent_api: api.child.pid },
    };
    await writeFile(stackFile, JSON.stringify(description, null, 2) + "\n");
    return {
      relayUrl: relay.url,
      spawnerUrl: spawner.url,
      agentApiUrl: api.url,
      stop: async () => {
        await stopAll();
        await rm(stackFile, { force: true });
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
