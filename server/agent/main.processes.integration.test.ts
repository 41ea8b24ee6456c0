// burrow-server as real processes: two servers on one database, and a server killed mid-provisioning.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { npubEncode } from "nostr-tools/nip19";
import { startRelay, type RunningRelay } from "../relay/relay.js";
import { agentRequest, TEST_SERVER_SECRET } from "./api/testServer.js";
import { HttpSpawner } from "./spawner/httpSpawner.js";
import { openAgentStore } from "./store/kyselyStore.js";
import { startThrowawayPostgres } from "./testing/postgres.js";

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, "main.js");
const SPAWNER = join(here, "spawner", "main.js");

interface Service {
  child: ChildProcess;
  url: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function startProcess(args: string[], service: string, env: NodeJS.ProcessEnv = {}): Promise<Service> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, BURROW_SERVER_SECRET: TEST_SERVER_SECRET, ...env } });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${service} did not start: ${stderr}`)), 20_000);
    child.once("exit", (code) => reject(new Error(`${service} exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (entry["event"] === "listening" && entry["service"] === service) {
        clearTimeout(timer);
        resolve({
          child,
          url: String(entry["url"]),
          stop: async (signal = "SIGTERM") => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = new Promise((done) => child.once("exit", done));
            child.kill(signal);
            await exited;
          },
        });
      }
    });
  });
}

