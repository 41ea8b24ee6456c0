// Small file helpers of the spawner: atomic writes, a size-bounded log, the data dir's single-owner lock.
import { randomBytes } from "node:crypto";
import { createWriteStream, renameSync } from "node:fs";
import type { WriteStream } from "node:fs";
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/** Writes `text` to a temporary file beside `path`, flushes it and renames it over `path`: readers see the old or the new file, never half of one. */
export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const handle = await open(temp, "wx", mode);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}

// Lock files held by this process, so two spawners in one process cannot share a data dir either.
const heldHere = new Set<string>();

/**
 * Makes this process the only spawner on `dir` (`<dir>/spawner.lock` holds its pid): two spawners on
 * one data dir would each start every agent. A lock whose process is gone is taken over.
 * Resolves to the release function; rejects with the pid of the holder.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, "spawner.lock");
  if (heldHere.has(path)) throw new Error(`data dir ${dir} is already used by another spawner in this process`);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, "wx", 0o600);
      try {
        await handle.writeFile(`${process.pid}\n`, "utf8");
      } finally {
        await handle.close();
      }
      heldHere.add(path);
      return async () => {
        heldHere.delete(path);
        await rm(path, { force: true });
      };
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
    }
    const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processExists(holder)) {
      throw new Error(`data dir ${dir} is in use by the spawner with pid ${holder}`);
    }
    await rm(path, { force: true });
  }
  throw new Error(`could not lock data dir ${dir}`);
}

/** An append-only log of bounded size: past `maxBytes` it becomes `<path>.1` (replacing the older one) and a new one starts. */
export class RotatingLog {
  private stream: WriteStream;

  private constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private size: number,
  ) {
    this.stream = RotatingLog.openStream(path);
  }

  // A log that cannot be written (its directory was just deleted) must never take the spawner down.
  private static openStream(path: string): WriteStream {
    return createWriteStream(path, { flags: "a", mode: 0o600 }).on("error", () => {});
  }

  static async open(path: string, maxBytes: number): Promise<RotatingLog> {
    const size = await stat(path).then(
      (info) => info.size,
      () => 0,
    );
    return new RotatingLog(path, maxBytes, size);
  }

  write(chunk: string | Buffer): void {
    const length = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    if (this.size > 0 && this.size + length > this.maxBytes) {
      this.stream.end();
      try {
        renameSync(this.path, `${this.path}.1`);
        this.size = 0;
      } catch {
        // Keep appending to the same file rather than lose lines.
      }
      this.stream = RotatingLog.openStream(this.path);
    }
    this.stream.write(chunk);
    this.size += length;
  }

  /** Resolves once the file is closed. */
  end(): Promise<void> {
    const stream = this.stream;
    return new Promise((resolve) => {
      if (stream.closed) return resolve();
      stream.once("close", resolve).once("error", () => resolve());
      stream.end();
    });
  }
}
