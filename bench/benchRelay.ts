// Helpers of the messaging benchmark: the relay in a child process, and a raw publisher that pushes
// pre-signed events to it with many in flight (for building backlogs quickly).
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import type { NostrEvent } from "../core/marmot/index.js";

export interface ChildRelay {
  url: string;
  /** CPU seconds the relay process has used so far: its main thread and all its other threads; null where /proc is absent. */
  cpu(): { main: number; others: number } | null;
  close(): Promise<void>;
}

/** Starts server/relay/relay.ts (SQLite file at `dbPath`), or with `stub` bench/stubRelay.ts, in a child process. */
export async function startChildRelay(dbPath: string, stub = false): Promise<ChildRelay> {
  const child: ChildProcess = fork(join(dirname(fileURLToPath(import.meta.url)), "relayProcess.js"), stub ? [dbPath, "stub"] : [dbPath], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (message) => resolve((message as { url: string }).url));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`relay process exited with ${String(code)}`)));
  });
  return {
    url,
    cpu: () => (child.pid === undefined ? null : processCpu(child.pid)),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.send("close");
      }),
  };
}

/** Publishes every event over one connection, `window` in flight; resolves with the number accepted. */
export async function publishAll(url: string, events: NostrEvent[], window = 256): Promise<number> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let next = 0;
  let answered = 0;
  let accepted = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const sendMore = (): void => {
        while (next < events.length && next - answered < window) ws.send(JSON.stringify(["EVENT", events[next++]]));
      };
      ws.on("message", (data) => {
        const message = JSON.parse(String(data)) as unknown[];
        if (message[0] !== "OK") return;
        answered += 1;
        if (message[2] === true) accepted += 1;
        if (answered === events.length) resolve();
        else sendMore();
      });
      ws.once("close", () => reject(new Error("relay closed the connection")));
      if (events.length === 0) resolve();
      else sendMore();
    });
  } finally {
    ws.removeAllListeners("close");
    ws.close();
  }
  return accepted;
}

/** utime + stime of each thread of `pid`, from /proc (Linux). */
function processCpu(pid: number): { main: number; others: number } | null {
  try {
    const ticksPerSecond = 100;
    let main = 0;
    let others = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const seconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      if (tid === String(pid)) main += seconds;
      else others += seconds;
    }
    return { main, others };
  } catch {
    return null;
  }
}