async function until<T>(probe: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const engines = ["SQLite", "PostgreSQL"] as const;

for (const engine of engines) {
  describe(`burrow-server processes on ${engine}`, () => {
    let relay: RunningRelay;
    let spawner: Service;
    let dir: string;
    let database: string[] = [];
    let databaseUrl: string | undefined;
    let stopPostgres: (() => Promise<void>) | null = null;
    let skipped: string | null = null;

    const serve = (extra: string[] = [], spawnerUrl = spawner.url) =>
      startProcess([CLI, "serve", "--port", "0", "--data-dir", join(dir, "server"), ...database, "--relay", relay.url, "--spawner-url", spawnerUrl, "--open-allowlist", "--json", ...extra], "agent-api");

    before(async () => {
      if (engine === "PostgreSQL") {
        const pg = await startThrowawayPostgres();
        if ("skipped" in pg) {
          skipped = pg.skipped;
          console.log(`PostgreSQL process tests skipped: ${skipped}`);
          return;
        }
        stopPostgres = pg.stop;
        databaseUrl = pg.url;
        database = ["--database-url", pg.url];
      }
      dir = await mkdtemp(join(tmpdir(), "burrow-server-proc-"));
      relay = await startRelay({ port: 0 });
      spawner = await startProcess([SPAWNER, "--port", "0", "--data-dir", join(dir, "spawner"), "--json"], "spawner");
    });
    after(async () => {
      if (skipped) return;
      await spawner.stop();
      await relay.close();
      await stopPostgres?.();
      await rm(dir, { recursive: true, force: true });
    });

    test("admin_cli_allowlist_agents_and_vm_delete", async (t) => {
      if (skipped) return t.skip(skipped);
      const run = (args: string[]) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [CLI, ...args, "--data-dir", join(dir, "server"), ...database], { stdio: ["ignore", "pipe", "pipe"] });
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
          child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
          child.on("exit", (code) => resolve({ code, stdout, stderr }));
        });
      const npub = npubEncode(getPublicKey(generateSecretKey()));
      assert.equal((await run(["allowlist", "add", npub, "--note", "pilot", "--max-agents", "2"])).code, 0);
      let list = JSON.parse((await run(["allowlist", "list", "--json"])).stdout) as Array<Record<string, unknown>>;
      assert.deepEqual(list.find((e) => e["npub"] === npub), { ...list.find((e) => e["npub"] === npub), active: true, max_agents: 2, note: "pilot" });
      assert.equal((await run(["allowlist", "remove", npub])).code, 0);
      list = JSON.parse((await run(["allowlist", "list", "--json"])).stdout) as Array<Record<string, unknown>>;
      assert.equal(list.find((e) => e["npub"] === npub)?.["active"], false);
      const bad = await run(["allowlist", "add", "npub1nope"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /not an npub/);

      const agents = JSON.parse((await run(["agents", "list", "--json"])).stdout) as Array<Record<string, unknown>>;
      assert.ok(Array.isArray(agents));
      assert.ok(agents.every((a) => !("secret_enc" in a)), "agents list never prints keys");
      const missing = await run(["vm", "delete", "vm-0000000000000000", "--spawner-url", spawner.url, "--json"]);
      assert.equal(missing.code, 1);
      assert.deepEqual(JSON.parse(missing.stdout), { vm_id: "vm-0000000000000000", deleted: false });
    });

    test("two_server_processes_on_one_database_keep_one_agent_per_owner", async (t) => {
      if (skipped) return t.skip(skipped);
      const [a, b] = await Promise.all([serve(), serve()]);
      try {
        const owner = generateSecretKey();
        const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => agentRequest(i % 2 ? a.url : b.url, "/v1/agents/ensure", "POST", owner)));
        const statuses = responses.map((r) => r.status);
        assert.equal(statuses.filter((s) => s === 202).length, 1, statuses.join(","));
        assert.ok(statuses.every((s) => s === 202 || s === 409));
        const agent = await until(async () => {
          const me = await agentRequest(a.url, "/v1/agents/me", "GET", owner);
          return me.body["state"] === "ready" ? me.body : null;
        }, 30_000, "a ready agent");
        const fromB = await agentRequest(b.url, "/v1/agents/me", "GET", owner);
        assert.equal(fromB.body["agent_id"], agent["agent_id"]);
        const vms = (await new HttpSpawner({ baseUrl: spawner.url }).list()).filter((vm) => vm.owner_pubkey === getPublicKey(owner));
        assert.equal(vms.length, 1);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    });

    test("a_server_killed_mid_provisioning_leaves_a_consistent_state", async (t) => {
      if (skipped) return t.skip(skipped);
      // A VM host that accepts connections and never answers: the server hangs inside spawner.create.
      const blackHole: Server = createServer(() => undefined);
      await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
      const blackHoleUrl = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`;
      const owner = generateSecretKey();
      const ownerNpub = npubEncode(getPublicKey(owner));
      const store = await openAgentStore(databaseUrl ? { databaseUrl } : { sqlitePath: join(dir, "server", "agents.sqlite") });
      try {
        // Long enough that a restarted server still sees the row inside the window on a loaded machine.
        const window = "5000";
        const doomed = await serve(["--provisioning-window-ms", window], blackHoleUrl);
        void agentRequest(doomed.url, "/v1/agents/ensure", "POST", owner).catch(() => undefined);
        const stuck = await until(async () => (await store.getActiveAgent(ownerNpub)) ?? null, 10_000, "the creating row");
        assert.equal(stuck.vm_id, null);
        await doomed.stop("SIGKILL");

        const revived = await serve(["--provisioning-window-ms", window]);
        try {
          const early = await agentRequest(revived.url, "/v1/agents/me", "GET", owner);
          assert.equal(early.body["state"], "creating", "inside the provisioning window it is still in progress");
          const failed = await until(async () => {
            const me = await agentRequest(revived.url, "/v1/agents/me", "GET", owner);
            return me.body["state"] === "error" ? me.body : null;
          }, 15_000, "the stalled provisioning to be given up");
          assert.match(String(failed["error"]), /provisioning did not finish/);
          const recovered = await agentRequest(revived.url, "/v1/agents/me/recover", "POST", owner);
          assert.equal(recovered.status, 202);
          assert.notEqual(recovered.body["agent_id"], stuck.agent_id);
          await until(async () => {
            const me = await agentRequest(revived.url, "/v1/agents/me", "GET", owner);
            return me.body["state"] === "ready" ? me : null;
          }, 30_000, "the recovered agent");
          const rows = (await store.listAgents()).filter((row) => row.owner_npub === ownerNpub);
          assert.deepEqual(rows.map((row) => row.phase).sort(), ["error", "ready"]);
          const vms = (await new HttpSpawner({ baseUrl: spawner.url }).list()).filter((vm) => vm.owner_pubkey === getPublicKey(owner));
          assert.equal(vms.length, 1);
        } finally {
          await revived.stop();
        }
      } finally {
        await store.close();
        blackHole.closeAllConnections();
        await new Promise((resolve) => blackHole.close(resolve));
      }
    });
  });
}
