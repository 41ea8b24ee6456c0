// `burrow-server`: the agent API server, its VM spawner service and the operator's admin commands.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { nip19 } from "nostr-tools";
import { defaultDataDir } from "../../core/index.js";
import { DEFAULT_MAX_FUTURE_SECONDS, parseMaxFutureSeconds, startRelay } from "../relay/relay.js";
import { AgentService, DEFAULT_MAX_AGENTS, type Log } from "./api/agentService.js";
import { startAgentApi } from "./api/httpServer.js";
import { SecretBox } from "./api/secretBox.js";
import { HttpSpawner } from "./spawner/httpSpawner.js";
import { LocalSpawner } from "./spawner/localSpawner.js";
import { runSpawnerCli } from "./spawner/main.js";
import { openAgentStore } from "./store/kyselyStore.js";
import type { AgentStore } from "./store/agentStore.js";
import type { Spawner } from "./types.js";

const USAGE = `Usage: burrow-server <command> [options]

Commands:
  serve      run the agent API server
             [--port 0] [--host 127.0.0.1] [--public-url URL] [--relay ws://…]…
             [--spawner-url URL] [--spawner-token T] [--open-allowlist] [--json]
             [--provisioning-window-ms 60000] [--orphan-grace-ms 120000] [--reaper-interval-ms 60000]
             [--relay-max-future-seconds ${DEFAULT_MAX_FUTURE_SECONDS}]
             without --relay it starts the embedded relay (which refuses events dated further ahead than
             --relay-max-future-seconds); without --spawner-url it runs agents itself
  spawner    run the local VM spawner service  [--port 0] [--token T] [--json]
  allowlist add NPUB [--note TEXT] [--max-agents N] | allowlist remove NPUB | allowlist list
  agents list
  vm delete VM_ID   [--spawner-url URL] (default: the running local stack's spawner)

Every command takes --data-dir DIR (default: ${join(defaultDataDir(), "server")}) and
--database-url postgres://… (default: SQLite in the data dir). Several servers on one PostgreSQL
database must share BURROW_SERVER_SECRET (64 hex), the key that encrypts agent keys at rest.`;

