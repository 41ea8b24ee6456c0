// The spawner as its own process (main.js): its --json output, a clean stop, and a restart after a
// clean stop and after being killed outright (its guest outlives it and must not run twice).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { test } from "node:test";
import type { TestContext } from "node:test";
import type { VmInfo } from "../types.js";
import { HttpSpawner } from "./httpSpawner.js";
import { FIXTURE_GUEST, SPAWNER_MAIN, guestStarts, processAlive, tempDir, vmRequest, waitFor } from "./testSupport.fixture.js";

const TOKEN = "main-test-token-0123456789";

interface SpawnerProcess {
  child: ChildProcess;
  url: string;
  lines: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startSpawnerProcess(t: TestContext, dataDir: string, args: string[] = []): Promise<SpawnerProcess> {
  const child = spawn(process.execPath, [SPAWNER_MAIN, "--json", "--port", "0", "--data-dir", dataDir, "--agent-entry", FIXTURE_GUEST, ...args], {
    env: { ...process.env, BURROW_SPAWNER_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const lines: Array<Record<string, unknown>> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the spawner did not print its listening line within 10 s")), 10_000);
    void exited.then(({ code }) => reject(new Error(`the spawner exited with ${code} before listening`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry["event"] === "listening") {
        clearTimeout(timer);
        resolve({ child, url: String(entry["url"]), lines, exited });
      }
    });
  });
}

const isStatus =
  (status: VmInfo["status"]) =>
  (info: VmInfo | null): boolean =>
    info?.status === status;

async function runningGuestPid(client: HttpSpawner, dataDir: string, vmId: string, starts: number): Promise<number> {
  await waitFor(() => client.status(vmId), isStatus("running"), `${vmId} running`);
  const recorded = await guestStarts(dataDir, vmId);
  assert.equal(recorded.length, starts);
  const pid = recorded.at(-1)?.pid ?? 0;
  assert.ok(processAlive(pid));
  return pid;
}

test("spawner_process_stops_its_agents_on_sigterm_and_restarts_them_on_the_next_start", async (t) => {
  const dataDir = await tempDir("spawner-main");
  t.after(() => rm(dataDir, { recursive: true, force: true }));

  const first = await startSpawnerProcess(t, dataDir);
  const listening = first.lines.find((line) => line["event"] === "listening");
  assert.equal(listening?.["service"], "spawner");
  assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const client = new HttpSpawner({ baseUrl: first.url, token: TOKEN });
  const { vm_id } = await client.create(vmRequest());
  const firstPid = await runningGuestPid(client, dataDir, vm_id, 1);

  first.child.kill("SIGTERM");
  assert.deepEqual(await first.exited, { code: 0, signal: null });
  assert.ok(first.lines.some((line) => line["event"] === "stopped"));
  assert.equal(processAlive(firstPid), false, "stopping the spawner stops its agents");

  const second = await startSpawnerProcess(t, dataDir);
  const again = new HttpSpawner({ baseUrl: second.url, token: TOKEN });
  const secondPid = await runningGuestPid(again, dataDir, vm_id, 2);
  assert.notEqual(secondPid, firstPid);
  second.child.kill("SIGTERM");
  assert.equal((await second.exited).code, 0);
});

test("a_spawner_killed_outright_has_its_stray_guest_stopped_and_the_vm_restarted_once", async (t) => {
  const dataDir = await tempDir("spawner-main");
  const pids: number[] = [];
  t.after(async () => {
    for (const pid of pids) if (processAlive(pid)) process.kill(pid, "SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });

  const first = await startSpawnerProcess(t, dataDir);
  const client = new HttpSpawner({ baseUrl: first.url, token: TOKEN });
  const { vm_id } = await client.create(vmRequest());
  const strayPid = await runningGuestPid(client, dataDir, vm_id, 1);
  pids.push(strayPid);

  first.child.kill("SIGKILL");
  await first.exited;
  assert.ok(processAlive(strayPid), "the guest outlives a spawner killed outright");

  const second = await startSpawnerProcess(t, dataDir);
  assert.ok(second.lines.some((line) => line["event"] === "stray_guest_stopped" && line["pid"] === strayPid));
  assert.equal(processAlive(strayPid), false);
  const again = new HttpSpawner({ baseUrl: second.url, token: TOKEN });
  pids.push(await runningGuestPid(again, dataDir, vm_id, 2));
  second.child.kill("SIGTERM");
  assert.equal((await second.exited).code, 0);
});

test("spawner_process_rejects_bad_arguments_with_usage", async () => {
  const child = spawn(process.execPath, [SPAWNER_MAIN, "--port", "70000"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 2);
  assert.match(stderr, /--port must be 0\.\.65535/);
  assert.match(stderr, /usage:/);
});
