// Two real cores, real MLS, the embedded relay: a burst of messages sent as fast as they are typed arrives
// complete and in the order typed, also when the crypto pool's worker dies in the middle of it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { AppState } from "../../shared/state.js";
import type { AppCore } from "../app/appCore.js";
import type { LogLine } from "../base/log.js";
import { CryptoPool, setSharedCryptoPool } from "../marmot/index.js";
import { accountDatabasePath } from "../storage/accountStore.js";
import { coreIn, tempDir, waitForState, withAccount } from "../testing.js";

const BURST = 200;
const WORKER_URL = new URL("../marmot/cryptoWorker.js", import.meta.url);
const POOL_URL = new URL("../marmot/cryptoPool.js", import.meta.url);
const SENDER = new URL("./burstSender.fixture.js", import.meta.url);

const auth = (core: AppCore): { pubkey: string; npub: string } => {
  const state = core.snapshot().state.auth;
  return state.status === "logged_in" ? state : { pubkey: "", npub: "" };
};
const burst = (tag: string): string[] => Array.from({ length: BURST }, (_, i) => `${tag} ${i}`);
const sentCount = (state: AppState, texts: Set<string>): number =>
  state.open_chat?.messages.filter((m) => texts.has(m.text) && m.status === "sent").length ?? 0;

/** Reads `read()` until `done` holds or `timeoutMs` passed; answers the last reading. */
async function until<T>(read: () => T, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = read();
  }
  return value;
}

/** The texts of the chat's messages in the receiver's store, in the order the chat shows them. */
function storedTexts(dataDir: string, pubkey: string, chatId: string, prefix: string): string[] {
  const db = new Database(accountDatabasePath(dataDir, pubkey), { readonly: true });
  try {
    const rows = db
      .prepare("SELECT content FROM messages WHERE group_id = ? AND kind = 9 AND content LIKE ? ORDER BY created_at, seq")
      .all(chatId, `${prefix} %`) as Array<{ content: string }>;
    return rows.map((row) => row.content);
  } finally {
    db.close();
  }
}