const COMMON = {
  "data-dir": { type: "string" },
  "database-url": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const satisfies ParseArgsConfig["options"];

class UsageError extends Error {}

function parse<O extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function dataDirOf(values: { "data-dir"?: string | boolean | string[] }): string {
  const given = values["data-dir"];
  return resolve(typeof given === "string" ? given : join(defaultDataDir(), "server"));
}

async function openStore(values: { "data-dir"?: unknown; "database-url"?: unknown }): Promise<AgentStore> {
  const dataDir = dataDirOf(values as { "data-dir"?: string });
  const databaseUrl = typeof values["database-url"] === "string" ? values["database-url"] : process.env["BURROW_DATABASE_URL"];
  const store = await openAgentStore(databaseUrl ? { databaseUrl } : { sqlitePath: join(dataDir, "agents.sqlite") });
  await store.migrate();
  return store;
}

function jsonLog(json: boolean): Log {
  return (line) => {
    if (json) console.log(JSON.stringify({ time: new Date().toISOString(), ...line }));
    else if (line.event !== "request") console.error(`[burrow-server] ${line.event} ${JSON.stringify({ ...line, event: undefined })}`);
  };
}

function npubArg(value: string | undefined): string {
  if (!value) throw new UsageError("an npub is required");
  try {
    const decoded = nip19.decode(value);
    if (decoded.type === "npub") return value;
  } catch {
    // fall through to the usage error
  }
  throw new UsageError(`not an npub: ${value}`);
}

/** The spawner of the running local stack (<data-dir>/../stack.json), for `vm delete`. */
async function stackSpawnerUrl(dataDir: string): Promise<string | null> {
  for (const path of [join(dataDir, "stack.json"), join(dataDir, "..", "stack.json")]) {
    try {
      const stack = JSON.parse(await readFile(path, "utf8")) as { spawner_url?: string };
      if (stack.spawner_url) return stack.spawner_url;
    } catch {
      // not there: try the next place
    }
  }
  return null;
}

async function serve(args: string[]): Promise<void> {
  const { values } = parse(args, {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    "public-url": { type: "string" },
    relay: { type: "string", multiple: true },
    "spawner-url": { type: "string" },
    "spawner-token": { type: "string" },
    "open-allowlist": { type: "boolean", default: false },
    "reaper-interval-ms": { type: "string", default: "60000" },
    "provisioning-window-ms": { type: "string", default: "60000" },
    "orphan-grace-ms": { type: "string", default: "120000" },
    "relay-max-future-seconds": { type: "string" },
  });
  const json = values.json === true;
  const log = jsonLog(json);
  const givenRelays = (values.relay as string[] | undefined) ?? [];
  const maxFutureText = values["relay-max-future-seconds"] as string | undefined;
  if (maxFutureText !== undefined && givenRelays.length > 0) throw new UsageError("--relay-max-future-seconds applies to the embedded relay only, not with --relay");
  const maxFutureSeconds = maxFutureText === undefined ? DEFAULT_MAX_FUTURE_SECONDS : parseMaxFutureSeconds(maxFutureText);
  if (maxFutureSeconds === null) throw new UsageError(`--relay-max-future-seconds must be a whole number of seconds, got ${maxFutureText}`);
  const dataDir = dataDirOf(values);
  const store = await openStore(values);
  const secrets = await SecretBox.load(dataDir);

  let relays = givenRelays;
  let closeRelay = async (): Promise<void> => undefined;
  if (relays.length === 0) {
    const relay = await startRelay({ port: 0, dbPath: join(dataDir, "relay.sqlite"), maxFutureSeconds });
    relays = [relay.url];
    closeRelay = () => relay.close();
    log({ event: "listening", service: "relay", url: relay.url });
  }
  const spawnerUrl = values["spawner-url"] as string | undefined;
  const spawner: Spawner = spawnerUrl
    ? new HttpSpawner({ baseUrl: spawnerUrl, ...(values["spawner-token"] ? { token: values["spawner-token"] as string } : {}) })
    : new LocalSpawner({ dataDir: join(dataDir, "spawner"), log });
  const service = new AgentService({
    store,
    spawner,
    secrets,
    relays,
    openAllowlist: values["open-allowlist"] === true,
    provisioningWindowMs: Number(values["provisioning-window-ms"]),
    orphanGraceMs: Number(values["orphan-grace-ms"]),
    log,
  });
  if (values["open-allowlist"]) log({ event: "open_allowlist", warning: "every account that authenticates is allowlisted (development only)" });
  const api = await startAgentApi({
    service,
    store,
    host: values.host as string,
    port: Number(values.port),
    ...(values["public-url"] ? { publicUrl: values["public-url"] as string } : {}),
    log,
  });
  const reaperEvery = Number(values["reaper-interval-ms"]);
  const reaper = setInterval(() => {
    void service.reap();
    void store.pruneAuthEvents(Date.now() - 10 * 60_000);
  }, reaperEvery);
  reaper.unref();
  if (json) log({ event: "listening", service: "agent-api", url: api.url, relays, spawner: spawnerUrl ?? "embedded" });
  else console.log(`Burrow agent API listening on ${api.url} (relays: ${relays.join(", ")}; spawner: ${spawnerUrl ?? "embedded"})`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(reaper);
    await api.close();
    await spawner.close();
    await store.close();
    await closeRelay();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

async function allowlist(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { note: { type: "string" }, "max-agents": { type: "string" } });
  const [action, npub] = positionals;
  const store = await openStore(values);
  try {
    if (action === "list") {
      const rows = await store.listAllowlist();
      if (values.json) console.log(JSON.stringify(rows));
      else for (const r of rows) console.log(`${r.npub}  ${r.active ? "active" : "removed"}  max_agents=${r.max_agents}${r.note ? `  ${r.note}` : ""}`);
      return;
    }
    const actor = `cli:${process.env["USER"] ?? "operator"}`;
    if (action === "add") {
      const maxAgents = values["max-agents"] === undefined ? DEFAULT_MAX_AGENTS : Number(values["max-agents"]);
      if (!Number.isInteger(maxAgents) || maxAgents < 1) throw new UsageError("--max-agents must be a positive integer");
      const existing = await store.getAllowlist(npubArg(npub));
      await store.setAllowlist({ npub: npubArg(npub), active: true, note: (values.note as string | undefined) ?? null, max_agents: maxAgents }, actor, existing ? "update" : "add");
      console.log(`allowlisted ${npub} (max_agents=${maxAgents})`);
      return;
    }
    if (action === "remove") {
      const existing = await store.getAllowlist(npubArg(npub));
      if (!existing) throw new UsageError(`${npub} is not on the allowlist`);
      await store.setAllowlist({ ...existing, active: false }, actor, "remove");
      console.log(`removed ${npub}`);
      return;
    }
    throw new UsageError("allowlist takes add, remove or list");
  } finally {
    await store.close();
  }
}

async function agents(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {});
  if (positionals[0] !== "list") throw new UsageError("agents takes list");
  const store = await openStore(values);
  try {
    const rows = (await store.listAgents()).map(({ secret_enc: _secret, ...row }) => row);
    if (values.json) console.log(JSON.stringify(rows));
    else for (const r of rows) console.log(`${r.agent_id}  owner=${r.owner_npub}  vm=${r.vm_id ?? "-"}  ${r.phase}/${r.startup_phase}${r.error ? `  ${r.error}` : ""}`);
  } finally {
    await store.close();
  }
}

async function vm(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { "spawner-url": { type: "string" }, "spawner-token": { type: "string" } });
  const [action, vmId] = positionals;
  if (action !== "delete" || !vmId) throw new UsageError("vm takes: delete VM_ID");
  const url = (values["spawner-url"] as string | undefined) ?? (await stackSpawnerUrl(dataDirOf(values)));
  if (!url) throw new UsageError("no spawner: pass --spawner-url, or start the local stack (npm start)");
  const spawner = new HttpSpawner({ baseUrl: url, ...(values["spawner-token"] ? { token: values["spawner-token"] as string } : {}) });
  try {
    const deleted = await spawner.delete(vmId);
    if (values.json) console.log(JSON.stringify({ vm_id: vmId, deleted }));
    else console.log(deleted ? `deleted ${vmId}` : `no VM ${vmId}`);
    if (!deleted) process.exitCode = 1;
  } finally {
    await spawner.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "serve":
        return await serve(rest);
      case "spawner":
        return await runSpawnerCli(rest);
      case "allowlist":
        return await allowlist(rest);
      case "agents":
        return await agents(rest);
      case "vm":
        return await vm(rest);
      case undefined:
      case "help":
      case "--help":
        console.log(USAGE);
        return;
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`burrow-server: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
