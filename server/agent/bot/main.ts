#!/usr/bin/env node
// The agent bot as a process, started by a spawner inside the agent's VM:
//   node dist/server/agent/bot/main.js --data-dir DIR --owner HEX --relay URL [--relay URL…] < KEY
// The secret key is the first line on stdin, read before anything else runs. Never argv (every user
// of the machine reads /proc/<pid>/cmdline), never the environment (/proc/<pid>/environ, inherited by
// children), never a file of the bot's: the one who starts it keeps the only copy.
// Every stdout line is one JSON object:
//   {"event":"phase","phase":P}            each startup phase, in order (BOT_PHASES)
//   {"event":"ready","agent_npub":N,"agent_pubkey":H}   once, right after phase "ready"
//   {"event":"log","log":NAME,...}         core and bot log lines (NAME is the line's own event)
//   {"event":"stopped","signal":S}         after a clean shutdown on SIGTERM / SIGINT (exit 0)
//   {"event":"fatal","message":M}          bad arguments (exit 2) or a failed start (exit 1), also on stderr
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { type LogLine, parsePrivateKey } from "../../../core/index.js";
import { AgentBotConfigError, startAgentBot, type AgentBot } from "./agentBot.js";
import { responderFromEnv, type Responder } from "./responder.js";

const USAGE = "usage: burrow-agent-bot --data-dir DIR --owner HEX --relay URL [--relay URL...] < FILE_WITH_THE_HEX_SECRET_KEY";
/** A shutdown that takes longer than this exits anyway, with status 1. */
const SHUTDOWN_LIMIT_MS = 10_000;

const EXIT_USAGE = 2;

interface Cli {
  dataDir: string;
  owner: string;
  relays: string[];
}

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function logLine(line: LogLine): void {
  const { event, ...fields } = line;
  emit({ event: "log", log: event, ...fields });
}

/** Reports why the bot cannot run and exits once stdout is flushed. */
function fail(message: string, code: number): void {
  process.stderr.write(`burrow-agent-bot: ${message}\n${code === EXIT_USAGE ? `${USAGE}\n` : ""}`);
  process.stdout.write(`${JSON.stringify({ event: "fatal", message })}\n`, () => process.exit(code));
}

/** The parsed command line, or what is wrong with it. */
function parseCli(argv: string[]): Cli | string {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        "data-dir": { type: "string" },
        owner: { type: "string" },
        relay: { type: "string", multiple: true },
      },
    }).values;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const dataDir = values["data-dir"];
  if (!dataDir) return "--data-dir is required";
  if (!values.owner) return "--owner is required (the owner's hex public key)";
  const relays = values.relay ?? [];
  if (relays.length === 0) return "at least one --relay is required";
  return { dataDir, owner: values.owner, relays };
}

/** The first line on stdin, "" at end of input; stdin is closed afterwards. */
async function readSecretLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    for await (const line of lines) return line.trim();
    return "";
  } finally {
    lines.close();
    process.stdin.destroy();
  }
}

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2));
  if (typeof cli === "string") return fail(cli, EXIT_USAGE);
  const secret = await readSecretLine();
  if (!secret) return fail("no secret key on stdin: its first line must be the agent's secret key (64 hex characters)", EXIT_USAGE);
  const keys = parsePrivateKey(secret);
  if (!keys) return fail("the first line on stdin is not a valid secret key (64 hex characters)", EXIT_USAGE);
  let responder: Responder;
  try {
    responder = responderFromEnv(process.env, logLine);
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error), EXIT_USAGE);
  }

  let stopping: NodeJS.Signals | null = null;
  let bot: AgentBot | null = null;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = signal;
    setTimeout(() => fail(`shutdown took longer than ${SHUTDOWN_LIMIT_MS} ms`, 1), SHUTDOWN_LIMIT_MS).unref();
    // A signal during startup is acted on once the start has finished.
    if (bot) void shutdown(bot, signal);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);

  try {
    bot = await startAgentBot({
      dataDir: cli.dataDir,
      secretHex: keys.secretHex,
      ownerPubkey: cli.owner,
      relays: cli.relays,
      responder,
      log: logLine,
      onPhase: (phase) => {
        emit({ event: "phase", phase });
        if (phase === "ready") emit({ event: "ready", agent_npub: keys.npub, agent_pubkey: keys.pubkey });
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail(message, error instanceof AgentBotConfigError ? EXIT_USAGE : 1);
  }
  if (stopping) await shutdown(bot, stopping);
}

async function shutdown(bot: AgentBot, signal: NodeJS.Signals): Promise<void> {
  try {
    await bot.close();
  } catch (error) {
    fail(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`, 1);
    return;
  }
  process.stdout.write(`${JSON.stringify({ event: "stopped", signal })}\n`, () => process.exit(0));
}

main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error), 1));
