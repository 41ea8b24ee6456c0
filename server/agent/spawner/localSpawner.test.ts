// The local spawner with real child processes: the fixture guest speaks the bot's stdout protocol, so
// these tests are about the spawner's own logic (states, faults, restart); localSpawner.realBot.integration.test.ts runs the bot.
import assert from "node:assert/strict";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { SpawnerError } from "../types.js";
import type { VmInfo } from "../types.js";
import { LocalSpawner } from "./localSpawner.js";
import type { LocalSpawnerOptions, SpawnerLogLine } from "./localSpawner.js";
import { FIXTURE_GUEST, guestStarts, processAlive, tempDir, vmRequest, waitFor } from "./testSupport.fixture.js";

interface Harness {
  spawner: LocalSpawner;
  dataDir: string;
  logs: SpawnerLogLine[];
  /** Another spawner on the same data dir, as after a restart; closed with the test. */
  reopen(options?: Partial<LocalSpawnerOptions>): LocalSpawner;
}

async function harness(t: TestContext, options: Partial<LocalSpawnerOptions> = {}): Promise<Harness> {
  const dataDir = await tempDir("spawner");
  const logs: SpawnerLogLine[] = [];
  const spawners: LocalSpawner[] = [];
  t.after(async () => {
    await Promise.all(spawners.map((spawner) => spawner.close()));
    await rm(dataDir, { recursive: true, force: true });
  });
  const make = (extra: Partial<LocalSpawnerOptions>): LocalSpawner => {
    const spawner = new LocalSpawner({
      dataDir,
      agentEntry: FIXTURE_GUEST,
      bootTimeoutMs: 10_000,
      stopGraceMs: 2000,
      log: (line) => logs.push(line),
      ...options,
      ...extra,
    });
    spawners.push(spawner);
    return spawner;
  };
  return { spawner: make({}), dataDir, logs, reopen: make };
}

const statusOf = (spawner: LocalSpawner, vmId: string) => () => spawner.status(vmId);
const isStatus =
  (status: VmInfo["status"]) =>
  (info: VmInfo | null): boolean =>
    info?.status === status;

