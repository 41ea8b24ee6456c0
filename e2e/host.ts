// Starts the real browser host (built core + renderer) on a fresh temp data dir for one test.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { test as base } from "@playwright/test";
import { startTestServer, type TestServer } from "../server/agent/api/testServer.js";
import { startRelay, type RunningRelay } from "../server/relay/relay.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export interface RunningHost {
  url: string;
  origin: string;
  dataDir: string;
  logs: Record<string, unknown>[];
  /** Stops the host process and starts a new one on the same data dir. */
  restart(): Promise<void>;
}

async function launch(dataDir: string, logs: Record<string, unknown>[], relayUrl: string, agentApiUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const args = [join(root, "dist", "electron", "web.js"), "--port", "0", "--no-open", "--json", "--data-dir", dataDir, "--relay", relayUrl, "--agent-api", agentApiUrl];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("browser host did not report ready within 15 s")), 15_000);
    child.once("exit", (code) => reject(new Error(`browser host exited early with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry["event"] === "ready") {
        clearTimeout(timer);
        resolve(String(entry["url"]));
      }
    });
  });
  return { child, url };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** Starts a browser host on a fresh data dir; `stop` ends it and deletes the dir. */
export async function startHost(relayUrl: string, agentApiUrl: string): Promise<RunningHost & { stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), "burrow-e2e-"));
  const logs: Record<string, unknown>[] = [];
  let current = await launch(dataDir, logs, relayUrl, agentApiUrl);
  return {
    get url() {
      return current.url;
    },
    get origin() {
      return new URL(current.url).origin;
    },
    dataDir,
    logs,
    restart: async () => {
      await stop(current.child);
      current = await launch(dataDir, logs, relayUrl, agentApiUrl);
    },
    stop: async () => {
      await stop(current.child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const test = base.extend<{ host: RunningHost; newHost: () => Promise<RunningHost> }, { relay: RunningRelay; agentServer: TestServer }>({
  relay: [
    async ({}, use) => {
      const relay = await startRelay({ port: 0 });
      await use(relay);
      await relay.close();
    },
    { scope: "worker" },
  ],
  // The real agent server, its spawner running real agent bots; accounts are allowlisted by the tests.
  agentServer: [
    async ({ relay }, use) => {
      const server = await startTestServer({ relays: [relay.url], agentEntry: join(root, "dist", "server", "agent", "bot", "main.js") });
      await use(server);
      await server.close();
    },
    { scope: "worker" },
  ],
  host: async ({ relay, agentServer }, use) => {
    const host = await startHost(relay.url, agentServer.url);
    await use(host);
    await host.stop();
  },
  newHost: async ({ relay, agentServer }, use) => {
    const started: Array<{ stop(): Promise<void> }> = [];
    await use(async () => {
      const host = await startHost(relay.url, agentServer.url);
      started.push(host);
      return host;
    });
    await Promise.all(started.map((host) => host.stop()));
  },
});

export { expect } from "@playwright/test";
