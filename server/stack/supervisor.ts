// The local stack's supervisor: started detached by the first instance that needs the stack (see
// localStack.ts), it runs the relay, the spawner service and the agent API server as its children,
// writes <home>/stack.json, and stops them all once no lease names a live instance (or on SIGTERM).
// Its output goes to <home>/logs/stack.log; each service's to <home>/logs/<service>.log.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { STACK_ENTRIES } from "./entries.js";
import { ensureHome, isOurService, liveLeases, pidAlive, readRecord, sleep, stackPaths, withLock, writeRecord, type StackPorts, type StackRecord } from "./home.js";

const READY_TIMEOUT_MS = 20_000;
const LEASE_CHECK_MS = 500;

export type SupervisorMessage = { event: "ready"; record: StackRecord; notices: string[] } | { event: "failed"; message: string };

interface Service {
  name: string;
  child: ChildProcess;
  url: string;
}

function log(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** The port to ask for: the recorded (or preferred) one when free, else any (0), with a notice saying so. */
async function choosePort(what: string, wanted: number, notices: string[], recordPath: string): Promise<number> {
  if (wanted === 0 || (await portFree(wanted))) return wanted;
  notices.push(`Port ${wanted} is in use by another program; the ${what} takes another port, recorded in ${recordPath} so its URL stays the same from now on.`);
  return 0;
}

/** Starts a service and waits for its ready line: `{"event":"ready"}` or `{"event":"listening","service":…}`. */
function startService(name: string, args: string[], logs: string, listeningService?: string): Promise<Service> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  const logFile: WriteStream = createWriteStream(join(logs, `${name.replace(/\s+/g, "-")}.log`), { flags: "a" });
  let lastError = "";
  createInterface({ input: child.stderr! }).on("line", (line) => {
    logFile.write(`${line}\n`);
    if (line.trim() && !/^\s+at /.test(line)) lastError ||= line.trim();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${name} did not start within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${name} exited with ${code}${lastError ? `: ${lastError}` : ""} (log: ${join(logs, `${name.replace(/\s+/g, "-")}.log`)})`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      logFile.write(`${line}\n`);
      let entry: { event?: string; service?: string; url?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      const listening = entry.event === "listening" && (listeningService === undefined || entry.service === listeningService);
      if ((entry.event === "ready" || listening) && entry.url) {
        clearTimeout(timer);
        resolve({ name, child, url: entry.url });
      }
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(killer);
}

async function reapOrphans(record: StackRecord | null): Promise<void> {
  if (!record?.pids) return;
  const { agent_api, spawner, relay } = record.pids;
  for (const pid of [agent_api, spawner, relay]) {
    if (!isOurService(pid)) continue;
    log({ event: "orphan_stopped", pid });
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 100 && pidAlive(pid); i += 1) await sleep(100);
    if (pidAlive(pid)) process.kill(pid, "SIGKILL");
  }
}

function urlPort(url: string): number {
  return Number(new URL(url).port);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { home: { type: "string" } } });
  const home = values.home;
  if (!home) throw new Error("--home is required");
  ensureHome(home);
  const paths = stackPaths(home);
  const previous = readRecord(home);
  await reapOrphans(previous);
  const notices: string[] = [];
  const ports: StackPorts = previous?.ports ?? { relay: null, spawner: null, agent_api: null };
  const preferredRelay = Number(process.env["BURROW_RELAY_PORT"] ?? 7447);
  const services: Service[] = [];
  let stopping: Promise<void> | null = null;

  const stopServices = async (): Promise<void> => {
    for (const service of [...services].reverse()) await stopChild(service.child);
  };
  const finish = (why: string, force: boolean): Promise<void> => {
    stopping ??= (async () => {
      const stopped = await withLock(home, async () => {
        if (!force && liveLeases(home).length > 0) return false;
        log({ event: "stopping", why });
        await stopServices();
        const record = readRecord(home);
        if (record && record.pids?.stack === process.pid) writeRecord({ ...record, running: false, pids: null, relay_url: null, spawner_url: null, agent_api_url: null });
        return true;
      });
      if (stopped) {
        log({ event: "stopped", why });
        process.exit(0);
      }
      stopping = null;
    })().catch((error: unknown) => {
      // The lock stayed busy: the next lease check (or signal) tries again.
      log({ event: "stop_deferred", why, message: error instanceof Error ? error.message : String(error) });
      stopping = null;
    });
    return stopping;
  };

  try {
    const relayPort = await choosePort("local relay", ports.relay ?? preferredRelay, notices, paths.record);
    const relay = await startService("relay", [STACK_ENTRIES.relay, "--port", String(relayPort), "--data-dir", paths.relay, "--json"], paths.logs);
    services.push(relay);
    const spawnerPort = await choosePort("spawner", ports.spawner ?? 0, notices, paths.record);
    const spawner = await startService(
      "spawner",
      [STACK_ENTRIES.spawner, "--port", String(spawnerPort), "--data-dir", join(paths.server, "spawner"), "--json"],
      paths.logs,
    );
    services.push(spawner);
    const apiPort = await choosePort("agent API", ports.agent_api ?? 0, notices, paths.record);
    // Development stack: every account that signs in may have an agent (audited as open-allowlist).
    const api = await startService(
      "agent server",
      [STACK_ENTRIES.agentServer, "serve", "--port", String(apiPort), "--data-dir", paths.server, "--relay", relay.url, "--spawner-url", spawner.url, "--open-allowlist", "--json"],
      paths.logs,
      "agent-api",
    );
    services.push(api);
    const record: StackRecord = {
      version: 1,
      home,
      data_dir: home,
      running: true,
      ports: { relay: urlPort(relay.url), spawner: urlPort(spawner.url), agent_api: urlPort(api.url) },
      relay_url: relay.url,
      spawner_url: spawner.url,
      agent_api_url: api.url,
      pids: { stack: process.pid, relay: relay.child.pid!, spawner: spawner.child.pid!, agent_api: api.child.pid! },
      started_at: new Date().toISOString(),
    };
    writeRecord(record);
    for (const notice of notices) log({ event: "notice", message: notice });
    log({ event: "ready", relay_url: relay.url, spawner_url: spawner.url, agent_api_url: api.url });
    process.send?.({ event: "ready", record, notices } satisfies SupervisorMessage);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log({ event: "failed", message });
    await stopServices();
    process.send?.({ event: "failed", message } satisfies SupervisorMessage);
    process.exitCode = 1;
    process.disconnect?.();
    return;
  }
  process.disconnect?.();

  for (const service of services) {
    service.child.once("exit", (code, signal) => {
      if (stopping) return;
      log({ event: "service_exited", service: service.name, code, signal });
      void finish(`the ${service.name} exited`, true);
    });
  }
  process.on("SIGTERM", () => void finish("SIGTERM", true));
  process.on("SIGINT", () => void finish("SIGINT", true));
  setInterval(() => {
    if (!stopping && liveLeases(home).length === 0) void finish("no instance uses the stack", false);
  }, LEASE_CHECK_MS);
}

main().catch((error: unknown) => {
  log({ event: "failed", message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
