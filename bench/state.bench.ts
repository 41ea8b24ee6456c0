// The core's cost of one state push at 5,000 chats, one of them open with 100 messages: the
// projection (chat list, open window), the push itself and its serialization as the web host
// sends it; not the socket. A real AppCore over a store seeded directly (no relay, no MLS traffic).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { channel } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import type { AppState } from "../shared/state.js";
import { STAGE_CHANNEL, type StageTiming } from "../core/base/stages.js";
import { AppCore, FileSecretStore } from "../core/index.js";
import { AccountStore } from "../core/storage/accountStore.js";
import { printTable, recordResults, type Measurement } from "./results.js";
import { seedAccount } from "./seed.js";

const CHATS = 5_000;
const OPEN_MESSAGES = 100;
/** Spread over the chats, most in the newest ones (bench/seed.ts): the newest gets well over 100. */
const MESSAGES = 20_000;
/** Peers with a stored profile picture (load_pictures on), each this many bytes of data: URL. */
const PICTURES = 50;
const PICTURE_BYTES = 100_000;
const RUNS = 60;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Gives the peers of the `PICTURES` newest direct chats a stored picture, and turns pictures on. */
function addPictures(dataDir: string, me: string): void {
  const store = AccountStore.open(dataDir, me);
  try {
    const peers = store
      .listChatSummaries()
      .flatMap((c) => (c.peer ? [c.peer] : []))
      .slice(0, PICTURES);
    store.transaction(() => {
      peers.forEach((peer, i) => {
        const picture = `https://pictures.example/${i}.png`;
        store.upsertProfile({ pubkey: peer, name: `Pictured ${i}`, picture, created_at: 2 });
        store.savePicture(picture, `data:image/png;base64,${"A".repeat(PICTURE_BYTES)}`, 2);
      });
      store.setMeta("load_pictures", true);
    });
  } finally {
    store.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), "burrow-bench-state-"));
const results: Measurement[] = [];
try {
  const seeded = await seedAccount(dir, { chats: CHATS, messages: MESSAGES });
  addPictures(dir, seeded.keys.pubkey);
  // The newest chat has the most messages: its window holds OPEN_MESSAGES.
  const openId = seeded.chatIds[0]!;

  const core = await AppCore.create({
    secretStore: new FileSecretStore(dir),
    dataDir: dir,
    defaultRelays: [],
    agentApiUrl: "http://127.0.0.1:9",
    pushIntervalMs: 0,
    timings: { messagePageSize: OPEN_MESSAGES },
  });
  // Each push's stages, as the core times them (diagnostics channel), then its serialization here; a
  // pass that pushed nothing counts toward the next push. One push's cost: the sum of its stages.
  const stageChannel = channel(STAGE_CHANNEL); // held: a channel nobody references may be collected with its subscribers
  let current = new Map<string, number>();
  const pushes: { stages: Map<string, number>; bytes: number }[] = [];
  stageChannel.subscribe((message) => {
    const { stage, ms } = message as StageTiming;
    current.set(stage, (current.get(stage) ?? 0) + ms);
  });
  let waiter: ((state: AppState) => void) | null = null;
  core.subscribe((push) => {
    // As the web host: one serialization per push.
    const started = performance.now();
    const bytes = JSON.stringify({ t: "state", push }).length;
    current.set("serialization (JSON, as the web host sends it)", performance.now() - started);
    pushes.push({ stages: current, bytes });
    current = new Map();
    waiter?.(core.snapshot().state);
  });
  const until = (predicate: (state: AppState) => boolean, action: unknown): Promise<void> =>
    new Promise((resolve) => {
      waiter = (state) => {
        if (!predicate(state)) return;
        waiter = null;
        resolve();
      };
      void core.dispatch(action);
    });
  await until((s) => s.open_chat?.messages.length === OPEN_MESSAGES && s.chats.length === CHATS, { type: "OpenChat", chat_id: openId });
  // A message sent in the open chat (no relay: it fails) changes one chat's row and the window, push by push.
  const measured = pushes.length;
  for (let run = 0; run < RUNS; run++) {
    const text = `sent ${run}`;
    await until((s) => s.open_chat?.messages.some((m) => m.text === text && m.status === "failed") === true, { type: "SendMessage", chat_id: openId, text });
  }
  await core.close();
  const sample = pushes.slice(measured);
  const totals = sample.map((p) => [...p.stages.values()].reduce((a, b) => a + b, 0));
  const names = [...new Set(sample.flatMap((p) => [...p.stages.keys()]))];
  console.log(`\nOne state push with ${CHATS} chats (${PICTURES} with a ${PICTURE_BYTES / 1000} KB picture), one open with ${OPEN_MESSAGES} messages, while messages are sent in it; median of ${sample.length} pushes (target ≤ 3 ms):`);
  for (const name of names) console.log(`  ${name}: ${median(sample.map((p) => p.stages.get(name) ?? 0)).toFixed(3)} ms`);
  console.log(`  pushed: ${(median(sample.map((p) => p.bytes)) / 1000).toFixed(1)} KB per push; the whole state: ${(JSON.stringify(core.snapshot()).length / 1e6).toFixed(2)} MB`);
  results.push({ name: "state.push_5000_chats_ms", value: median(totals), unit: "ms" });
} finally {
  await rm(dir, { recursive: true, force: true });
}
printTable(results);
await recordResults(results);
