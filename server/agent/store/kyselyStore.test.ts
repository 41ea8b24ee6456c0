// One suite, two engines: the agent store on SQLite (a temp file) and on a throwaway PostgreSQL.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startThrowawayPostgres } from "../testing/postgres.js";
import type { AgentStore, NewAgent } from "./agentStore.js";
import { openAgentStore } from "./kyselyStore.js";
import type { AgentStoreOptions } from "./kyselyStore.js";

const run = promisify(execFile);

interface EngineUnderTest {
  name: string;
  /** false, or why this engine's suite is skipped. */
  skip: string | false;
  /** Options for a new, empty database. */
  freshDatabase(): Promise<AgentStoreOptions>;
  cleanup(): Promise<void>;
}

const sqliteDir = await mkdtemp(join(tmpdir(), "burrow-agent-store-"));
let sqliteFiles = 0;
const sqlite: EngineUnderTest = {
  name: "SQLite",
  skip: false,
  freshDatabase: async () => ({ sqlitePath: join(sqliteDir, `agents-${++sqliteFiles}.sqlite`) }),
  cleanup: () => rm(sqliteDir, { recursive: true, force: true }),
};

const cluster = await startThrowawayPostgres();
if ("skipped" in cluster) console.log(`PostgreSQL suite skipped: ${cluster.skipped}`);
const postgres: EngineUnderTest =
  "skipped" in cluster
    ? { name: "PostgreSQL", skip: cluster.skipped, freshDatabase: () => Promise.reject(new Error(cluster.skipped)), cleanup: async () => undefined }
    : { name: "PostgreSQL", skip: false, freshDatabase: async () => ({ databaseUrl: await cluster.newDatabase() }), cleanup: () => cluster.stop() };

let counter = 0;
function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

function newAgent(owner: string, createdAt = Date.now(), agentId = unique("npub1agent")): NewAgent {
  return {
    agent_id: agentId,
    agent_pubkey: `${agentId}-pubkey`,
    owner_npub: owner,
    phase: "creating",
    startup_phase: "requested",
    secret_enc: `${agentId}-sealed`,
    created_at: createdAt,
  };
}

async function openMigrated(options: AgentStoreOptions): Promise<AgentStore> {
  const store = await openAgentStore(options);
  await store.migrate();
  return store;
}

/** Several processes open the same database, migrate at once, then race inserts for one owner. */
async function raceInProcesses(options: AgentStoreOptions, owner: string, processes: number, insertsEach: number): Promise<{ inserted: number; conflict: number }[]> {
  const storeModule = new URL("./kyselyStore.js", import.meta.url).href;
  const script = `
    const { openAgentStore } = await import(${JSON.stringify(storeModule)});
    const [options, owner, inserts, tag] = JSON.parse(process.argv[1]);
    const store = await openAgentStore(options);
    await store.migrate();
    const counts = { inserted: 0, conflict: 0 };
    await Promise.all(Array.from({ length: inserts }, async (_, i) => {
      const id = "npub1child-" + tag + "-" + i;
      const outcome = await store.insertAgent({ agent_id: id, agent_pubkey: id, owner_npub: owner, phase: "creating", startup_phase: "requested", secret_enc: "x", created_at: Date.now() });
      counts[outcome]++;
    }));
    await store.close();
    console.log(JSON.stringify(counts));
  `;
  const cwd = fileURLToPath(new URL(".", import.meta.url));
  return Promise.all(
    Array.from({ length: processes }, async (_, tag) => {
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script, JSON.stringify([options, owner, insertsEach, `${process.pid}-${tag}`])], { cwd });
      return JSON.parse(stdout) as { inserted: number; conflict: number };
    }),
  );
}