async function rejectsWith(promise: Promise<unknown>, code: SpawnerError["code"], pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SpawnerError, `expected a SpawnerError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

test("create_reports_starting_then_running_with_the_guest_phases_in_order", async (t) => {
  const { spawner, dataDir, logs } = await harness(t, { guestEnv: { ...process.env, BURROW_SPAWNER_TOKEN: "must-not-reach-guests" } });
  const request = vmRequest();
  const { vm_id } = await spawner.create(request);
  assert.match(vm_id, /^vm-[0-9a-f]{16}$/);

  const first = await spawner.status(vm_id);
  assert.equal(first?.status, "starting");
  assert.equal(first?.agent_pubkey, request.agent_pubkey);
  assert.equal(first?.owner_pubkey, request.owner_pubkey);
  assert.equal(first?.error, null);

  const running = await waitFor(statusOf(spawner, vm_id), isStatus("running"), "running");
  assert.equal(running?.phase, "ready");
  const phases = logs.filter((line) => line.event === "vm_phase" && line["vm_id"] === vm_id).map((line) => line["phase"]);
  assert.deepEqual(phases, ["booting_guest", "waiting_for_service_ready", "waiting_for_keypackage_publish"]);

  const [start, ...more] = await guestStarts(dataDir, vm_id);
  assert.equal(more.length, 0);
  assert.ok(start);
  assert.equal(start.secret_in_argv, false, "the secret reaches the guest on stdin only");
  assert.equal(start.secret_in_env, false, "the secret reaches the guest on stdin only");
  assert.equal(start.spawner_token_in_env, false);
  assert.deepEqual(start.argv, ["--data-dir", join(dataDir, "vms", vm_id, "data"), "--owner", request.owner_pubkey, "--relay", request.relays[0]]);
  assert.ok(processAlive(start.pid));

  const vmDir = join(dataDir, "vms", vm_id);
  assert.equal((await stat(vmDir)).mode & 0o777, 0o700);
  assert.equal((await stat(join(vmDir, "agent_secret"))).mode & 0o777, 0o600);
  const state = await readFile(join(dataDir, "vms.json"), "utf8");
  assert.ok(!state.includes(request.agent_secret_hex), "vms.json never holds a secret");
  assert.ok(!JSON.stringify(logs).includes(request.agent_secret_hex), "no log line holds a secret");
});

test("a_stalled_guest_shows_its_last_phase_then_fails_at_the_boot_timeout", async (t) => {
  const { spawner, dataDir } = await harness(t, { bootTimeoutMs: 1500, guestEnv: { ...process.env, FIXTURE_STALL: "1" } });
  const { vm_id } = await spawner.create(vmRequest());
  const stalled = await waitFor(statusOf(spawner, vm_id), (info) => info?.phase === "waiting_for_keypackage_publish", "last phase");
  assert.equal(stalled?.status, "starting");
  const failed = await waitFor(statusOf(spawner, vm_id), isStatus("failed"), "failed");
  assert.match(failed?.error ?? "", /not ready within 1500 ms \(last phase: waiting_for_keypackage_publish\)/);
  assert.equal(failed?.phase, "failed");
  const [start] = await guestStarts(dataDir, vm_id);
  await waitFor(() => processAlive(start?.pid ?? 0), (alive) => !alive, "the guest stopped");
});

test("delete_stops_the_guest_and_removes_its_directory", async (t) => {
  const { spawner, dataDir } = await harness(t);
  const { vm_id } = await spawner.create(vmRequest());
  await waitFor(statusOf(spawner, vm_id), isStatus("running"), "running");
  const [start] = await guestStarts(dataDir, vm_id);
  assert.ok(start && processAlive(start.pid));

  assert.equal(await spawner.delete(vm_id), true);
  assert.equal(processAlive(start.pid), false);
  await assert.rejects(stat(join(dataDir, "vms", vm_id)), { code: "ENOENT" });
  assert.equal(await spawner.status(vm_id), null);
  assert.deepEqual(await spawner.list(), []);
  assert.equal(await spawner.delete(vm_id), false);
  const state = JSON.parse(await readFile(join(dataDir, "vms.json"), "utf8")) as { vms: unknown[] };
  assert.deepEqual(state.vms, []);
});

test("delete_right_after_create_leaves_no_guest_and_no_directory", async (t) => {
  const { spawner, dataDir } = await harness(t);
  for (let i = 0; i < 5; i += 1) {
    const { vm_id } = await spawner.create(vmRequest());
    assert.equal(await spawner.delete(vm_id), true);
    await assert.rejects(stat(join(dataDir, "vms", vm_id)), { code: "ENOENT" });
  }
  assert.deepEqual(await spawner.list(), []);
});

test("delete_kills_a_guest_that_ignores_sigterm_after_the_grace_period", async (t) => {
  const { spawner, dataDir, logs } = await harness(t, { stopGraceMs: 300, guestEnv: { ...process.env, FIXTURE_IGNORE_SIGTERM: "1" } });
  const { vm_id } = await spawner.create(vmRequest());
  await waitFor(statusOf(spawner, vm_id), isStatus("running"), "running");
  const [start] = await guestStarts(dataDir, vm_id);
  const began = Date.now();
  assert.equal(await spawner.delete(vm_id), true);
  assert.ok(Date.now() - began >= 300);
  assert.equal(processAlive(start?.pid ?? 0), false);
  assert.ok(logs.some((line) => line.event === "guest_killed" && line["vm_id"] === vm_id));
});

test("delete_during_an_injected_boot_delay_never_starts_the_guest", async (t) => {
  const { spawner, dataDir } = await harness(t, { faults: { bootDelayMs: 300 } });
  const { vm_id } = await spawner.create(vmRequest());
  assert.equal((await spawner.status(vm_id))?.phase, "provisioning_vm");
  assert.equal(await spawner.delete(vm_id), true);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(await guestStarts(dataDir, vm_id), []);
});

test("unknown_vms_have_no_status_and_cannot_be_deleted", async (t) => {
  const { spawner } = await harness(t);
  assert.equal(await spawner.status("vm-0000000000000000"), null);
  assert.equal(await spawner.status("../../etc"), null);
  assert.equal(await spawner.delete("vm-0000000000000000"), false);
});

test("list_returns_every_vm_in_creation_order", async (t) => {
  const { spawner } = await harness(t);
  const ids: string[] = [];
  for (let i = 0; i < 3; i += 1) ids.push((await spawner.create(vmRequest())).vm_id);
  const listed = await spawner.list();
  assert.deepEqual(
    listed.map((vm) => vm.vm_id),
    ids,
  );
  for (const id of ids) await waitFor(statusOf(spawner, id), isStatus("running"), `${id} running`);
  assert.deepEqual(
    (await spawner.list()).map((vm) => vm.status),
    ["running", "running", "running"],
  );
});

test("create_refuses_invalid_requests_without_creating_anything", async (t) => {
  const { spawner, dataDir } = await harness(t);
  const good = vmRequest();
  const other = vmRequest();
  const cases: Array<[string, unknown]> = [
    ["not an object", null],
    ["short secret", { ...good, agent_secret_hex: "abcd" }],
    ["pubkey of another key", { ...good, agent_pubkey: other.agent_pubkey }],
    ["zero secret", { ...good, agent_secret_hex: "00".repeat(32) }],
    ["owner not hex", { ...good, owner_pubkey: "npub1xyz" }],
    ["no relays", { ...good, relays: [] }],
    ["relay not a URL", { ...good, relays: ["relay.example"] }],
    ["http relay", { ...good, relays: ["http://127.0.0.1:1"] }],
    ["too many relays", { ...good, relays: Array.from({ length: 17 }, (_, i) => `ws://127.0.0.1:${1000 + i}`) }],
  ];
  for (const [name, request] of cases) {
    await rejectsWith(spawner.create(request as never), "invalid_request").catch((error: unknown) => {
      throw new Error(`${name}: ${String(error)}`);
    });
  }
  assert.deepEqual(await spawner.list(), []);
  const state = JSON.parse(await readFile(join(dataDir, "vms.json"), "utf8")) as { vms: unknown[] };
  assert.deepEqual(state.vms, []);
});

