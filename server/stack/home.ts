// The stack home: one directory per user (BURROW_STACK_HOME, else `<app data>/stack`) holding the
// local stack's data, its lock, the leases of the instances that use it, and stack.json.
//
// Invariants: at most one process holds `lock` (created with "wx", owner pid inside; a lock whose
// owner is dead is broken). A stack runs while at least one lease names a live process; stack.json
// keeps the ports the stack got, so its URLs stay the same across restarts.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface StackPorts {
  relay: number | null;
  spawner: number | null;
  agent_api: number | null;
}

/** `<home>/stack.json`. URLs and pids are those of the running stack; `ports` outlive it. */
export interface StackRecord {
  version: 1;
  home: string;
  /** Kept for readers of the old per-data-dir stack.json. */
  data_dir: string;
  running: boolean;
  ports: StackPorts;
  relay_url: string | null;
  spawner_url: string | null;
  agent_api_url: string | null;
  pids: { stack: number; relay: number; spawner: number; agent_api: number } | null;
  started_at: string | null;
}

export interface Lease {
  /** Names the lease file: the launcher's pid and a random suffix. */
  id: string;
  /** The instance is alive while any of these is (the launcher, then its app process too). */
  pids: number[];
  label: string;
  since: string;
}

const LOCK_WAIT_MS = 60_000;
/** A lock file still empty this long after its creation belongs to a process that died while writing it. */
const EMPTY_LOCK_STALE_MS = 5_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function stackPaths(home: string) {
  return {
    home,
    lock: join(home, "lock"),
    breaking: join(home, "lock.breaking"),
    record: join(home, "stack.json"),
    leases: join(home, "users"),
    logs: join(home, "logs"),
    relay: join(home, "relay"),
    server: join(home, "server"),
  };
}

export function ensureHome(home: string): void {
  const paths = stackPaths(home);
  for (const dir of [paths.home, paths.leases, paths.logs, paths.relay, paths.server]) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, path);
}

export function readRecord(home: string): StackRecord | null {
  try {
    const record = JSON.parse(readFileSync(stackPaths(home).record, "utf8")) as StackRecord;
    return record.version === 1 ? record : null;
  } catch {
    return null;
  }
}

export function writeRecord(record: StackRecord): void {
  writeAtomically(stackPaths(record.home).record, JSON.stringify(record, null, 2) + "\n");
}

/** The record of a stack whose supervisor is alive, else null. */
export function runningRecord(home: string): StackRecord | null {
  const record = readRecord(home);
  return record?.running && record.pids && pidAlive(record.pids.stack) ? record : null;
}

function lockOwner(path: string): { pid: number | null; ageMs: number } | null {
  try {
    const text = readFileSync(path, "utf8").trim();
    const ageMs = Date.now() - statSync(path).mtimeMs;
    return { pid: text ? Number(text) : null, ageMs };
  } catch {
    return null;
  }
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  writeSync(fd, String(process.pid));
  closeSync(fd);
  return true;
}

function isStale(owner: { pid: number | null; ageMs: number }): boolean {
  return owner.pid === null ? owner.ageMs > EMPTY_LOCK_STALE_MS : !pidAlive(owner.pid);
}

/**
 * Breaks a lock whose owner is dead. Only the holder of `lock.breaking` may, so two processes that
 * both saw the same stale lock cannot delete a fresh one made in between.
 */
function breakStaleLock(paths: ReturnType<typeof stackPaths>): void {
  if (!tryCreate(paths.breaking)) {
    const breaker = lockOwner(paths.breaking);
    if (breaker && isStale(breaker)) unlinkQuietly(paths.breaking);
    return;
  }
  try {
    const owner = lockOwner(paths.lock);
    if (owner && isStale(owner)) unlinkQuietly(paths.lock);
  } finally {
    unlinkQuietly(paths.breaking);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Runs `work` holding the stack home's lock. */
export async function withLock<T>(home: string, work: () => Promise<T>, waitMs = LOCK_WAIT_MS): Promise<T> {
  const paths = stackPaths(home);
  ensureHome(home);
  const deadline = Date.now() + waitMs;
  while (!tryCreate(paths.lock)) {
    const owner = lockOwner(paths.lock);
    if (owner && isStale(owner)) {
      breakStaleLock(paths);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`the local stack's lock ${paths.lock} is held by process ${owner?.pid ?? "?"}`);
    await sleep(50 + Math.random() * 50);
  }
  try {
    return await work();
  } finally {
    unlinkQuietly(paths.lock);
  }
}

function leasePath(home: string, id: string): string {
  return join(stackPaths(home).leases, `${id}.json`);
}

/** Registers an instance as a user of the stack (or updates its lease). */
export function writeLease(home: string, lease: Lease): void {
  ensureHome(home);
  writeAtomically(leasePath(home, lease.id), JSON.stringify(lease) + "\n");
}

export function removeLease(home: string, id: string): void {
  unlinkQuietly(leasePath(home, id));
}

/** The leases of live instances; leases of dead ones (a kill -9) are deleted on the way. */
export function liveLeases(home: string): Lease[] {
  const dir = stackPaths(home).leases;
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
  const live: Lease[] = [];
  for (const name of names) {
    let lease: Lease | null;
    try {
      lease = JSON.parse(readFileSync(join(dir, name), "utf8")) as Lease;
    } catch {
      lease = null;
    }
    if (lease && lease.pids.some(pidAlive)) live.push(lease);
    else unlinkQuietly(join(dir, name));
  }
  return live;
}

/** A service of ours that outlived a supervisor killed with -9 (checked by its command line where the OS shows it). */
export function isOurService(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(join("dist", "server"));
  } catch {
    return process.platform !== "linux";
  }
}
