// Finding and stopping a guest that outlived the spawner which started it (the spawner was killed):
// it is no longer our child, so it is known only by pid, and a pid can be reused by any process.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";

const POLL_MS = 50;
const KILL_WAIT_MS = 5000;

/** The command line of a live process, or null when there is none, it is a zombie, or this platform cannot tell. */
export async function commandLineOf(pid: number): Promise<string | null> {
  if (existsSync("/proc/self")) {
    // A zombie's cmdline is empty: it is gone for our purposes.
    const raw = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    return raw.length > 0 ? raw.split("\0").join(" ") : null;
  }
  if (process.platform === "win32") return null;
  return new Promise((resolve) => {
    execFile("ps", ["-o", "stat=,args=", "-p", String(pid)], (error, stdout) => {
      const line = error ? "" : stdout.trim();
      resolve(line === "" || line.startsWith("Z") ? null : line.replace(/^\S+\s+/, ""));
    });
  });
}

async function isRunning(pid: number, marker: string): Promise<boolean> {
  return (await commandLineOf(pid))?.includes(marker) ?? false;
}

async function waitGone(pid: number, marker: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await isRunning(pid, marker))) return true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return !(await isRunning(pid, marker));
}

/**
 * Stops process `pid` if its command line contains `marker` (a path only that guest has on its
 * command line): SIGTERM, then SIGKILL after `graceMs`. Resolves true when it was running.
 */
export async function stopStrayProcess(pid: number, marker: string, graceMs: number): Promise<boolean> {
  if (!(await isRunning(pid, marker))) return false;
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch {
      // Gone in between.
    }
  };
  signal("SIGTERM");
  if (await waitGone(pid, marker, graceMs)) return true;
  signal("SIGKILL");
  if (!(await waitGone(pid, marker, KILL_WAIT_MS))) throw new Error(`process ${pid} survived SIGKILL`);
  return true;
}
