#!/usr/bin/env node
// `burrow-server spawner`, or `node dist/server/agent/spawner/main.js`: the local VM host as its own
// process (service.ts), agents as its children. SIGTERM / SIGINT stop every agent; their records stay,
// so the next start on this data dir restarts them.
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { defaultDataDir } from "../../../core/index.js";
import { startSpawnerService } from "./service.js";
import type { SpawnerLogLine } from "./localSpawner.js";
import { closeOnSignals } from "../../signals.js";

const USAGE =
  "usage: spawner [--port 0] [--host 127.0.0.1] [--data-dir DIR] [--token T] [--agent-entry FILE] [--boot-timeout-ms N] [--json]\n" +
  "  the token may also come from BURROW_SPAWNER_TOKEN (preferred: argv is visible to other users)\n" +
  `  default data dir: ${defaultSpawnerDir()} (where \`burrow-server serve\` keeps an embedded spawner's VMs)`;

function defaultSpawnerDir(): string {
  return join(defaultDataDir(), "server", "spawner");
}

interface Cli {
  port: number;
  host: string;
  dataDir: string;
  token: string | undefined;
  agentEntry: string | undefined;
  bootTimeoutMs: number | undefined;
  json: boolean;
}

/** The parsed command line, or why it is wrong. */
function parseCli(args: string[]): Cli | string {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: "string", default: "0" },
        host: { type: "string", default: "127.0.0.1" },
        "data-dir": { type: "string" },
        token: { type: "string" },
        "agent-entry": { type: "string" },
        "boot-timeout-ms": { type: "string" },
        json: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return `--port must be 0..65535, got ${values.port}`;
  let bootTimeoutMs: number | undefined;
  if (values["boot-timeout-ms"] !== undefined) {
    bootTimeoutMs = Number(values["boot-timeout-ms"]);
    if (!Number.isInteger(bootTimeoutMs) || bootTimeoutMs <= 0) return `--boot-timeout-ms must be a positive integer, got ${values["boot-timeout-ms"]}`;
  }
  const token = values.token ?? (process.env["BURROW_SPAWNER_TOKEN"] || undefined);
  return {
    port,
    host: values.host,
    dataDir: values["data-dir"] ?? defaultSpawnerDir(),
    token,
    agentEntry: values["agent-entry"],
    bootTimeoutMs,
    json: values.json,
  };
}

/** Starts the service and returns; it runs until SIGTERM / SIGINT. Usage errors set exit code 2. */
export async function runSpawnerCli(args: string[]): Promise<void> {
  const cli = parseCli(args);
  if (typeof cli === "string") {
    process.stderr.write(`${cli}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const { json } = cli;
  // With --json every line on stdout is one JSON object, for the process that started us.
  const print = (line: SpawnerLogLine): void => {
    if (json) {
      process.stdout.write(`${JSON.stringify(line)}\n`);
    } else if (line.event !== "http_request") {
      const { event, ...fields } = line;
      process.stderr.write(`${event} ${JSON.stringify(fields)}\n`);
    }
  };

  const service = await startSpawnerService({
    port: cli.port,
    host: cli.host,
    dataDir: cli.dataDir,
    ...(cli.token !== undefined ? { token: cli.token } : {}),
    ...(cli.agentEntry !== undefined ? { agentEntry: cli.agentEntry } : {}),
    ...(cli.bootTimeoutMs !== undefined ? { bootTimeoutMs: cli.bootTimeoutMs } : {}),
    log: print,
  });
  if (json) print({ event: "listening", service: "spawner", url: service.url, pid: process.pid, data_dir: cli.dataDir });
  else process.stdout.write(`burrow spawner listening at ${service.url} (data in ${cli.dataDir})\n`);

  closeOnSignals(() => service.close(), print);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runSpawnerCli(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`spawner: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
