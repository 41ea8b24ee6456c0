// Starts the real browser host (built core + renderer) on a fresh temp data dir for one test, or a
// whole instance the way `npm start` does (scripts/start.mjs: the shared local stack, then the host).
// Every worker has its own temporary stack home and never uses the default ports.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { expect, test as base, type Browser, type BrowserContextOptions, type Page } from "@playwright/test";
import { stopStack } from "../server/stack/localStack.js";
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

/** Runs the browser host (`dist/hosts/web/main.js`) with `hostArgs`, its JSON log lines into `logs`, until it reports ready. */
export async function launchWebHost(hostArgs: string[], logs: Record<string, unknown>[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(root, "dist", "hosts", "web", "main.js"), "--no-open", "--json", ...hostArgs], {
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

function launch(dataDir: string, logs: Record<string, unknown>[], relayUrl: string, agentApiUrl: string): Promise<{ child: ChildProcess; url: string }> {
  return launchWebHost(["--port", "0", "--data-dir", dataDir, "--relay", relayUrl, "--agent-api", agentApiUrl], logs);
}

/** Ends a child process with SIGTERM and waits for its exit. */
export async function stopProcess(child: ChildProcess): Promise<void> {
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
      await stopProcess(current.child);
      current = await launch(dataDir, logs, relayUrl, agentApiUrl);
    },
    stop: async () => {
      await stopProcess(current.child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A free port on 127.0.0.1 (never one of the stack's defaults). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface RunningInstance {
  url: string;
  dataDir: string;
  port: number;
  /** Everything `npm start` printed that was not a JSON log line. */
  output: string[];
  /** Ctrl+C, as a user stops it; resolves once it has exited. */
  stop(): Promise<void>;
  /** Stops it and runs `npm start` again with the same data dir and port. */
  restart(): Promise<void>;
}

/**
 * One instance started as the README says: `npm start -- --data-dir DIR --port N` (plus `--no-open
 * --json`), in the browser host, on this worker's stack home.
 */
export async function startInstance(dataDir: string, port: number): Promise<RunningInstance> {
  const output: string[] = [];
  let child: ChildProcess;
  let url = "";
  const launch = async (): Promise<void> => {
    child = spawn(process.execPath, [join(root, "scripts", "start.mjs"), "--data-dir", dataDir, "--port", String(port), "--no-open", "--json"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, BURROW_BROWSER_HOST: "1" },
    });
    child.stderr!.on("data", (chunk) => output.push(...String(chunk).split("\n").filter(Boolean)));
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not report ready within 60 s: ${output.join("\n")}`)), 60_000);
      child.once("exit", (code) => reject(new Error(`npm start exited early with ${code}: ${output.join("\n")}`)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        let entry: Record<string, unknown> | null = null;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          output.push(line);
        }
        if (entry?.["event"] === "ready") {
          clearTimeout(timer);
          resolve(String(entry["url"]));
        }
      });
    });
  };
  const stopIt = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    await exited;
  };
  await launch();
  return {
    get url() {
      return url;
    },
    dataDir,
    port,
    output,
    stop: stopIt,
    restart: async () => {
      await stopIt();
      await launch();
    },
  };
}

export const test = base.extend<
  { host: RunningHost; newHost: () => Promise<RunningHost>; newInstance: () => Promise<RunningInstance> },
  { relay: RunningRelay; agentServer: TestServer; stackHome: string }
>({
  // Whatever a test starts that uses the local stack uses this worker's own, on ports chosen freely.
  stackHome: [
    async ({}, use) => {
      const home = await mkdtemp(join(tmpdir(), "burrow-e2e-stack-"));
      process.env["BURROW_STACK_HOME"] = home;
      process.env["BURROW_RELAY_PORT"] = "0";
      await use(home);
      await stopStack(home);
      await rm(home, { recursive: true, force: true });
    },
    { scope: "worker", auto: true },
  ],
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
  newInstance: async ({ stackHome }, use) => {
    const started: RunningInstance[] = [];
    const dirs: string[] = [];
    await use(async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "burrow-e2e-instance-"));
      dirs.push(dataDir);
      const instance = await startInstance(dataDir, await freePort());
      started.push(instance);
      return instance;
    });
    await Promise.all(started.map((instance) => instance.stop()));
    await stopStack(stackHome);
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
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

export { expect };

/** Opens the app at `url`, creates an account and returns its npub. */
export async function signUp(page: Page, url: string): Promise<string> {
  await page.goto(url);
  await page.getByRole("button", { name: "Create account" }).click();
  const npub = page.getByLabel("Your npub");
  await expect(npub).toHaveText(/^npub1/);
  // Others can start a chat once our key package is on the relays (the note above the chat list goes).
  await expect(page.getByText(/key package/i)).toHaveCount(0, { timeout: 20_000 });
  return (await npub.textContent()) ?? "";
}

/** Alice and Bob, each signed up on a browser host of their own (`aliceContext`: options of Alice's browser context). */
export async function twoUsers(
  browser: Browser,
  newHost: () => Promise<RunningHost>,
  aliceContext: BrowserContextOptions = {},
): Promise<{ alice: Page; bob: Page; aliceNpub: string; bobNpub: string; aliceHost: RunningHost; bobHost: RunningHost }> {
  const [aliceHost, bobHost] = await Promise.all([newHost(), newHost()]);
  const alice = await (await browser.newContext(aliceContext)).newPage();
  const bob = await (await browser.newContext()).newPage();
  const aliceNpub = await signUp(alice, aliceHost.url);
  const bobNpub = await signUp(bob, bobHost.url);
  return { alice, bob, aliceNpub, bobNpub, aliceHost, bobHost };
}

/** `page` creates the group `name` with the members `npubs` through the New group dialog; it is then open there. */
export async function createGroup(page: Page, name: string, npubs: string[]): Promise<void> {
  await page.getByRole("button", { name: "New group" }).click();
  const dialog = page.getByRole("dialog", { name: "New group" });
  await dialog.getByRole("textbox", { name: "Group name" }).fill(name);
  for (const npub of npubs) {
    await dialog.getByRole("textbox", { name: "Member npub" }).fill(npub);
    await dialog.getByRole("button", { name: "Add member" }).click();
  }
  await dialog.getByRole("button", { name: "Create group" }).click();
  await expect(dialog).toBeHidden({ timeout: 20_000 });
  await expect(page.getByRole("heading", { name })).toBeVisible();
}

/** Accepts the invitation that reaches `page`; its chat is then open. */
export async function acceptInvite(page: Page): Promise<void> {
  const accept = page.getByRole("button", { name: /^Accept invite from/ });
  await expect(accept).toBeVisible({ timeout: 15_000 });
  await accept.click();
  await expect(page.getByRole("log", { name: "Messages" })).toBeVisible();
}

/** `from` starts a direct chat with `toNpub` through the New chat dialog and `to` accepts it: both have it open. */
export async function startDirectChat(from: Page, to: Page, toNpub: string): Promise<void> {
  await from.getByRole("button", { name: "New chat" }).click();
  const dialog = from.getByRole("dialog", { name: "New chat" });
  await dialog.getByRole("textbox", { name: "Npub or hex public key" }).fill(toNpub);
  await dialog.getByRole("button", { name: "Start chat" }).click();
  await expect(dialog).toBeHidden({ timeout: 15_000 });
  await acceptInvite(to);
}
