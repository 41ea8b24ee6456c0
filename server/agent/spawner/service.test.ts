// The spawner service over real HTTP on 127.0.0.1, driven through HttpSpawner (its client) and raw requests.
import assert from "node:assert/strict";
import { createServer, request as httpRequest } from "node:http";
import type { OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { SpawnerError } from "../types.js";
import type { VmInfo } from "../types.js";
import { HttpSpawner } from "./httpSpawner.js";
import { startSpawnerService } from "./service.js";
import type { RunningSpawnerService, SpawnerServiceOptions } from "./service.js";
import { FIXTURE_GUEST, guestStarts, processAlive, tempDir, vmRequest, waitFor } from "./testSupport.fixture.js";

const TOKEN = "test-token-0123456789abcdef";

async function service(t: TestContext, options: Partial<SpawnerServiceOptions> = {}): Promise<{ service: RunningSpawnerService; client: HttpSpawner; dataDir: string }> {
  const dataDir = await tempDir("spawner-service");
  const running = await startSpawnerService({ dataDir, agentEntry: FIXTURE_GUEST, bootTimeoutMs: 10_000, stopGraceMs: 2000, ...options });
  const client = new HttpSpawner({ baseUrl: running.url, ...(options.token ? { token: options.token } : {}), timeoutMs: 5000 });
  t.after(async () => {
    await client.close();
    await running.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { service: running, client, dataDir };
}

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> | null;
}

/** One request with exactly these headers and body, for what HttpSpawner never sends. */
function raw(url: string, method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: string | Buffer): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : null });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function rejectsWith(promise: Promise<unknown>, code: SpawnerError["code"], pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SpawnerError, `expected a SpawnerError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

const isStatus =
  (status: VmInfo["status"]) =>
  (info: VmInfo | null): boolean =>
    info?.status === status;

test("http_spawner_creates_lists_reports_and_deletes_vms_through_the_service", async (t) => {
  const { client, dataDir } = await service(t);
  const request = vmRequest();
  const { vm_id } = await client.create(request);
  assert.match(vm_id, /^vm-[0-9a-f]{16}$/);
  const first = await client.status(vm_id);
  assert.equal(first?.status, "starting");
  assert.equal(first?.agent_pubkey, request.agent_pubkey);
  const running = await waitFor(() => client.status(vm_id), isStatus("running"), "running");
  assert.equal(running?.phase, "ready");
  assert.deepEqual(
    (await client.list()).map((vm) => [vm.vm_id, vm.status]),
    [[vm_id, "running"]],
  );

  const [start] = await guestStarts(dataDir, vm_id);
  assert.equal(await client.delete(vm_id), true);
  assert.equal(processAlive(start?.pid ?? 0), false);
  await assert.rejects(stat(join(dataDir, "vms", vm_id)), { code: "ENOENT" });
  assert.equal(await client.status(vm_id), null);
  assert.equal(await client.delete(vm_id), false);
  assert.deepEqual(await client.list(), []);
});

test("http_spawner_reports_invalid_requests_and_injected_create_failures", async (t) => {
  const { service: running, client } = await service(t);
  await rejectsWith(client.create({ ...vmRequest(), relays: [] }), "invalid_request", /relays/);

  const put = await raw(running.url, "PUT", "/faults", { "content-type": "application/json" }, JSON.stringify({ failCreate: { times: 2 } }));
  assert.equal(put.status, 200);
  assert.deepEqual(put.body, { failCreate: { times: 2 } });
  await rejectsWith(client.create(vmRequest()), "create_failed", /failCreate/);
  await rejectsWith(client.create(vmRequest()), "create_failed");
  const { vm_id } = await client.create(vmRequest());
  await waitFor(() => client.status(vm_id), isStatus("running"), "running");
});

test("http_status_shows_the_guest_phase_while_starting", async (t) => {
  const { client } = await service(t, { guestEnv: { ...process.env, FIXTURE_STALL: "1" } });
  const { vm_id } = await client.create(vmRequest());
  const stalled = await waitFor(() => client.status(vm_id), (info) => info?.phase === "waiting_for_keypackage_publish", "last phase");
  assert.equal(stalled?.status, "starting");
});

test("faults_set_over_http_apply_to_the_next_create", async (t) => {
  const { service: running, client, dataDir } = await service(t, { bootTimeoutMs: 1500 });
  const set = (faults: unknown) => raw(running.url, "PUT", "/faults", { "content-type": "application/json" }, JSON.stringify(faults));

  assert.equal((await set({ crashAfterBootMs: 100 })).status, 200);
  assert.deepEqual((await raw(running.url, "GET", "/faults")).body, { crashAfterBootMs: 100 });
  const crashing = (await client.create(vmRequest())).vm_id;
  const stopped = await waitFor(() => client.status(crashing), isStatus("stopped"), "stopped");
  assert.match(stopped?.error ?? "", /SIGKILL.*crashAfterBootMs=100/);

  assert.equal((await set({ neverReady: true })).status, 200);
  const neverReady = (await client.create(vmRequest())).vm_id;
  await waitFor(() => guestStarts(dataDir, neverReady), (starts) => starts.length === 1, "the guest started");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await client.status(neverReady))?.status, "starting");
  const failed = await waitFor(() => client.status(neverReady), isStatus("failed"), "failed at the boot timeout");
  assert.match(failed?.error ?? "", /not ready within 1500 ms/);

  const bad = await set({ failCreate: "sometimes" });
  assert.equal(bad.status, 400);
  assert.equal(bad.body?.["error"], "invalid_request");
  assert.equal((await set({ bootDelay: 5 })).status, 400, "an unknown fault is refused, not ignored");
});

test("service_with_a_token_refuses_requests_without_it", async (t) => {
  const { service: running, client } = await service(t, { token: TOKEN });
  assert.deepEqual(await client.list(), []);

  const none = await raw(running.url, "GET", "/vms");
  assert.equal(none.status, 401);
  assert.equal(none.body?.["error"], "unauthorized");
  assert.equal(typeof none.body?.["message"], "string");
  assert.equal(typeof none.body?.["request_id"], "string");
  assert.equal(none.headers["www-authenticate"], "Bearer");
  assert.equal((await raw(running.url, "GET", "/health", { authorization: "Bearer wrong-token-0123456789" })).status, 401);
  assert.equal((await raw(running.url, "GET", "/health", { authorization: `Bearer ${TOKEN}` })).status, 200);

  const anonymous = new HttpSpawner({ baseUrl: running.url });
  await rejectsWith(anonymous.list(), "unavailable", /refused our token/);
  await rejectsWith(anonymous.create(vmRequest()), "unavailable");
});

test("service_refuses_oversized_malformed_and_misdirected_requests", async (t) => {
  const { service: running } = await service(t);
  const json = { "content-type": "application/json" };

  const declared = await raw(running.url, "POST", "/vms", { ...json, "content-length": 70_000 }, Buffer.alloc(70_000, 0x20));
  assert.equal(declared.status, 413);
  assert.equal(declared.body?.["error"], "payload_too_large");
  const chunked = await raw(running.url, "POST", "/vms", { ...json, "transfer-encoding": "chunked" }, `{"x":"${"a".repeat(70_000)}"}`);
  assert.equal(chunked.status, 413);

  const badJson = await raw(running.url, "POST", "/vms", json, "{ nope");
  assert.equal(badJson.status, 400);
  assert.equal(badJson.body?.["error"], "invalid_request");
  assert.match(String(badJson.body?.["message"]), /JSON/);
  assert.equal((await raw(running.url, "POST", "/vms", json, "[1]")).status, 400);
  assert.equal((await raw(running.url, "POST", "/vms", { "content-type": "text/plain" }, JSON.stringify(vmRequest()))).status, 415);

  const unknownVm = await raw(running.url, "GET", "/vms/vm-0000000000000000");
  assert.deepEqual([unknownVm.status, unknownVm.body?.["error"]], [404, "not_found"]);
  assert.equal((await raw(running.url, "DELETE", "/vms/vm-0000000000000000")).status, 404);
  assert.equal((await raw(running.url, "GET", "/vms/%E0%A4%A")).status, 404);
  assert.equal((await raw(running.url, "GET", "/nothing")).status, 404);
  const wrongMethod = await raw(running.url, "PATCH", "/vms");
  assert.deepEqual([wrongMethod.status, wrongMethod.headers["allow"]], [405, "GET, POST"]);

  const health = await raw(running.url, "GET", "/health");
  assert.deepEqual([health.status, health.body], [200, { status: "ok" }]);
  const rebound = await raw(running.url, "GET", "/health", { host: `evil.example:${running.port}` });
  assert.equal(rebound.status, 403, "a page whose DNS name was rebound to 127.0.0.1 is refused");
});

test("http_spawner_to_a_dead_port_is_unavailable", async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));

  const client = new HttpSpawner({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
  await rejectsWith(client.create(vmRequest()), "unavailable", /unreachable.*ECONNREFUSED/);
  await rejectsWith(client.status("vm-0000000000000000"), "unavailable");
  await rejectsWith(client.delete("vm-0000000000000000"), "unavailable");
  await rejectsWith(client.list(), "unavailable");
});

test("http_spawner_times_out_on_a_silent_host_and_does_not_mistake_a_foreign_404_for_a_vanished_vm", async (t) => {
  const server = createServer((req, res) => {
    if (req.url?.includes("slow")) return; // never answers
    res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const foreign = new HttpSpawner({ baseUrl: `http://127.0.0.1:${port}/prefix/`, timeoutMs: 500 });
  await rejectsWith(foreign.status("vm-0000000000000000"), "unavailable", /answered 404/);
  await rejectsWith(foreign.delete("vm-0000000000000000"), "unavailable");
  const silent = new HttpSpawner({ baseUrl: `http://127.0.0.1:${port}/slow`, timeoutMs: 300 });
  await rejectsWith(silent.list(), "unavailable", /no answer within 300 ms/);
});

test("http_spawner_refuses_plain_http_beyond_loopback", () => {
  assert.throws(() => new HttpSpawner({ baseUrl: "http://vm-host.example:7450" }), /in the clear/);
  assert.doesNotThrow(() => new HttpSpawner({ baseUrl: "https://vm-host.example:7450", token: TOKEN }));
  assert.doesNotThrow(() => new HttpSpawner({ baseUrl: "http://vm-host.example:7450", allowInsecureHttp: true }));
  assert.throws(() => new HttpSpawner({ baseUrl: "ftp://127.0.0.1" }), /http/);
});

test("service_refuses_to_listen_beyond_loopback_without_a_token", async () => {
  const dataDir = await tempDir("spawner-service");
  try {
    await assert.rejects(startSpawnerService({ dataDir, host: "0.0.0.0" }), /requires a token/);
    await assert.rejects(startSpawnerService({ dataDir, token: "short" }), /at least 16/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