function defineSuite(engine: EngineUnderTest): void {
  describe(`agent store on ${engine.name}`, { skip: engine.skip }, () => {
    const opened: AgentStore[] = [];
    const open = async (options?: AgentStoreOptions): Promise<AgentStore> => {
      const store = await openMigrated(options ?? (await engine.freshDatabase()));
      opened.push(store);
      return store;
    };
    after(async () => {
      await Promise.all(opened.map((store) => store.close()));
      await engine.cleanup();
    });

    test("setAllowlist adds, updates and removes an entry and audits each change", async () => {
      const store = await open();
      const npub = unique("npub1owner");
      assert.equal(await store.getAllowlist(npub), null);

      const before = Date.now();
      await store.setAllowlist({ npub, active: true, note: "first", max_agents: 3 }, "admin-a", "add");
      const added = await store.getAllowlist(npub);
      assert.ok(added);
      assert.deepEqual({ ...added, created_at: 0, updated_at: 0 }, { npub, active: true, note: "first", updated_by: "admin-a", max_agents: 3, created_at: 0, updated_at: 0 });
      assert.equal(typeof added.created_at, "number");
      assert.ok(added.created_at >= before && added.created_at <= Date.now());

      await store.setAllowlist({ npub, active: true, note: null, max_agents: 7 }, "admin-b", "update");
      await store.setAllowlist({ npub, active: false, note: "gone", max_agents: 7 }, "admin-c", "remove");
      const removed = await store.getAllowlist(npub);
      assert.ok(removed);
      assert.equal(removed.active, false);
      assert.equal(removed.note, "gone");
      assert.equal(removed.updated_by, "admin-c");
      assert.equal(removed.max_agents, 7);
      assert.equal(removed.created_at, added.created_at);
      assert.ok(removed.updated_at >= added.updated_at);

      const audit = await store.listAllowlistAudit(npub);
      assert.deepEqual(
        audit.map(({ action, actor, note, max_agents }) => ({ action, actor, note, max_agents })),
        [
          { action: "add", actor: "admin-a", note: "first", max_agents: 3 },
          { action: "update", actor: "admin-b", note: null, max_agents: 7 },
          { action: "remove", actor: "admin-c", note: "gone", max_agents: 7 },
        ],
      );
      assert.ok(audit.every((row) => typeof row.id === "number" && typeof row.at === "number" && row.npub === npub));
      assert.ok(audit[0]!.id < audit[1]!.id && audit[1]!.id < audit[2]!.id);

      const other = unique("npub1other");
      await store.setAllowlist({ npub: other, active: true, note: null, max_agents: 1 }, "admin-a", "add");
      assert.deepEqual((await store.listAllowlist()).map((row) => row.npub), [npub, other].sort());
      assert.equal((await store.listAllowlistAudit()).length, 4);
      assert.equal((await store.listAllowlistAudit(other)).length, 1);
    });

    test("addAllowlistIfMissing adds an npub once and never re-adds a removed one", async () => {
      const store = await open();
      const npub = unique("npub1open");
      assert.equal(await store.addAllowlistIfMissing({ npub, note: "open allowlist", max_agents: 5 }, "open-allowlist"), true);
      assert.equal(await store.addAllowlistIfMissing({ npub, note: "again", max_agents: 9 }, "open-allowlist"), false);
      const entry = await store.getAllowlist(npub);
      assert.ok(entry);
      assert.equal(entry.active, true);
      assert.equal(entry.note, "open allowlist");
      assert.equal(entry.max_agents, 5);
      assert.deepEqual((await store.listAllowlistAudit(npub)).map((row) => [row.action, row.actor]), [["auto_add", "open-allowlist"]]);

      await store.setAllowlist({ npub, active: false, note: null, max_agents: 5 }, "admin", "remove");
      assert.equal(await store.addAllowlistIfMissing({ npub, note: null, max_agents: 5 }, "open-allowlist"), false);
      assert.equal((await store.getAllowlist(npub))?.active, false);
    });

    test("a second active row for the same owner is a conflict, not an error", async () => {
      const store = await open();
      const owner = unique("npub1owner");
      const first = newAgent(owner);
      assert.equal(await store.insertAgent(first), "inserted");
      assert.equal(await store.insertAgent(newAgent(owner)), "conflict");
      assert.equal(await store.transition(first.agent_id, ["creating"], { phase: "ready", startup_phase: "ready" }), true);
      assert.equal(await store.insertAgent(newAgent(owner)), "conflict");
      assert.equal(await store.insertAgent(newAgent(unique("npub1someone-else"))), "inserted");

      const active = await store.getActiveAgent(owner);
      assert.ok(active);
      assert.equal(active.agent_id, first.agent_id);
      assert.deepEqual(
        { ...active, updated_at: 0 },
        { ...first, phase: "ready", startup_phase: "ready", vm_id: null, error: null, updated_at: 0 },
      );
      assert.equal((await store.listAgents()).filter((row) => row.owner_npub === owner).length, 1);
    });

    test("a duplicate agent_id is an error, not an owner conflict", async () => {
      const store = await open();
      const row = newAgent(unique("npub1owner"));
      assert.equal(await store.insertAgent(row), "inserted");
      await store.transition(row.agent_id, ["creating"], { phase: "error", startup_phase: "failed", error: "boom" });
      await assert.rejects(store.insertAgent({ ...row, owner_npub: unique("npub1other") }));
    });

    test("after the active row errs, a new creating row for the owner inserts and is the latest", async () => {
      const store = await open();
      const owner = unique("npub1owner");
      const old = newAgent(owner, 1_000);
      assert.equal(await store.insertAgent(old), "inserted");
      assert.equal(await store.transition(old.agent_id, ["creating", "ready"], { phase: "error", startup_phase: "failed", error: "VM creation failed" }), true);
      assert.equal(await store.getActiveAgent(owner), null);
      assert.equal((await store.getLatestAgent(owner))?.agent_id, old.agent_id);

      const fresh = newAgent(owner, 2_000);
      assert.equal(await store.insertAgent(fresh), "inserted");
      assert.equal((await store.getActiveAgent(owner))?.agent_id, fresh.agent_id);
      assert.equal((await store.getLatestAgent(owner))?.agent_id, fresh.agent_id);
      // The errored row cannot come back while the new one is active (nor ever).
      assert.equal(await store.transition(old.agent_id, ["error"], { phase: "creating", startup_phase: "requested" }), false);
      assert.equal((await store.getAgent(old.agent_id))?.phase, "error");
      assert.equal((await store.getAgent(old.agent_id))?.error, "VM creation failed");
    });

    test("setVm sets a vm_id once, and no two rows share one", async () => {
      const store = await open();
      const a = newAgent(unique("npub1owner"));
      const b = newAgent(unique("npub1owner"));
      await store.insertAgent(a);
      await store.insertAgent(b);
      const vmId = unique("vm");
      assert.equal(await store.setVm(a.agent_id, vmId, "booting_guest"), true);
      const row = await store.getAgent(a.agent_id);
      assert.equal(row?.vm_id, vmId);
      assert.equal(row?.startup_phase, "booting_guest");
      assert.equal(await store.setVm(a.agent_id, unique("vm"), "booting_guest"), false);
      assert.equal((await store.getAgent(a.agent_id))?.vm_id, vmId);
      await assert.rejects(store.setVm(b.agent_id, vmId, "booting_guest"));
      assert.equal((await store.getAgent(b.agent_id))?.vm_id, null);
      assert.equal(await store.setVm(unique("npub1missing"), unique("vm"), "booting_guest"), false);
    });

    test("transition changes a row only from the given phases, and an error row stays error", async () => {
      const store = await open();
      const row = newAgent(unique("npub1owner"));
      await store.insertAgent(row);
      assert.equal(await store.transition(row.agent_id, ["ready"], { phase: "error", startup_phase: "failed" }), false);
      assert.equal((await store.getAgent(row.agent_id))?.phase, "creating");

      assert.equal(await store.transition(row.agent_id, ["creating"], { phase: "ready", startup_phase: "ready" }), true);
      assert.equal(await store.transition(row.agent_id, ["creating"], { phase: "ready", startup_phase: "ready" }), false);
      const ready = await store.getAgent(row.agent_id);
      assert.ok(ready);
      assert.equal(ready.phase, "ready");
      assert.equal(ready.error, null);
      assert.ok(ready.updated_at >= row.created_at);

      assert.equal(await store.transition(row.agent_id, ["creating", "ready"], { phase: "error", startup_phase: "failed", error: "VM stopped" }), true);
      for (const phase of ["creating", "ready"] as const) {
        assert.equal(await store.transition(row.agent_id, ["creating", "ready", "error"], { phase, startup_phase: "requested", error: null }), false);
      }
      const errored = await store.getAgent(row.agent_id);
      assert.equal(errored?.phase, "error");
      assert.equal(errored?.startup_phase, "failed");
      assert.equal(errored?.error, "VM stopped");
      // error → error may update the reason.
      assert.equal(await store.transition(row.agent_id, ["error"], { phase: "error", startup_phase: "failed", error: "VM vanished" }), true);
      assert.equal((await store.getAgent(row.agent_id))?.error, "VM vanished");
      assert.equal(await store.transition(unique("npub1missing"), ["creating"], { phase: "ready", startup_phase: "ready" }), false);
    });

    test("setStartupPhase changes only creating rows", async () => {
      const store = await open();
      const row = newAgent(unique("npub1owner"));
      await store.insertAgent(row);
      await store.setStartupPhase(row.agent_id, "waiting_for_service_ready");
      assert.equal((await store.getAgent(row.agent_id))?.startup_phase, "waiting_for_service_ready");
      await store.transition(row.agent_id, ["creating"], { phase: "ready", startup_phase: "ready" });
      await store.setStartupPhase(row.agent_id, "booting_guest");
      assert.equal((await store.getAgent(row.agent_id))?.startup_phase, "ready");
    });

    test("countAgentsSince counts the owner's rows created at or after the instant, any phase", async () => {
      const store = await open();
      const owner = unique("npub1owner");
      for (const createdAt of [1_000, 2_000, 3_000]) {
        const row = newAgent(owner, createdAt);
        assert.equal(await store.insertAgent(row), "inserted");
        await store.transition(row.agent_id, ["creating"], { phase: "error", startup_phase: "failed", error: "test" });
      }
      await store.insertAgent(newAgent(unique("npub1other"), 2_500));
      const count = await store.countAgentsSince(owner, 2_000);
      assert.equal(count, 2);
      assert.equal(typeof count, "number");
      assert.equal(await store.countAgentsSince(owner, 0), 3);
      assert.equal(await store.countAgentsSince(owner, 3_001), 0);
      assert.equal(await store.countAgentsSince(unique("npub1nobody"), 0), 0);
    });

    test("activeVmIds lists the vm_ids of creating and ready rows only", async () => {
      const store = await open();
      const [creating, ready, errored, noVm] = [0, 1, 2, 3].map(() => newAgent(unique("npub1owner"))) as [NewAgent, NewAgent, NewAgent, NewAgent];
      for (const row of [creating, ready, errored, noVm]) await store.insertAgent(row);
      await store.setVm(creating.agent_id, "vm-a", "booting_guest");
      await store.setVm(ready.agent_id, "vm-b", "booting_guest");
      await store.setVm(errored.agent_id, "vm-c", "booting_guest");
      await store.transition(ready.agent_id, ["creating"], { phase: "ready", startup_phase: "ready" });
      await store.transition(errored.agent_id, ["creating"], { phase: "error", startup_phase: "failed", error: "stopped" });
      assert.deepEqual(await store.activeVmIds(), ["vm-a", "vm-b"]);
    });

    test("rememberAuthEvent accepts an event id once; pruning forgets old ids", async () => {
      const store = await open();
      const eventId = unique("event");
      assert.equal(await store.rememberAuthEvent(eventId, 1_000), true);
      assert.equal(await store.rememberAuthEvent(eventId, 1_500), false);
      const recent = unique("event");
      assert.equal(await store.rememberAuthEvent(recent, 5_000), true);
      await store.pruneAuthEvents(2_000);
      assert.equal(await store.rememberAuthEvent(recent, 5_001), false);
      assert.equal(await store.rememberAuthEvent(eventId, 6_000), true);
    });

    test("50 concurrent inserts for one owner through two store instances: exactly one is inserted", async () => {
      const options = await engine.freshDatabase();
      const [a, b] = [await open(options), await open(options)];
      const owner = unique("npub1racer");
      const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).insertAgent(newAgent(owner))));
      assert.equal(outcomes.filter((outcome) => outcome === "inserted").length, 1);
      assert.equal(outcomes.filter((outcome) => outcome === "conflict").length, 49);
      assert.equal((await a.listAgents()).filter((row) => row.owner_npub === owner).length, 1);
    });

    test("four processes migrate one new database at once and race inserts: one row wins", async () => {
      const options = await engine.freshDatabase();
      const owner = unique("npub1racer");
      const counts = await raceInProcesses(options, owner, 4, 15);
      assert.equal(counts.reduce((sum, count) => sum + count.inserted, 0), 1);
      assert.equal(counts.reduce((sum, count) => sum + count.conflict, 0), 59);
      const store = await open(options);
      assert.equal((await store.listAgents()).length, 1);
    });

    test("migrations run concurrently from several store instances without error, and again as a no-op", async () => {
      const options = await engine.freshDatabase();
      const stores = await Promise.all(Array.from({ length: 4 }, () => openAgentStore(options)));
      opened.push(...stores);
      await Promise.all(stores.map((store) => store.migrate()));
      await Promise.all(stores.map((store) => store.migrate()));
      const owner = unique("npub1owner");
      assert.equal(await stores[0]!.insertAgent(newAgent(owner)), "inserted");
      assert.equal(await stores[3]!.insertAgent(newAgent(owner)), "conflict");
    });

    test("a reopened store keeps its data", async () => {
      const options = await engine.freshDatabase();
      const first = await openMigrated(options);
      const owner = unique("npub1owner");
      const row = newAgent(owner);
      await first.insertAgent(row);
      await first.setVm(row.agent_id, "vm-kept", "booting_guest");
      await first.setAllowlist({ npub: owner, active: true, note: "kept", max_agents: 2 }, "admin", "add");
      await first.rememberAuthEvent("event-kept", 1_000);
      await first.close();

      const second = await open(options);
      const kept = await second.getAgent(row.agent_id);
      assert.equal(kept?.vm_id, "vm-kept");
      assert.equal(kept?.secret_enc, row.secret_enc);
      assert.equal((await second.getAllowlist(owner))?.note, "kept");
      assert.equal((await second.listAllowlistAudit(owner)).length, 1);
      assert.equal(await second.rememberAuthEvent("event-kept", 2_000), false);
    });
  });
}

defineSuite(sqlite);
defineSuite(postgres);
