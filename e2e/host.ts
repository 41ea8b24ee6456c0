// Starts the real browser host (built core + renderer) on a fresh temp data dir for one test.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { test as base } from "@playwright/test";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export interface RunningHost {
  url: string;
  origin: string;
  dataDir: string;
  logs: Record<string, unknown>[];
  /** Stops the host process and starts a new one on the same data dir. */
  restart(): Promise<void>;
}

async function launch(dataDir: string, logs: Record<string, unknown>[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(root, "dist", "electron", "web.js"), "--port", "0", "--no-open", "--json", "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("browser host did not report ready within 15 s")), 15_000);
    child.once("exit", (code) => reject(new Error(`browser host exited early with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry["event"] === "ready") {
        clearTimeout(timer);
        resolve(String(entry["url"]));
      }
    });
  });
  return { child, url };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

export const test = base.extend<{ host: RunningHost }>({
  host: async ({}, use) => {
    const dataDir = await mkdtemp(join(tmpdir(), "burrow-e2e-"));
    const logs: Record<string, unknown>[] = [];
    let current = await launch(dataDir, logs);
    const host: RunningHost = {
      get url() {
        return current.url;
      },
      get origin() {
        return new URL(current.url).origin;
      },
      dataDir,
      logs,
      restart: async () => {
        await stop(current.child);
        current = await launch(dataDir, logs);
      },
    };
    await use(host);
    await stop(current.child);
    await rm(dataDir, { recursive: true, force: true });
  },
});

export { expect } from "@playwright/test";