describe("integration: a burst of messages between two cores", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let alice: AppCore;
  let bob: AppCore;
  let chatId = "";
  const pools: CryptoPool[] = [];
  const aliceDir = (): string => `${dir.path}/alice`;
  const bobDir = (): string => `${dir.path}/bob`;

  /** Types `texts` into the chat one after another, as fast as dispatch answers, and waits until each is sent and at Bob. */
  const sendBurst = async (texts: string[], prefix: string): Promise<void> => {
    for (const text of texts) assert.deepEqual(await alice.dispatch({ type: "SendMessage", chat_id: chatId, text }), { ok: true });
    const all = new Set(texts);
    // The open chat shows the newest page: the burst's last messages, sent, in the order typed.
    const mine = await waitForState(alice, (s) => sentCount(s, new Set(texts.slice(-20))) === 20, 60_000);
    const mineShown = mine.state.open_chat!.messages.filter((m) => all.has(m.text)).map((m) => m.text);
    assert.deepEqual(mineShown, texts.slice(-mineShown.length));
    const last = texts.at(-1)!;
    const theirs = await waitForState(bob, (s) => s.open_chat?.messages.some((m) => m.text === last) ?? false, 60_000);
    const shown = theirs.state.open_chat!.messages.filter((m) => all.has(m.text)).map((m) => m.text);
    assert.ok(shown.length >= 20, `Bob's window shows the burst's newest messages (${shown.length})`);
    assert.deepEqual(shown, texts.slice(-shown.length), "Bob's chat shows them in the order typed");
    const stored = await until(() => storedTexts(bobDir(), auth(bob).pubkey, chatId, prefix), (got) => got.length >= BURST, 30_000);
    assert.deepEqual(stored, texts, "every message arrived once, in the order typed");
    assert.deepEqual(storedTexts(aliceDir(), auth(alice).pubkey, chatId, prefix), texts, "Alice's own chat keeps the order typed");
    const unsent = new Database(accountDatabasePath(aliceDir(), auth(alice).pubkey), { readonly: true });
    try {
      const counts = unsent.prepare("SELECT status, count(*) AS n FROM messages WHERE content LIKE ? GROUP BY status").all(`${prefix} %`);
      assert.deepEqual(counts, [{ status: "sent", n: BURST }], "each one was accepted by the relay and marked sent");
    } finally {
      unsent.close();
    }
  };

  // A core restarted on a busy machine may take more than the usual test second to connect.
  const timings = { connectTimeoutMs: 5_000 };
  /** Resolves once Alice's newest core has caught up with the chat (its own echoes included): each restart waits for it before sending. */
  let aliceCaughtUp: Promise<void> = Promise.resolve();
  let restorePool = (): void => undefined;
  const openAlice = (pool?: CryptoPool): Promise<AppCore> => {
    let caughtUp = (): void => undefined;
    aliceCaughtUp = new Promise((resolve, reject) => {
      caughtUp = resolve;
      setTimeout(() => reject(new Error("Alice did not catch up within 30 s")), 30_000).unref();
    });
    aliceCaughtUp.catch(() => undefined);
    const log = (line: LogLine): void => {
      if (line.event === "caught_up" && String(line["subscription"]).startsWith("groups|")) caughtUp();
    };
    // The process's pool signs (and checks) for every core here: a test swaps in one whose worker dies.
    if (pool) {
      const previous = setSharedCryptoPool(pool);
      if (previous) restorePool = () => setSharedCryptoPool(previous);
    }
    return coreIn(aliceDir(), 5, [relay.url], timings, undefined, { log });
  };

  before(async () => {
    dir = await tempDir("burrow-burst-");
    relay = await startRelay({ port: 0, dbPath: `${dir.path}/relay.sqlite` });
    alice = await withAccount(await openAlice());
    bob = await withAccount(await coreIn(bobDir(), 5, [relay.url], timings));
    await alice.dispatch({ type: "CreateChat", peer: auth(bob).npub });
    chatId = (await waitForState(alice, (s) => s.open_chat !== null && !s.busy.creating_chat, 15_000)).state.open_chat!.chat_id;
    const invited = await waitForState(bob, (s) => s.invites.length === 1, 15_000);
    await bob.dispatch({ type: "AcceptInvite", invite_id: invited.state.invites[0]!.id });
    await waitForState(bob, (s) => s.open_chat?.chat_id === chatId, 15_000);
  });
  after(async () => {
    await alice.close();
    await bob.close();
    restorePool();
    await Promise.all(pools.map((pool) => pool.close()));
    await relay.close();
    await dir.remove();
  });

  test("a_burst_of_200_messages_arrives_complete_and_in_the_order_typed_and_survives_a_restart", async () => {
    await sendBurst(burst("fast"), "fast");
    // The group state stored after the burst is the one its last message came from: after a restart
    // a new message uses a new ratchet generation, which Bob can open.
    await alice.close();
    alice = await openAlice();
    await aliceCaughtUp;
    await alice.dispatch({ type: "OpenChat", chat_id: chatId });
    await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: "after the restart" });
    await waitForState(bob, (s) => s.open_chat?.messages.at(-1)?.text === "after the restart", 15_000);
  });

  test("a_crypto_worker_that_dies_mid_burst_loses_nothing_and_keeps_the_order", async () => {
    let spawned = 0;
    let diedWith: number | null = null;
    // The first worker signs one batch, then exits with its second batch unanswered; later ones are sound.
    const pool = new CryptoPool({
      size: 1,
      spawn: () => {
        spawned += 1;
        if (spawned > 1) return new Worker(WORKER_URL);
        const worker = new Worker(
          `const { parentPort } = require("node:worker_threads");
           const pool = import(${JSON.stringify(POOL_URL.href)});
           let jobs = 0;
           parentPort.on("message", async (job) => {
             jobs += 1;
             if (jobs === 2) process.exit(7);
             parentPort.postMessage((await pool).runCryptoJob(job));
           });`,
          { eval: true },
        );
        worker.on("exit", (code) => (diedWith = code));
        return worker;
      },
    });
    pools.push(pool);
    await alice.close();
    alice = await openAlice(pool);
    await aliceCaughtUp;
    await alice.dispatch({ type: "OpenChat", chat_id: chatId });
    await sendBurst(burst("dying"), "dying");
    assert.equal(diedWith, 7, "the first worker died in the burst, a batch unanswered");
  });

  test("a_core_killed_mid_burst_starts_again_from_a_newer_ratchet_generation", async () => {
    await alice.close();
    // Alice's account in a process of its own, killed while its burst goes out: a kill that lands after a
    // ciphertext left but before the state that made it was stored would make the next message reuse a
    // generation Bob has spent, and Bob could not open it.
    const child = spawn(process.execPath, [SENDER.pathname, aliceDir(), relay.url, chatId, "600", "killed"], { stdio: ["ignore", "ignore", "inherit"] });
    const exited = once(child, "exit");
    const before = await until(() => storedTexts(bobDir(), auth(bob).pubkey, chatId, "killed").length, (n) => n >= 40, 60_000);
    child.kill("SIGKILL");
    await exited;
    assert.ok(before >= 40, "Bob had part of the burst when Alice's process was killed");
    alice = await openAlice();
    await aliceCaughtUp;
    await alice.dispatch({ type: "OpenChat", chat_id: chatId });
    await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: "after the kill" });
    await waitForState(bob, (s) => s.open_chat?.messages.at(-1)?.text === "after the kill", 15_000);
    const received = storedTexts(bobDir(), auth(bob).pubkey, chatId, "killed").map((text) => Number(text.split(" ")[1]));
    assert.deepEqual(received, [...new Set(received)].sort((a, b) => a - b), "what arrived, arrived once and in the order typed");
  });
});