test("create_is_idempotent_for_an_agent_key_whose_vm_is_live", async (t) => {
  const { spawner } = await harness(t);
  const request = vmRequest();
  const [a, b] = await Promise.all([spawner.create(request), spawner.create(request)]);
  assert.equal(a.vm_id, b.vm_id);
  assert.equal((await spawner.list()).length, 1);
  await rejectsWith(spawner.create({ ...request, owner_pubkey: vmRequest().owner_pubkey }), "create_failed", /another owner/);
});

test("fail_create_fault_makes_every_create_fail", async (t) => {
  const { spawner, logs } = await harness(t, { faults: { failCreate: true } });
  await rejectsWith(spawner.create(vmRequest()), "create_failed", /failCreate/);
  await rejectsWith(spawner.create(vmRequest()), "create_failed");
  assert.deepEqual(await spawner.list(), []);
  assert.equal(logs.filter((line) => line.event === "create_failed").length, 2);
});

test("fail_create_times_two_fails_twice_then_creates", async (t) => {
  const { spawner } = await harness(t, { faults: { failCreate: { times: 2 } } });
  await rejectsWith(spawner.create(vmRequest()), "create_failed");
  await rejectsWith(spawner.create(vmRequest()), "create_failed");
  const { vm_id } = await spawner.create(vmRequest());
  await waitFor(statusOf(spawner, vm_id), isStatus("running"), "running");
  assert.equal((await spawner.create(vmRequest())).vm_id.startsWith("vm-"), true);
});

