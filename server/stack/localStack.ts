// Using the one local stack of this user: every `npm start`, the agent demo and the CLI go through
// `useLocalStack`, which registers the caller as a user (a lease) and starts the stack's supervisor
// only when none runs. The stack stops itself once no lease names a live process, so Ctrl+C on the
// instance that launched it leaves it running for the others, and a kill -9 of any instance only
// leaves a lease that the next check deletes.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { isOurService, liveLeases, pidAlive, readRecord, removeLease, runningRecord, sleep, stackPaths, withLock, writeLease, writeRecord, type Lease, type StackRecord } from "./home.js";
import { STACK_ENTRIES } from "./entries.js";
import type { SupervisorMessage } from "./supervisor.js";

const START_TIMEOUT_MS = 60_000;
const STOP_WAIT_MS = 30_000;

/** The Node to run the stack on: this process's, or e.g. Electron's own (ELECTRON_RUN_AS_NODE). */
export interface StackRuntime {
  execPath: string;
  env: NodeJS.ProcessEnv;
}

export interface StackUse {
  record: StackRecord & { relay_url: string; spawner_url: string; agent_api_url: string };
  /** True when this call started the stack. */
  started: boolean;
  /** One line each, for the terminal (e.g. a port taken by another program). */
  notices: string[];
  /** Another process of this instance (its app) that keeps the lease alive after the launcher dies. */
  addPid(pid: number): void;
  /** Ends this instance's lease; when it was the last, waits until the stack has stopped. Says how many instances still use it. */
  release(): Promise<{ others: number }>;
}

async function healthy(record: StackRecord): Promise<boolean> {
  if (!record.agent_api_url) return false;
  try {
    const response = await fetch(`${record.agent_api_url}/health`, { signal: AbortSignal.timeout(3_000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

function launchSupervisor(home: string, runtime: StackRuntime): Promise<{ record: StackRecord; notices: string[] }> {
  const paths = stackPaths(home);
  const logFd = openSync(join(paths.logs, "stack.log"), "a");
  const child = spawn(runtime.execPath, [STACK_ENTRIES.supervisor, "--home", home], {
    detached: true,
    stdio: ["ignore", logFd, logFd, "ipc"],
    env: { ...process.env, ...runtime.env },
    windowsHide: true,
  });
  closeSync(logFd);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`the local stack did not start within ${START_TIMEOUT_MS / 1000} s (log: ${join(paths.logs, "stack.log")})`));
    }, START_TIMEOUT_MS);
    const settle = (): void => {
      clearTimeout(timer);
      child.removeAllListeners();
      if (child.connected) child.disconnect();
      child.unref();
    };
    child.on("message", (message: SupervisorMessage) => {
      settle();
      if (message.event === "ready") resolve({ record: message.record, notices: message.notices });
      else reject(new Error(message.message));
    });
    child.on("error", (error) => {
      settle();
      reject(error);
    });
    child.on("exit", (code) => {
      settle();
      reject(new Error(`the local stack exited with ${code} while starting (log: ${join(paths.logs, "stack.log")})`));
    });
  });
}

/** Registers this process as a user of the stack in `home` and returns the running stack, starting it when none runs. */
export async function useLocalStack(options: { home: string; label: string; runtime?: StackRuntime }): Promise<StackUse> {
  const { home } = options;
  const runtime = options.runtime ?? { execPath: process.execPath, env: {} };
  const lease: Lease = { id: `${process.pid}-${randomUUID().slice(0, 8)}`, pids: [process.pid], label: options.label, since: new Date().toISOString() };
  const { record, started, notices } = await withLock(home, async () => {
    writeLease(home, lease);
    try {
      const running = runningRecord(home);
      if (running && (await healthy(running))) return { record: running, started: false, notices: [] as string[] };
      if (running?.pids) await stopSupervisor(running.pids.stack);
      const launched = await launchSupervisor(home, runtime);
      return { ...launched, started: true };
    } catch (error) {
      removeLease(home, lease.id);
      throw error;
    }
  });
  let released = false;
  return {
    record: record as StackUse["record"],
    started,
    notices,
    addPid: (pid) => {
      lease.pids.push(pid);
      writeLease(home, lease);
    },
    release: async () => {
      if (!released) removeLease(home, lease.id);
      released = true;
      const others = liveLeases(home).filter((other) => other.id !== lease.id);
      const stack = runningRecord(home);
      if (others.length === 0 && stack?.pids) await waitForExit(stack.pids.stack, STOP_WAIT_MS);
      return { others: others.length };
    },
  };
}

async function stopSupervisor(pid: number): Promise<void> {
  if (!pidAlive(pid)) return;
  process.kill(pid, "SIGTERM");
  if (!(await waitForExit(pid, STOP_WAIT_MS))) process.kill(pid, "SIGKILL");
}

export interface StackStatus {
  home: string;
  running: boolean;
  record: StackRecord | null;
  users: Lease[];
}

export function stackStatus(home: string): StackStatus {
  const record = readRecord(home);
  return { home, running: runningRecord(home) !== null, record, users: liveLeases(home) };
}

/** Stops the stack in `home` whoever uses it; services a killed supervisor left behind too. */
export async function stopStack(home: string): Promise<{ stopped: boolean; users: number }> {
  const users = liveLeases(home).length;
  const record = readRecord(home);
  if (!record?.pids) return { stopped: false, users };
  const wasRunning = pidAlive(record.pids.stack);
  await stopSupervisor(record.pids.stack);
  let orphans = false;
  for (const pid of [record.pids.agent_api, record.pids.spawner, record.pids.relay]) {
    if (!isOurService(pid)) continue;
    orphans = true;
    process.kill(pid, "SIGTERM");
    if (!(await waitForExit(pid, STOP_WAIT_MS))) process.kill(pid, "SIGKILL");
  }
  const after = readRecord(home);
  if (after?.pids) writeRecord({ ...after, running: false, pids: null, relay_url: null, spawner_url: null, agent_api_url: null });
  return { stopped: wasRunning || orphans, users };
}
