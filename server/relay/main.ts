#!/usr/bin/env node
// burrow-relay --port N --data-dir DIR [--max-future-seconds S] [--json]: the local stack's relay as its own process.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MAX_FUTURE_SECONDS, parseMaxFutureSeconds, startRelay } from "./relay.js";
import type { RelayLogLine } from "./relay.js";
import { closeOnSignals } from "../signals.js";

const USAGE = `usage: burrow-relay --port N --data-dir DIR [--max-future-seconds ${DEFAULT_MAX_FUTURE_SECONDS}] [--json]`;

interface Cli {
  port: number;
  dataDir: string;
  maxFutureSeconds: number;
  json: boolean;
}

/** The parsed command line, null for --help, or why it is wrong. */
function parseCli(): Cli | null | string {
  let values;
  try {
    values = parseArgs({
      options: {
        port: { type: "string", default: "0" },
        "data-dir": { type: "string" },
        "max-future-seconds": { type: "string", default: String(DEFAULT_MAX_FUTURE_SECONDS) },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (values.help) return null;
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return `--port must be 0..65535, got ${values.port}`;
  const dataDir = values["data-dir"];
  if (!dataDir) return "--data-dir is required";
  const maxFutureSeconds = parseMaxFutureSeconds(values["max-future-seconds"]);
  if (maxFutureSeconds === null) return `--max-future-seconds must be a whole number of seconds, got ${values["max-future-seconds"]}`;
  return { port, dataDir, maxFutureSeconds, json: values.json };
}

async function main(): Promise<void> {
  const cli = parseCli();
  if (cli === null) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (typeof cli === "string") {
    process.stderr.write(`${cli}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const { dataDir, json } = cli;

  // With --json every line on stdout is one JSON object, for the process that started us.
  const print = (line: RelayLogLine): void => {
    if (json) {
      process.stdout.write(`${JSON.stringify(line)}\n`);
    } else {
      const { event, ...fields } = line;
      process.stderr.write(`${event} ${JSON.stringify(fields)}\n`);
    }
  };

  mkdirSync(dataDir, { recursive: true });
  const relay = await startRelay({ port: cli.port, dbPath: join(dataDir, "relay.sqlite"), maxFutureSeconds: cli.maxFutureSeconds, log: print });
  if (json) print({ event: "ready", url: relay.url });
  else process.stdout.write(`burrow-relay ready at ${relay.url}\n`);

  closeOnSignals(() => relay.close(), print);
}

main().catch((error: unknown) => {
  process.stderr.write(`burrow-relay: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