test("crash_after_boot_fault_leaves_the_vm_stopped_with_the_exit_as_error", async (t) => {
  const { spawner, dataDir } = await harness(t, { faults: { crashAfterBootMs: 200 } });
  const { vm_id } = await spawner.create(vmRequest());
  await waitFor(statusOf(spawner, vm_id), isStatus("running"), "running");
  const stopped = await waitFor(statusOf(spawner, vm_id), isStatus("stopped"), "stopped");
  assert.match(stopped?.error ?? "", /signal SIGKILL/);
  assert.match(stopped?.error ?? "", /crashAfterBootMs=200/);
  const [start] = await guestStarts(dataDir, vm_id);
  assert.equal(processAlive(start?.pid ?? 0), false);
});

test("never_ready_fault_fails_the_vm_after_the_boot_timeout_and_stops_its_guest", async (t) => {
  const { spawner, dataDir, logs } = await harness(t, { bootTimeoutMs: 1000, faults: { neverReady: true } });
  const began = Date.now();
  const { vm_id } = await spawner.create(vmRequest());
  await waitFor(() => logs.some((line) => line.event === "guest_ready_ignored"), Boolean, "the ignored ready line");
  assert.equal((await spawner.status(vm_id))?.status, "starting");
  const failed = await waitFor(statusOf(spawner, vm_id), isStatus("failed"), "failed");
  assert.ok(Date.now() - began >= 1000);
  assert.match(failed?.error ?? "", /not ready within 1000 ms/);
  const [start] = await guestStarts(dataDir, vm_id);
  await waitFor(() => processAlive(start?.pid ?? 0), (alive) => !alive, "the guest stopped");
  assert.equal((await spawner.status(vm_id))?.status, "failed", "the guest's exit does not change a failed VM");
});

test("boot_delay_fault_holds_the_vm_in_provisioning_before_its_guest_starts", async (t) => {
  const { spawner, dataDir } = await harness(t, { faults: { bootDelayMs: 400 } });
  const { vm_id } = await spawner.create(vmRequest());
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(await spawner.status(vm_id).then((info) => [info?.status, info?.phase]), ["starting", "provisioning_vm"]);
  assert.deepEqual(await guestStarts(dataDir, vm_id), []);
  await waitFor(statusOf(spawner, vm_id), isStatus("running"), "running");
});

test("faults_json_is_read_on_every_create", async (t) => {
  const { spawner, dataDir, logs } = await harness(t);
  const faultsFile = join(dataDir, "faults.json");
  await spawner.start();

  await writeFile(faultsFile, JSON.stringify({ failCreate: true }));
  await rejectsWith(spawner.create(vmRequest()), "create_failed");
  await writeFile(faultsFile, JSON.stringify({}));
  await spawner.create(vmRequest());

  await writeFile(faultsFile, JSON.stringify({ failCreate: { times: 1 } }));
  await rejectsWith(spawner.create(vmRequest()), "create_failed");
  await spawner.create(vmRequest());
  // Written again (even unchanged), the countdown starts again.
  await new Promise((resolve) => setTimeout(resolve, 20));
  await writeFile(faultsFile, JSON.stringify({ failCreate: { times: 1 } }));
  await rejectsWith(spawner.create(vmRequest()), "create_failed");

  await writeFile(faultsFile, "{ not json");
  await spawner.create(vmRequest());
  assert.ok(logs.some((line) => line.event === "faults_invalid"));

  await spawner.setFaults({ neverReady: true });
  assert.deepEqual(JSON.parse(await readFile(faultsFile, "utf8")), { neverReady: true });
  assert.deepEqual(await spawner.getFaults(), { neverReady: true });

  await rm(faultsFile);
  assert.deepEqual(await spawner.getFaults(), {});
});

