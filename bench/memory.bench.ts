// Memory of a core with a large account: a real AppCore, in a process of its own, opened on a seeded
// account of 5,000 chats and 100,000 messages, the account loaded and one chat open, after GC.
// Prints figures; asserts nothing.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startRelay } from "../server/relay/relay.js";
import { printTable, recordResults, type Measurement } from "./results.js";
import { seedAccount } from "./seed.js";

const CHATS = 5_000;
const MESSAGES = 100_000;
const MB = 1024 * 1024;

const dir = await mkdtemp(join(tmpdir(), "burrow-bench-memory-"));
const relay = await startRelay({ port: 0 });
let figures: { rss: number; heapUsed: number };
try {
  const seedStarted = performance.now();
  await seedAccount(dir, { chats: CHATS, messages: MESSAGES });
  console.log(`Seeded ${CHATS} chats and ${MESSAGES} messages in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
  const probe = join(dirname(fileURLToPath(import.meta.url)), "memoryProbe.js");
  const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", probe, dir, relay.url, String(CHATS)], { timeout: 180_000 });
  figures = JSON.parse(stdout.trim().split("\n").at(-1)!) as { rss: number; heapUsed: number };
} finally {
  await relay.close();
  await rm(dir, { recursive: true, force: true });
}

const results: Measurement[] = [
  { name: "memory.core_rss_5000_chats_100k_messages_mb", value: figures.rss / MB, unit: "MB" },
  { name: "memory.core_heap_used_5000_chats_100k_messages_mb", value: figures.heapUsed / MB, unit: "MB" },
];
console.log(`\nA core with ${CHATS} chats and ${MESSAGES} messages, loaded, one chat open, after GC (target RSS ≤ 300 MB):`);
printTable(results);
await recordResults(results);
