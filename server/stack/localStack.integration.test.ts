// Integration: real instances (child processes using the stack as `npm start` does) against the real
// local stack (supervisor, relay, spawner, agent API) in a temporary stack home, never on the default ports.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { tempDir } from "../../core/testing.js";
import { pidAlive, readRecord, stackPaths, type StackRecord } from "./home.js";
import { stackStatus, stopStack, type StackUse } from "./localStack.js";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "instance.fixture.js");

interface Instance {
  child: ChildProcess;
  started: boolean;
  notices: string[];
  record: StackUse["record"];
  stderr: string;
}

function instance(home: string, env: NodeJS.ProcessEnv = {}): Promise<Instance> {
  const child = spawn(process.execPath, [FIXTURE, "--home", home], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, BURROW_RELAY_PORT: "0", ...env } });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += String(chunk)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the instance did not report within 60 s: ${stderr}`)), 60_000);
    child.once("exit", (code) => reject(new Error(`the instance exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as { event: string; message?: string } & Omit<Instance, "child" | "stderr">;
      clearTimeout(timer);
      if (entry.event === "using") resolve({ child, started: entry.started, notices: entry.notices, record: entry.record, get stderr() { return stderr; } });
      else reject(new Error(entry.message));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

async function interrupt(child: ChildProcess): Promise<void> {
  const done = exited(child);
  child.kill("SIGINT");
  await done;
}

function relayAnswers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.once("open", () => {
      socket.close();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function stackPids(record: StackRecord): number[] {
  const pids = record.pids!;
  return [pids.stack, pids.relay, pids.spawner, pids.agent_api];
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

describe("integration: one local stack per user", () => {
  const homes: Array<Awaited<ReturnType<typeof tempDir>>> = [];
  const children: ChildProcess[] = [];
  async function home(): Promise<string> {
    const dir = await tempDir("burrow-stack-test-");
    homes.push(dir);
    return dir.path;
  }
  async function use(stackHome: string, env?: NodeJS.ProcessEnv): Promise<Instance> {
    const started = await instance(stackHome, env);
    children.push(started.child);
    return started;
  }
  after(async () => {
    for (const child of children) child.kill("SIGKILL");
    for (const dir of homes) await stopStack(dir.path);
    for (const dir of homes) await dir.remove();
  });

  test("integration: two_simultaneous_first_starts_launch_one_stack", async () => {
    const stackHome = await home();
    const [a, b] = await Promise.all([use(stackHome), use(stackHome)]);
    assert.equal([a.started, b.started].filter(Boolean).length, 1, "exactly one of them started the stack");
    assert.equal(a.record.pids?.stack, b.record.pids?.stack);
    assert.equal(a.record.relay_url, b.record.relay_url);
    assert.equal(stackStatus(stackHome).users.length, 2);
    await Promise.all([interrupt(a.child), interrupt(b.child)]);
  });

  test("integration: the_stack_outlives_the_instance_that_launched_it_and_stops_after_the_last", async () => {
    const stackHome = await home();
    const launcher = await use(stackHome);
    const other = await use(stackHome);
    assert.ok(launcher.started && !other.started);
    await interrupt(launcher.child);
    assert.ok(stackPids(launcher.record).every(pidAlive), "every stack process still runs for the other instance");
    assert.ok(await relayAnswers(launcher.record.relay_url), "the relay still answers");
    const health = await fetch(`${launcher.record.agent_api_url}/health`);
    assert.equal(health.status, 200);

    // The last instance exits cleanly: by the time it has gone, so has the stack.
    await interrupt(other.child);
    assert.deepEqual(stackPids(launcher.record).filter(pidAlive), [], "no stack process remains");
    assert.equal(readRecord(stackHome)?.running, false);
    assert.equal(await relayAnswers(launcher.record.relay_url), false);
  });

  test("integration: no_stack_process_remains_after_the_last_instance_is_killed", async () => {
    const stackHome = await home();
    const only = await use(stackHome);
    only.child.kill("SIGKILL");
    await exited(only.child);
    assert.ok(await until(() => stackPids(only.record).every((pid) => !pidAlive(pid)), 10_000), `stack processes left: ${stackPids(only.record).filter(pidAlive).join(", ")}`);
    // The next start gets the same URLs.
    const next = await use(stackHome);
    assert.ok(next.started);
    assert.equal(next.record.relay_url, only.record.relay_url);
    assert.equal(next.record.agent_api_url, only.record.agent_api_url);
    await interrupt(next.child);
  });

  test("integration: services_left_by_a_killed_supervisor_are_replaced_on_the_next_start", async () => {
    const stackHome = await home();
    const first = await use(stackHome);
    process.kill(first.record.pids!.stack, "SIGKILL");
    assert.ok(await until(() => !pidAlive(first.record.pids!.stack), 5_000));
    const next = await use(stackHome);
    assert.ok(next.started, "a new stack replaces the one whose supervisor died");
    assert.equal(next.record.relay_url, first.record.relay_url, "on the same URLs");
    const { relay, spawner, agent_api } = first.record.pids!;
    assert.deepEqual([relay, spawner, agent_api].filter(pidAlive), [], "the old services are gone");
    assert.ok(await relayAnswers(next.record.relay_url));
    await Promise.all([interrupt(first.child), interrupt(next.child)]);
    assert.deepEqual(stackPids(next.record).filter(pidAlive), []);
  });

  test("integration: a_stale_lock_of_a_dead_process_does_not_block_a_start", async () => {
    const stackHome = await home();
    const dead = spawn(process.execPath, ["-e", ""]);
    await exited(dead);
    stackStatus(stackHome);
    writeFileSync(stackPaths(stackHome).lock, String(dead.pid));
    const started = await use(stackHome);
    assert.ok(started.started);
    await interrupt(started.child);
  });

  test("integration: a_foreign_process_on_the_relay_port_gets_one_clear_line_and_a_recorded_port", async () => {
    const stackHome = await home();
    const foreign: Server = createServer();
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
    const busy = (foreign.address() as { port: number }).port;
    try {
      const first = await use(stackHome, { BURROW_RELAY_PORT: String(busy) });
      assert.equal(first.notices.length, 1, JSON.stringify(first.notices));
      assert.match(first.notices[0]!, new RegExp(`^Port ${busy} is in use by another program; the local relay takes another port, recorded in .*stack\\.json`));
      assert.notEqual(first.record.ports.relay, busy);
      assert.doesNotMatch(first.stderr, /EADDRINUSE|\n\s+at /, "no stack trace");
      await interrupt(first.child);

      const second = await use(stackHome, { BURROW_RELAY_PORT: String(busy) });
      assert.deepEqual(second.notices, [], "the recorded port is used from now on, without a notice");
      assert.equal(second.record.relay_url, first.record.relay_url, "the relay URL is stable");
      assert.ok(await relayAnswers(second.record.relay_url));
      await interrupt(second.child);
    } finally {
      foreign.close();
    }
  });
});
