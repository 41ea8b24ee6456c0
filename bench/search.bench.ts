// Full-text search over 100,000 stored messages: one word in about 1 % of them, the newest 50 with
// snippets. Messages go into the store directly (no relay, no MLS). Prints figures; asserts nothing.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccountStore } from "../core/storage/accountStore.js";
import { printTable, recordResults, type Measurement } from "./results.js";

const MESSAGES = 100_000;
const GROUPS = 50;
const RUNS = 25;
const ME = "a".repeat(64);
const PEER = "b".repeat(64);
const WORDS = "the a of to and in is it you that was for on are with as at be this have from or one had by but not what all were when we there can".split(" ");

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const hex = (n: number): string => n.toString(16).padStart(64, "0");

const dir = await mkdtemp(join(tmpdir(), "burrow-bench-search-"));
const store = AccountStore.open(dir, ME);
const times: number[] = [];
let found = 0;
try {
  store.transaction(() => {
    for (let g = 0; g < GROUPS; g++) {
      store.upsertGroup({ id: hex(g + 1), mls_group_id: `mls-${g}`, kind: "group", name: `g${g}`, description: "", admins: [ME], relays: [], members: [ME, PEER], peer: null, state: new Uint8Array(64), epoch: 0, created_at: 0, updated_at: 0 });
    }
    let seed = 1;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < MESSAGES; i++) {
      const words = Array.from({ length: 8 + (next() % 12) }, () => WORDS[next() % WORDS.length]!);
      if (i % 100 === 7) words.splice(next() % words.length, 0, "zephyr");
      store.insertMessage({ id: hex(1_000_000 + i), group_id: hex((i % GROUPS) + 1), sender: i % 2 ? PEER : ME, kind: 9, content: words.join(" "), tags: [], created_at: 1_700_000_000 + i, status: "received" });
    }
  });
  for (let run = 0; run < RUNS + 3; run++) {
    const started = performance.now();
    const page = store.messageSearch.search("zephyr", { limit: 50 });
    const elapsed = performance.now() - started;
    found = page.hits.length;
    if (run >= 3) times.push(elapsed);
  }
} finally {
  store.close();
  await rm(dir, { recursive: true, force: true });
}

const results: Measurement[] = [{ name: "search.query_100k_messages_ms", value: median(times), unit: "ms" }];
console.log(`\nSearch of ${MESSAGES} stored messages, one word in 1 % of them, ${found} newest with snippets (median of ${RUNS}; target < 50 ms):`);
printTable(results);
await recordResults(results);
