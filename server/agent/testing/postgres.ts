// Test helper: a throwaway PostgreSQL cluster on 127.0.0.1 (ENV.md's recipe), or the reason there is none.
import { execFile, execFileSync, spawn } from "node:child_process";
import { accessSync, constants, readdirSync, rmSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export interface ThrowawayPostgres {
  /** An empty database, owned by the superuser `postgres`, no password. */
  url: string;
  /** Creates another empty database in the same cluster and returns its URL. */
  newDatabase(): Promise<string>;
  /** Stops the server at once and deletes its files. */
  stop(): Promise<void>;
}

const START_ATTEMPTS = 3;
const CONNECT_TIMEOUT_MS = 15_000;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<version>/bin, newest first. */
function findBinDir(): string | null {
  const candidates = (process.env["PATH"] ?? "").split(delimiter).filter(Boolean);
  try {
    const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a) || b.localeCompare(a));
    candidates.push(...versions.map((version) => join("/usr/lib/postgresql", version, "bin")));
  } catch {
    // no Debian-style installation
  }
  return candidates.find((dir) => isExecutable(join(dir, "initdb")) && isExecutable(join(dir, "pg_ctl"))) ?? null;
}

async function idOf(user: string, flag: "-u" | "-g"): Promise<number | null> {
  try {
    const { stdout } = await run("id", [flag, user]);
    return Number(stdout.trim());
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("could not pick a free port");
  return address.port;
}

async function waitForConnection(url: string): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query("select 1");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

function message(error: unknown): string {
  if (error && typeof error === "object" && "stderr" in error && typeof error.stderr === "string" && error.stderr.trim()) return error.stderr.trim();
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts a private PostgreSQL server (trust auth, fsync off, TCP on 127.0.0.1 at a free port, its
 * socket in its own temp dir). `{ skipped }` when PostgreSQL is not installed or cannot run here;
 * other failures throw. The server is stopped and deleted by `stop()`, at process exit, or — if
 * this process is killed outright — by a watchdog that polls for this process.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres | { skipped: string }> {
  const binDir = findBinDir();
  if (!binDir) return { skipped: "PostgreSQL is not installed (no initdb and pg_ctl on PATH or in /usr/lib/postgresql/*/bin)" };
  const initdb = join(binDir, "initdb");
  const pgCtl = join(binDir, "pg_ctl");

  // PostgreSQL refuses to run as root: as root, run it as the `postgres` user.
  const asRoot = process.getuid?.() === 0;
  let prefix: string[] = [];
  let owner: { uid: number; gid: number } | null = null;
  if (asRoot) {
    const uid = await idOf("postgres", "-u");
    const gid = await idOf("postgres", "-g");
    if (uid === null || gid === null) return { skipped: "running as root and there is no `postgres` user to run PostgreSQL as" };
    if (!isExecutable("/usr/sbin/runuser") && !isExecutable("/sbin/runuser") && !isExecutable("/usr/bin/runuser")) {
      return { skipped: "running as root and runuser is not available to run PostgreSQL as `postgres`" };
    }
    prefix = ["runuser", "-u", "postgres", "--"];
    owner = { uid, gid };
  }
  const command = (program: string, args: string[]): [string, string[]] => {
    const [first, ...rest] = [...prefix, program, ...args] as [string, ...string[]];
    return [first, rest];
  };

  const dir = await mkdtemp(join(tmpdir(), "burrow-pg-"));
  if (owner) await chown(dir, owner.uid, owner.gid);
  const dataDir = join(dir, "data");
  const logPath = join(dir, "server.log");
  const stopCommand = command(pgCtl, ["stop", "-D", dataDir, "-m", "immediate", "-w"]);

  let watchdogPid: number | undefined;
  const endWatchdog = (): void => {
    process.removeListener("exit", stopNow);
    if (watchdogPid === undefined) return;
    try {
      process.kill(-watchdogPid, "SIGTERM");
    } catch {
      // the watchdog already ended
    }
    watchdogPid = undefined;
  };
  // The 'exit' handler can only run synchronous code.
  function stopNow(): void {
    endWatchdog();
    try {
      execFileSync(...stopCommand, { stdio: "ignore" });
    } catch {
      // not running (never started, or already stopped)
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const stop = async (): Promise<void> => {
    endWatchdog();
    await run(...stopCommand).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  process.on("exit", stopNow);

  try {
    await run(...command(initdb, ["-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]));

    // If this process is killed without running its 'exit' handlers, the watchdog stops the server.
    const watchdog = spawn(
      "sh",
      ["-c", 'parent=$1; dir=$2; shift 2; while kill -0 "$parent" 2>/dev/null; do sleep 1; done; "$@" >/dev/null 2>&1; rm -rf "$dir"', "burrow-pg-watchdog", String(process.pid), dir, stopCommand[0], ...stopCommand[1]],
      { detached: true, stdio: "ignore" },
    );
    watchdog.unref();
    watchdogPid = watchdog.pid;

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const settings = `-c listen_addresses=127.0.0.1 -p ${port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c unix_socket_directories='${dir}'`;
      try {
        await run(...command(pgCtl, ["start", "-D", dataDir, "-w", "-t", "30", "-l", logPath, "-o", settings]));
        break;
      } catch (error) {
        // Another process may have taken the port between our probe and the server's bind.
        if (attempt >= START_ATTEMPTS) throw error;
      }
    }
    const base = `postgres://postgres@127.0.0.1:${port}`;
    await waitForConnection(`${base}/postgres`);

    let databases = 0;
    const newDatabase = async (): Promise<string> => {
      const name = `burrow_test_${++databases}`;
      const admin = new pg.Client({ connectionString: `${base}/postgres` });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      return `${base}/${name}`;
    };

    return {
      url: await newDatabase(),
      newDatabase,
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`could not start a throwaway PostgreSQL with ${binDir}: ${message(error)}`, { cause: error });
  }
}