test("a_guest_that_exits_before_ready_fails_the_vm_with_its_exit_and_stderr", async (t) => {
  const { spawner } = await harness(t, { guestEnv: { ...process.env, FIXTURE_EXIT_BEFORE_READY: "3" } });
  const { vm_id } = await spawner.create(vmRequest());
  const failed = await waitFor(statusOf(spawner, vm_id), isStatus("failed"), "failed");
  assert.match(failed?.error ?? "", /exited before it was ready \(code 3\): .*cannot reach any relay/);
});

test("a_missing_agent_entry_is_a_create_failure", async (t) => {
  const { spawner } = await harness(t, { agentEntry: "/nonexistent/burrow/bot/main.js" });
  await rejectsWith(spawner.create(vmRequest()), "create_failed", /not found/);
});

test("restart_brings_back_running_vms_and_keeps_stopped_ones_stopped", async (t) => {
  const { spawner, dataDir, logs, reopen } = await harness(t);
  const live = (await spawner.create(vmRequest())).vm_id;
  await waitFor(statusOf(spawner, live), isStatus("running"), "running");
  await spawner.setFaults({ crashAfterBootMs: 50 });
  const crashed = (await spawner.create(vmRequest())).vm_id;
  await waitFor(statusOf(spawner, crashed), isStatus("stopped"), "stopped");
  await spawner.setFaults({});
  const [firstStart] = await guestStarts(dataDir, live);

  await spawner.close();
  assert.equal(processAlive(firstStart?.pid ?? 0), false, "close stops every guest");
  await rejectsWith(spawner.list(), "unavailable", /closed/);

  const again = reopen({});
  const restarted = await again.status(live);
  assert.equal(restarted?.status, "starting");
  await waitFor(statusOf(again, live), isStatus("running"), "running after the restart");
  const starts = await guestStarts(dataDir, live);
  assert.equal(starts.length, 2);
  assert.notEqual(starts[1]?.pid, firstStart?.pid);
  assert.ok(processAlive(starts[1]?.pid ?? 0));
  const stillStopped = await again.status(crashed);
  assert.equal(stillStopped?.status, "stopped");
  assert.match(stillStopped?.error ?? "", /crashAfterBootMs=50/);
  assert.equal((await guestStarts(dataDir, crashed)).length, 1);
  assert.ok(logs.some((line) => line.event === "vm_restarting" && line["vm_id"] === live));
  assert.deepEqual(
    (await again.list()).map((vm) => vm.vm_id),
    [live, crashed],
  );
});

test("restart_removes_a_vm_directory_that_has_no_record", async (t) => {
  const { spawner, dataDir, reopen } = await harness(t);
  await spawner.start();
  await spawner.close();
  const stray = join(dataDir, "vms", "vm-00000000000000aa");
  await writeFile(join(dataDir, "vms", "placeholder"), "");
  await mkdir(stray);
  const again = reopen({});
  await again.start();
  await assert.rejects(stat(stray), { code: "ENOENT" });
  await stat(join(dataDir, "vms", "placeholder"));
});

test("a_second_spawner_on_the_same_data_dir_is_refused", async (t) => {
  const { spawner, reopen } = await harness(t);
  await spawner.start();
  const second = reopen({});
  await rejectsWith(second.list(), "unavailable", /already used by another spawner/);
});

test("a_corrupt_state_file_stops_the_spawner_rather_than_losing_its_agents", async (t) => {
  const { spawner, dataDir, reopen } = await harness(t);
  const { vm_id } = await spawner.create(vmRequest());
  await spawner.close();
  await writeFile(join(dataDir, "vms.json"), "{ truncated");
  const again = reopen({});
  await rejectsWith(again.list(), "unavailable", /could not start/);
  await stat(join(dataDir, "vms", vm_id));
});
