// A stand-in for the agent bot in the spawner's own tests: the bot's CLI and stdout protocol, no Marmot.
// It stands in for the VM guest so the spawner's logic is tested in isolation; one test runs the real bot.
//
// Behaviour knobs (environment): FIXTURE_PHASE_DELAY_MS (between lines, default 10), FIXTURE_STALL=1
// (stays in its last phase, never ready), FIXTURE_EXIT_BEFORE_READY=<code>, FIXTURE_IGNORE_SIGTERM=1.
// Each start appends one line to `<data-dir>/starts.jsonl`: its argv, pid, and whether the secret
// (or the spawner's token) leaked where it must not be. Like the bot, it reads its key from stdin.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { hexToBytes } from "@noble/hashes/utils.js";
import { nip19 } from "nostr-tools";
import { getPublicKey } from "nostr-tools/pure";

const { values } = parseArgs({
  options: { "data-dir": { type: "string" }, owner: { type: "string" }, relay: { type: "string", multiple: true } },
});
const dataDir = values["data-dir"];
let secret = "";
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  secret = line.trim();
  break;
}
process.stdin.destroy();
if (!dataDir || !values.owner || !values.relay?.length || !secret) {
  process.stderr.write("fixture guest: --data-dir, --owner, --relay and the secret key on stdin are required\n");
  process.exit(2);
}
const pubkey = getPublicKey(hexToBytes(secret));
appendFileSync(
  join(dataDir, "starts.jsonl"),
  `${JSON.stringify({
    argv: process.argv.slice(2),
    pid: process.pid,
    secret_in_argv: process.argv.some((arg) => arg.includes(secret)),
    secret_in_env: Object.values(process.env).some((value) => value?.includes(secret)),
    spawner_token_in_env: "BURROW_SPAWNER_TOKEN" in process.env,
  })}\n`,
);

const delayMs = Number(process.env["FIXTURE_PHASE_DELAY_MS"] ?? "10");
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const print = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

process.on("SIGTERM", () => {
  if (process.env["FIXTURE_IGNORE_SIGTERM"] === "1") return;
  process.exit(0);
});
// Keeps the process alive until a signal, as the bot's relay connections would.
setInterval(() => {}, 60_000);

process.stderr.write("fixture guest booting\n");
for (const phase of ["booting_guest", "waiting_for_service_ready", "waiting_for_keypackage_publish"]) {
  print({ event: "phase", phase });
  await sleep(delayMs);
  const exitCode = process.env["FIXTURE_EXIT_BEFORE_READY"];
  if (exitCode !== undefined) {
    process.stderr.write("fixture guest: cannot reach any relay\n");
    process.exit(Number(exitCode));
  }
}
if (process.env["FIXTURE_STALL"] !== "1") print({ event: "ready", agent_npub: nip19.npubEncode(pubkey), agent_pubkey: pubkey });
