// The agent API over real HTTP, with real NIP-98, real storage (SQLite and, where installed,
// PostgreSQL) and the local spawner running real agent bots against the embedded relay.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { hexToBytes } from "@noble/hashes/utils.js";
import { finalizeEvent, generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { npubEncode } from "nostr-tools/nip19";
import { startRelay, type RunningRelay } from "../../relay/relay.js";
import { filesHolding } from "../spawner/testSupport.fixture.js";
import { startThrowawayPostgres } from "../testing/postgres.js";
import { SecretBox } from "./secretBox.js";
import { agentRequest, startTestServer, TEST_SERVER_SECRET, type TestServer } from "./testServer.js";


interface Engine {
  name: string;
  url(): Promise<string | undefined | { skipped: string }>;
  stop(): Promise<void>;
}

let stopPostgres: (() => Promise<void>) | null = null;
const engines: Engine[] = [
  { name: "SQLite", url: async () => undefined, stop: async () => undefined },
  {
    name: "PostgreSQL",
    url: async () => {
      const pg = await startThrowawayPostgres();
      if ("skipped" in pg) return pg;
      stopPostgres = pg.stop;
      return pg.url;
    },
    stop: async () => {
      await stopPostgres?.();
      stopPostgres = null;
    },
  },
];

async function until<T>(probe: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const newOwner = () => {
  const secret = generateSecretKey();
  return { secret, npub: npubEncode(getPublicKey(secret)) };
};

for (const engine of engines) {
  describe(`agent API on ${engine.name}`, () => {
    let relay: RunningRelay;
    let server: TestServer;
    let databaseUrl: string | undefined;
    let skipped: string | null = null;

    const allow = async (npub: string, maxAgents = 5) => server.store.setAllowlist({ npub, active: true, note: "test", max_agents: maxAgents }, "test", "add");
    const ready = (owner: Uint8Array) =>
      until(async () => {
        const me = await agentRequest(server.url, "/v1/agents/me", "GET", owner);
        return me.body["state"] === "ready" ? me : null;
      }, 30_000, "a ready agent");

    before(async () => {
      const url = await engine.url();
      if (typeof url === "object") {
        skipped = url.skipped;
        console.log(`PostgreSQL tests skipped: ${skipped}`);
        return;
      }
      databaseUrl = url;
      relay = await startRelay({ port: 0 });
      server = await startTestServer({ relays: [relay.url], ...(databaseUrl ? { databaseUrl } : {}), orphanGraceMs: 0 });
    });
    after(async () => {
      if (skipped) return;
      await server.close();
      await relay.close();
      await engine.stop();
    });

    test("status_codes_from_not_allowlisted_to_a_ready_agent", async (t) => {
      if (skipped) return t.skip(skipped);
      const health = await fetch(`${server.url}/health`);
      assert.equal(health.status, 200);
      const owner = newOwner();
      let response = await agentRequest(server.url, "/v1/agents/me", "GET", owner.secret);
      assert.equal(response.status, 403);
      assert.equal(response.body["error"], "not_whitelisted");
      assert.match(String(response.body["request_id"]), /^[0-9a-f]{16}$/);
      assert.equal((await agentRequest(server.url, "/v1/agents/ensure", "POST", owner.secret)).status, 403);

      await allow(owner.npub);
      response = await agentRequest(server.url, "/v1/agents/me", "GET", owner.secret);
      assert.deepEqual([response.status, response.body["error"]], [404, "agent_not_found"]);
      response = await agentRequest(server.url, "/v1/agents/me/recover", "POST", owner.secret);
      assert.deepEqual([response.status, response.body["error"]], [404, "agent_not_found"]);

      const ensured = await agentRequest(server.url, "/v1/agents/ensure", "POST", owner.secret, { body: "{}" });
      assert.equal(ensured.status, 202);
      assert.equal(ensured.body["state"], "creating");
      assert.match(String(ensured.body["agent_id"]), /^npub1/);
      response = await agentRequest(server.url, "/v1/agents/ensure", "POST", owner.secret);
      assert.deepEqual([response.status, response.body["error"]], [409, "agent_exists"]);

      const me = await ready(owner.secret);
      assert.equal(me.status, 200);
      assert.equal(me.body["agent_id"], ensured.body["agent_id"]);
      assert.equal(me.body["startup_phase"], "ready");
      assert.match(String(me.body["vm_id"]), /^vm-/);

      // recover on a ready agent changes nothing
      response = await agentRequest(server.url, "/v1/agents/me/recover", "POST", owner.secret);
      assert.equal(response.status, 202);
      assert.equal(response.body["agent_id"], ensured.body["agent_id"]);
      assert.equal((await server.spawner.list()).filter((vm) => vm.owner_pubkey === getPublicKey(owner.secret)).length, 1);

      response = await agentRequest(server.url, "/v1/agents/nothing", "GET", owner.secret);
      assert.deepEqual([response.status, response.body["error"]], [404, "invalid_request"]);
    });

    test("an_agents_key_is_sealed_in_the_store_and_kept_in_the_clear_only_in_its_vm_directory", async (t) => {
      if (skipped) return t.skip(skipped);
      const owner = newOwner();
      await allow(owner.npub);
      assert.equal((await agentRequest(server.url, "/v1/agents/ensure", "POST", owner.secret)).status, 202);
      const vmId = String((await ready(owner.secret)).body["vm_id"]);
      const row = await server.store.getActiveAgent(owner.npub);
      assert.ok(row);
      // XChaCha20-Poly1305: a 24-byte nonce, then the key's 64 hex characters sealed with a 16-byte tag.
      assert.match(row.secret_enc, /^[0-9a-f]{48}:[0-9a-f]{160}$/);
      const secretHex = SecretBox.fromHex(TEST_SERVER_SECRET).open(row.secret_enc);
      assert.equal(getPublicKey(hexToBytes(secretHex)), row.agent_pubkey);
      assert.ok(!row.secret_enc.includes(secretHex));
      assert.throws(() => SecretBox.fromHex("22".repeat(32)).open(row.secret_enc), "another server key cannot open it");
      // The database file (SQLite) and everything else of the server's data dir hold it sealed only.
      assert.deepEqual(await filesHolding(server.dataDir, secretHex), [join(server.dataDir, "spawner", "vms", vmId, "agent_secret")]);
    });

    test("every_nip98_fault_is_401_unauthorized", async (t) => {
      if (skipped) return t.skip(skipped);
      const owner = newOwner();
      await allow(owner.npub);
      const url = `${server.url}/v1/agents/me`;
      const now = Math.floor(Date.now() / 1000);
      const token = (event: object) => `Nostr ${Buffer.from(JSON.stringify(event)).toString("base64")}`;
      const sign = (overrides: { kind?: number; created_at?: number; tags?: string[][] }) =>
        finalizeEvent({ kind: overrides.kind ?? 27235, created_at: overrides.created_at ?? now, content: "", tags: overrides.tags ?? [["u", url], ["method", "GET"]] }, owner.secret);
      const valid = sign({});
      const forged = { ...sign({}), sig: valid.sig.replace(/^./, (c) => (c === "0" ? "1" : "0")) };
      const faults: Array<[string, string]> = [
        ["missing header", ""],
        ["wrong scheme", `Bearer ${Buffer.from(JSON.stringify(valid)).toString("base64")}`],
        ["not base64 JSON", "Nostr !!!!"],
        ["not an event", token({ hello: "world" })],
        ["wrong kind", token(sign({ kind: 1 }))],
        ["bad signature", token(forged)],
        ["too old", token(sign({ created_at: now - 120 }))],
        ["from the future", token(sign({ created_at: now + 120 }))],
        ["wrong url", token(sign({ tags: [["u", `${server.url}/v1/agents/ensure`], ["method", "GET"]] }))],
        ["url of another host", token(sign({ tags: [["u", url.replace("127.0.0.1", "localhost")], ["method", "GET"]] }))],
        ["wrong method", token(sign({ tags: [["u", url], ["method", "POST"]] }))],
        ["no method", token(sign({ tags: [["u", url]] }))],
        ["payload mismatch", token(sign({ tags: [["u", url], ["method", "GET"], ["payload", "00".repeat(32)]] }))],
      ];
      for (const [name, header] of faults) {
        const response = await agentRequest(server.url, "/v1/agents/me", "GET", owner.secret, { header });
        assert.equal(response.status, 401, name);
        assert.equal(response.body["error"], "unauthorized", name);
        assert.ok(response.body["request_id"], name);
      }
      const once = token(sign({ tags: [["u", url], ["method", "GET"], ["nonce", "replay"]] }));
      assert.equal((await agentRequest(server.url, "/v1/agents/me", "GET", owner.secret, { header: once })).status, 404);
      assert.equal((await agentRequest(server.url, "/v1/agents/me", "GET", owner.secret, { header: once })).status, 401, "replayed event id");
    });

    test("bad_bodies_are_400_and_huge_ones_413", async (t) => {
      if (skipped) return t.skip(skipped);
      const owner = newOwner();
      await allow(owner.npub);
      const post = (body: string, contentType?: string) => agentRequest(server.url, "/v1/agents/ensure", "POST", owner.secret, { body, ...(contentType ? { contentType } : {}) });
      for (const [body, type] of [["{not json", undefined], ["[1,2]", undefined], ["{}", "text/plain"]] as const) {
        const response = await post(body, type);
        assert.deepEqual([response.status, response.body["error"]], [400, "invalid_request"], `${body} ${type ?? ""}`);
      }
      const huge = await post(JSON.stringify({ pad: "x".repeat(100_000) }));
      assert.deepEqual([huge.status, huge.body["error"]], [413, "payload_too_large"]);
      assert.equal((await server.spawner.list()).filter((vm) => vm.owner_pubkey === getPublicKey(owner.secret)).length, 0);
    });

    test("fifty_concurrent_ensures_make_one_agent_and_one_vm", async (t) => {
      if (skipped) return t.skip(skipped);
      const owner = newOwner();
      await allow(owner.npub);
      const responses = await Promise.all(Array.from({ length: 50 }, () => agentRequest(server.url, "/v1/agents/ensure", "POST", owner.secret)));
      const statuses = responses.map((r) => r.status).sort();
      assert.equal(statuses.filter((s) => s === 202).length, 1, statuses.join(","));
      assert.equal(statuses.filter((s) => s === 409).length, 49);
      const agents = (await server.store.listAgents()).filter((a) => a.owner_npub === owner.npub);
      assert.equal(agents.length, 1);
      const vms = (await server.spawner.list()).filter((vm) => vm.owner_pubkey === getPublicKey(owner.secret));
      assert.equal(vms.length, 1);
    });

    test("vm_deleted_behind_the_servers_back_is_error_and_recover_brings_a_new_agent", async (t) => {
      if (skipped) return t.skip(skipped);
      const owner = newOwner();
      await allow(owner.npub);
      await agentRequest(server.url, "/v1/agents/ensure", "POST", owner.secret);
      const first = await ready(owner.secret);
      assert.equal(await server.spawner.delete(String(first.body["vm_id"])), true);
      const me = await agentRequest(server.url, "/v1/agents/me", "GET", owner.secret);
      assert.equal(me.body["state"], "error");
      assert.match(String(me.body["error"]), /no longer exists/);
      const recovered = await agentRequest(server.url, "/v1/agents/me/recover", "POST", owner.secret);
      assert.equal(recovered.status, 202);
      assert.notEqual(recovered.body["agent_id"], first.body["agent_id"], "a recovery is a new agent with a new key");
      const second = await ready(owner.secret);
      assert.equal(second.body["agent_id"], recovered.body["agent_id"]);
    });

    test("a_hundred_concurrent_recovers_make_at_most_one_new_vm", async (t) => {
      if (skipped) return t.skip(skipped);
      const owner = newOwner();
      await allow(owner.npub, 10);
      await agentRequest(server.url, "/v1/agents/ensure", "POST", owner.secret);
      const first = await ready(owner.secret);
      await server.spawner.delete(String(first.body["vm_id"]));
      const responses = await Promise.all(Array.from({ length: 100 }, () => agentRequest(server.url, "/v1/agents/me/recover", "POST", owner.secret)));
      assert.ok(responses.every((r) => r.status === 202), responses.map((r) => r.status).join(","));
      assert.equal(new Set(responses.map((r) => r.body["agent_id"])).size, 1);
      const agents = (await server.store.listAgents()).filter((a) => a.owner_npub === owner.npub);
      assert.equal(agents.length, 2, "the vanished one and exactly one recovery");
      const vms = (await server.spawner.list()).filter((vm) => vm.owner_pubkey === getPublicKey(owner.secret));
      assert.equal(vms.length, 1);
    });

    test("a_spawner_that_always_fails_is_bounded_and_leaves_no_vms", async (t) => {
      if (skipped) return t.skip(skipped);
      const failing = await startTestServer({ relays: [relay.url], ...(databaseUrl ? { databaseUrl } : {}), faults: { failCreate: true } });
      try {
        const owner = newOwner();
        await failing.store.setAllowlist({ npub: owner.npub, active: true, note: null, max_agents: 3 }, "test", "add");
        const ensured = await agentRequest(failing.url, "/v1/agents/ensure", "POST", owner.secret);
        assert.equal(ensured.status, 202);
        assert.equal(ensured.body["state"], "error");
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push((await agentRequest(failing.url, "/v1/agents/me/recover", "POST", owner.secret)).status);
        assert.deepEqual(statuses, [503, 503, 429, 429, 429]);
        const me = await agentRequest(failing.url, "/v1/agents/me", "GET", owner.secret);
        assert.equal(me.body["state"], "error");
        assert.match(String(me.body["error"]), /VM creation failed/);
        assert.equal((await failing.spawner.list()).length, 0);
        assert.equal((await failing.store.listAgents()).filter((a) => a.owner_npub === owner.npub).length, 3);
      } finally {
        await failing.close();
      }
    });

    test("two_servers_on_one_database_keep_one_agent_per_owner", async (t) => {
      if (skipped) return t.skip(skipped);
      const second = await startTestServer({
        relays: [relay.url],
        spawner: server.spawner,
        ...(databaseUrl ? { databaseUrl } : { dataDir: server.dataDir }),
      });
      try {
        const owner = newOwner();
        await allow(owner.npub);
        const responses = await Promise.all(
          Array.from({ length: 40 }, (_, i) => agentRequest(i % 2 === 0 ? server.url : second.url, "/v1/agents/ensure", "POST", owner.secret)),
        );
        assert.equal(responses.filter((r) => r.status === 202).length, 1);
        assert.equal((await server.store.listAgents()).filter((a) => a.owner_npub === owner.npub).length, 1);
        const vms = (await server.spawner.list()).filter((vm) => vm.owner_pubkey === getPublicKey(owner.secret));
        assert.equal(vms.length, 1);
      } finally {
        await second.close();
      }
    });

    test("a_broken_database_answers_500_internal_with_the_error_body", async (t) => {
      if (skipped) return t.skip(skipped);
      const broken = await startTestServer({ relays: [relay.url], ...(databaseUrl ? { databaseUrl } : {}) });
      try {
        await broken.store.close();
        const response = await agentRequest(broken.url, "/v1/agents/me", "GET", newOwner().secret);
        assert.equal(response.status, 500);
        assert.equal(response.body["error"], "internal");
        assert.match(String(response.body["request_id"]), /^[0-9a-f]{16}$/);
      } finally {
        await broken.api.close();
        await broken.spawner.close();
      }
    });

    test("the_reaper_deletes_vms_no_active_agent_owns", async (t) => {
      if (skipped) return t.skip(skipped);
      const stray = await server.spawner.create({
        agent_secret_hex: "22".repeat(32),
        agent_pubkey: getPublicKey(Uint8Array.from(Buffer.from("22".repeat(32), "hex"))),
        owner_pubkey: getPublicKey(newOwner().secret),
        relays: [relay.url],
      });
      const reaped = await server.service.reap();
      assert.ok(reaped.includes(stray.vm_id));
      assert.equal(await server.spawner.status(stray.vm_id), null);
      const owned = new Set(await server.store.activeVmIds());
      for (const vm of await server.spawner.list()) assert.ok(owned.has(vm.vm_id), `${vm.vm_id} survived the reaper without an owner`);
    });
  });
}
