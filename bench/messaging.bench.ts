// Messaging throughput: raw ts-mls (its default crypto provider) against Burrow's send and receive
// pipelines, measured piece by piece in process (marmot layer + AccountStore), then through two real
// AppCores over the embedded relay (as the app runs) and over a stub relay (bench/stubRelay.ts: the
// core's own cost, without the relay's ingest ceiling and REQ paging); a 10,000-message backlog
// applied by a core starting fresh; group creation with 2, 10, 50 and 150 members. Relays run in a
// child process. Prints figures with their targets; asserts nothing. Writes bench/results.json.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { ClientState, KeyPackage } from "ts-mls";
import type { AppState, StateSnapshot } from "../shared/state.js";
import { foldPushes } from "../shared/statePush.js";
import { AppCore, type LogLine, FileSecretStore } from "../core/index.js";
import {
  EpochKeyCache,
  MarmotError,
  NIP44_MAX_PLAINTEXT,
  addMembers,
  chatMessageRumor,
  createGroup,
  deserializeGroupState,
  encryptRumor,
  generateKeyPackage,
  generateSecretKey,
  getPublicKey,
  giftWrapSizes,
  groupMembers,
  initNostrCrypto,
  joinFromWelcome,
  nostrCryptoBackend,
  nostrGroupIdHex,
  processGroupMessage,
  sealGroupMessage,
  sendRumor,
  serializeGroupState,
  sharedCryptoPool,
  unwrapGroupEvent,
  verifySignature,
  welcomeRumor,
  type EventTemplate,
  type NostrEvent,
} from "../core/marmot/index.js";
import { AccountStore, accountDatabasePath } from "../core/storage/accountStore.js";
import { publishAll, startChildRelay, type ChildRelay } from "./benchRelay.js";
import { printTable, recordResults, type Measurement } from "./results.js";
import { tsMlsBaseline } from "./tsMlsBaseline.js";

const MESSAGES = 2_000;
const BACKLOG = 10_000;
const GROUP_SIZES = [2, 10, 50, 150];
const WARMUP = 100;
const INBOX_BATCH = 500; // in-process stand-in for the receive batch's transactions (core/chats/receiveBatch.ts)
const CHECK_SLICE = 250; // and for its signature checks in the crypto pool, this many slices ahead
const CHECKS_AHEAD = 2;
const STALL_MS = 5_000;
const RUNS = 3; // baseline and in-process figures: median of this many runs of MESSAGES each
const SEND_CHUNK = 64; // as features/messages/messages.ts encrypts and signs a burst
/** BENCH_SKIP=baseline,groups leaves out those sections (ratios against a skipped baseline print as NaN). */
const skipped = new Set((process.env["BENCH_SKIP"] ?? "").split(",").filter(Boolean));

const started = performance.now();
const elapsed = (since: number): number => (performance.now() - since) / 1000;
const now = (): number => Math.floor(Date.now() / 1000);

/** ~100-byte chat texts, all different. */
const texts = (count: number, tag: string): string[] =>
  Array.from({ length: count }, (_, i) => `${tag} ${i}: `.concat("the quick brown fox jumps over the lazy dog, again and again and again and ag").slice(0, 100));

/** Accumulated time per named stage. */
class Stages {
  readonly ms = new Map<string, number>();
  async time<T>(stage: string, fn: () => T | Promise<T>): Promise<T> {
    const t = performance.now();
    const result = await fn();
    this.ms.set(stage, (this.ms.get(stage) ?? 0) + performance.now() - t);
    return result;
  }
}

const results: Measurement[] = [];
const notes: string[] = [];
const section = (title: string, rows: Measurement[], lines: string[] = []): void => {
  console.log(`\n${title}`);
  printTable(rows);
  for (const line of lines) console.log(`  ${line}`);
  results.push(...rows);
};

await initNostrCrypto();
const cryptoPool = sharedCryptoPool();
const dir = await mkdtemp(join(tmpdir(), "burrow-bench-messaging-"));
const childRelays: ChildRelay[] = [];
const cores: AppCore[] = [];

try {
  // ───────────── 1. Baseline: raw ts-mls with its default crypto provider ─────────────
  const baseline = skipped.has("baseline")
    ? { encrypt: NaN, decrypt: NaN, encryptRates: [], decryptRates: [] }
    : await tsMlsBaseline({ messages: MESSAGES, runs: RUNS, warmup: WARMUP, texts });
  if (!skipped.has("baseline")) section(
    `Baseline: raw ts-mls 2.0.0-rc.10 with its DEFAULT crypto provider, ${MESSAGES} messages of 100 bytes (encrypt = createApplicationMessage + encode, decrypt = decode + processMessage), median of ${RUNS} runs`,
    [
      { name: "messaging.baseline_tsmls_encrypt", value: baseline.encrypt, unit: "msgs/s" },
      { name: "messaging.baseline_tsmls_decrypt", value: baseline.decrypt, unit: "msgs/s" },
    ],
    [`runs: encrypt ${baseline.encryptRates.map((r) => r.toFixed(0)).join(" / ")}, decrypt ${baseline.decryptRates.map((r) => r.toFixed(0)).join(" / ")} msgs/s`],
  );

  // ───────────── 2. Burrow's pipelines in process: marmot layer + AccountStore, as the messages feature and the group inbox run them ─────────────
  const inProcess = await (async () => {
    const aliceSecret = generateSecretKey();
    const alicePk = getPublicKey(aliceSecret);
    const bobPk = getPublicKey(generateSecretKey());
    const bobBundle = await generateKeyPackage(bobPk);
    const created = await createGroup({ creatorPubkey: alicePk, members: [bobBundle.publicPackage], name: "", relays: ["ws://127.0.0.1:1"], adminPubkeys: [bobPk] });
    const joined = await joinFromWelcome(created.welcome!, bobBundle, alicePk);
    const groupId = nostrGroupIdHex(created.groupData);
    const side = (pubkey: string, state: ClientState) => {
      const store = AccountStore.open(join(dir, "inprocess"), pubkey);
      store.upsertGroup({
        id: groupId,
        mls_group_id: Buffer.from(state.groupContext.groupId).toString("hex"),
        kind: "direct",
        name: "",
        description: "",
        admins: [alicePk, bobPk],
        relays: [],
        members: groupMembers(state),
        peer: pubkey === alicePk ? bobPk : alicePk,
        state: serializeGroupState(state),
        epoch: Number(state.groupContext.epoch),
        created_at: now(),
        updated_at: now(),
      });
      return { store, state, keys: new EpochKeyCache(5) };
    };
    const alice = side(alicePk, created.state);
    const bob = side(bobPk, joined.state);

    // features/messages/messages.ts, minus the relay round trip and the overlap of signing with the next chunk's
    // encryption: per chunk of SEND_CHUNK, the pending rows in one transaction, MLS encrypt in order, the group state
    // serialized and stored once, the kind 445s signed in the crypto pool as one batch, their events stored, the sent marks stored.
    const send = async (batch: string[], stages: Stages): Promise<NostrEvent[]> => {
      const events: NostrEvent[] = [];
      for (let offset = 0; offset < batch.length; offset += SEND_CHUNK) {
        const rumors = await stages.time("rumor (kind 9, id hash)", () => batch.slice(offset, offset + SEND_CHUNK).map((text) => chatMessageRumor(alicePk, text)));
        await stages.time(`SQLite writes (4 transactions per ${SEND_CHUNK} msgs, as the core does)`, () =>
          alice.store.transaction(() => {
            for (const rumor of rumors) {
              alice.store.insertMessage({ id: rumor.id, group_id: groupId, sender: alicePk, kind: rumor.kind, content: rumor.content, tags: rumor.tags, created_at: rumor.created_at, status: "pending" });
              alice.store.touchGroup(groupId, rumor.created_at);
            }
          }),
        );
        const templates: EventTemplate[] = [];
        for (const rumor of rumors) {
          const encrypted = await stages.time("MLS encrypt (encryptRumor)", () => encryptRumor(alice.state, rumor));
          alice.state = encrypted.state;
          const key = alice.keys.get(encrypted.state.groupContext.epoch) ?? (await alice.keys.remember(encrypted.state));
          templates.push(await stages.time("kind 445 wrap + schnorr sign (ChaCha20 here; fresh key + sign in the crypto pool)", () => sealGroupMessage(encrypted.message, key)));
        }
        const stateBytes = await stages.time(`serializeGroupState (once per ${SEND_CHUNK} msgs)`, () => serializeGroupState(alice.state));
        await stages.time(`SQLite writes (4 transactions per ${SEND_CHUNK} msgs, as the core does)`, () =>
          alice.store.transaction(() => alice.store.updateGroupState(groupId, stateBytes, Number(alice.state.groupContext.epoch))),
        );
        const signed = await stages.time("kind 445 wrap + schnorr sign (ChaCha20 here; fresh key + sign in the crypto pool)", () => cryptoPool.signFresh(templates));
        await stages.time(`SQLite writes (4 transactions per ${SEND_CHUNK} msgs, as the core does)`, () => {
          alice.store.transaction(() => {
            signed.forEach((event, i) => {
              alice.store.markProcessed(event.id, 445, now());
              alice.store.setMessageEventJson(rumors[i]!.id, JSON.stringify(event));
            });
          });
          alice.store.transaction(() => {
            for (const rumor of rumors) alice.store.updateMessageStatus(rumor.id, "sent");
          });
        });
        events.push(...signed);
      }
      return events;
    };

    // The receive batch's drain + the group inbox: signatures checked in the crypto pool a few slices
    // ahead (core/chats/receiveBatch.ts), MLS here in order, each batch's writes in one transaction.
    const pool = sharedCryptoPool();
    const receive = async (wire: string[], stages: Stages): Promise<number> => {
      let stored = 0;
      const events = wire.map((json) => JSON.parse(json) as NostrEvent);
      const slices = new Map<number, Promise<Array<NostrEvent | null>>>();
      const checked = async (index: number): Promise<NostrEvent | null> => {
        const slice = Math.floor(index / CHECK_SLICE);
        for (let ahead = slice; ahead <= slice + CHECKS_AHEAD && ahead * CHECK_SLICE < events.length; ahead++) {
          if (!slices.has(ahead)) slices.set(ahead, pool.checkSignatures(events.slice(ahead * CHECK_SLICE, (ahead + 1) * CHECK_SLICE)));
        }
        return (await slices.get(slice)!)[index % CHECK_SLICE]!;
      };
      for (let offset = 0; offset < events.length; offset += INBOX_BATCH) {
        const writes: Array<() => void> = [];
        for (let index = offset; index < Math.min(offset + INBOX_BATCH, events.length); index++) {
          if (await stages.time("SQLite writes (1 transaction/500 msgs)", () => bob.store.isProcessed(events[index]!.id))) continue;
          const unwrapped = await stages.time("verify sig + unwrap (waiting for the pool's signature check, ChaCha20-Poly1305, decode)", async () => {
            const event = await checked(index);
            if (!event) throw new Error("in-process receive: bad signature");
            return { event, ...unwrapGroupEvent(event, bob.keys) };
          });
          const event = unwrapped.event;
          const result = await stages.time("MLS decrypt (processGroupMessage)", () => processGroupMessage(bob.state, unwrapped.message));
          if (result.kind !== "application") throw new Error(`in-process receive: ${result.kind}`);
          bob.state = result.state;
          const rumor = result.rumor;
          writes.push(() => {
            bob.store.markProcessed(event.id, event.kind, now());
            const cursor = bob.store.getMeta<number>(`cursor:445:${groupId}`) ?? 0;
            if (event.created_at > cursor) bob.store.setMeta(`cursor:445:${groupId}`, event.created_at);
            if (bob.store.insertMessage({ id: rumor.id, group_id: groupId, sender: rumor.pubkey, kind: rumor.kind, content: rumor.content, tags: rumor.tags, created_at: rumor.created_at, status: "received" })) {
              stored += 1;
              bob.store.touchGroup(groupId, rumor.created_at);
            }
          });
        }
        const stateBytes = await stages.time("serializeGroupState (once per batch, as the receive batch does)", () => serializeGroupState(bob.state));
        const epoch = Number(bob.state.groupContext.epoch);
        await stages.time("SQLite writes (1 transaction/500 msgs)", () =>
          bob.store.transaction(() => {
            for (const write of writes) write();
            bob.store.updateGroupState(groupId, stateBytes, epoch);
          }),
        );
      }
      return stored;
    };

    await bob.keys.remember(bob.state);
    await receive((await send(texts(WARMUP, "warmup"), new Stages())).map((e) => JSON.stringify(e)), new Stages());
    const runs: Array<{ sendRate: number; sendStages: Stages; receiveRate: number; receiveStages: Stages; stored: number; wire: string[] }> = [];
    for (let run = 0; run < RUNS; run++) {
      const sendStages = new Stages();
      let t0 = performance.now();
      const events = await send(texts(MESSAGES, `in-process ${run}`), sendStages);
      const sendRate = MESSAGES / elapsed(t0);
      const wire = events.map((e) => JSON.stringify(e));
      const receiveStages = new Stages();
      t0 = performance.now();
      const stored = await receive(wire, receiveStages);
      runs.push({ sendRate, sendStages, receiveRate: MESSAGES / elapsed(t0), receiveStages, stored, wire });
    }
    // The median run of each side, with its stages.
    const medianRun = (rate: (r: (typeof runs)[number]) => number) => [...runs].sort((a, b) => rate(a) - rate(b))[Math.floor(runs.length / 2)]!;
    const { sendRate, sendStages } = medianRun((r) => r.sendRate);
    const { receiveRate, receiveStages, stored } = medianRun((r) => r.receiveRate);
    const wire = runs.at(-1)!.wire;
    const events = wire.map((json) => JSON.parse(json) as NostrEvent);
    // How much of "verify + unwrap" is the signature check alone.
    const t = performance.now();
    for (const json of wire) verifySignature(JSON.parse(json) as NostrEvent);
    const verifyUs = ((performance.now() - t) * 1000) / MESSAGES;
    const stateBytes = serializeGroupState(bob.state).length;
    alice.store.close();
    bob.store.close();
    return { sendRate, receiveRate, stored, sendStages, receiveStages, verifyUs, eventBytes: wire[0]!.length, stateBytes, events, runs: runs.map((r) => [r.sendRate, r.receiveRate]) };
  })();
  const stageRows = (prefix: string, stages: Stages): Measurement[] =>
    [...stages.ms].map(([stage, ms]) => ({ name: `${prefix}.${stage.split(" (")[0]!.replace(/[^a-z0-9]+/gi, "_").replace(/_+$/, "").toLowerCase()}`, value: (ms * 1000) / MESSAGES, unit: "µs/msg" }));
  section(
    `Burrow pipelines IN PROCESS (marmot layer + AccountStore on disk, the steps the messages feature and the group inbox take, no relay, no AppCore state pushes), ${MESSAGES} messages, median of ${RUNS} runs`,
    [
      { name: "messaging.inprocess_send", value: inProcess.sendRate, unit: "msgs/s", ratio: inProcess.sendRate / baseline.encrypt },
      ...stageRows("messaging.inprocess_send_stage", inProcess.sendStages),
      { name: "messaging.inprocess_receive", value: inProcess.receiveRate, unit: "msgs/s", ratio: inProcess.receiveRate / baseline.decrypt },
      ...stageRows("messaging.inprocess_receive_stage", inProcess.receiveStages),
      { name: "messaging.inprocess_receive_stage.of_which_schnorr_verify", value: inProcess.verifyUs, unit: "µs/msg" },
    ],
    [
      `send stages: ${[...inProcess.sendStages.ms].map(([s, ms]) => `${s} ${((ms * 1000) / MESSAGES).toFixed(0)} µs`).join("; ")}`,
      `receive stages: ${[...inProcess.receiveStages.ms].map(([s, ms]) => `${s} ${((ms * 1000) / MESSAGES).toFixed(0)} µs`).join("; ")}`,
      `runs (send / receive msgs/s): ${inProcess.runs.map(([a, b]) => `${a!.toFixed(0)} / ${b!.toFixed(0)}`).join(", ")}; stored ${inProcess.stored}/${MESSAGES}; kind 445 event ${inProcess.eventBytes} B of JSON; serialized group state ${inProcess.stateBytes} B (written once per receive batch, once per chunk sent); nostr crypto backend: ${nostrCryptoBackend()}; crypto pool: ${sharedCryptoPool().size} worker thread(s)`,
      `ratio = Burrow / baseline (send vs ts-mls encrypt, receive vs ts-mls decrypt). Targets: receive ≥ 800 msgs/s, send ≥ 600 msgs/s`,
    ],
  );

  // ───────────── 3 + 4. Two real AppCores talking through a relay in its own process (127.0.0.1) ─────────────
  const logCounts = new Map<string, Map<string, number>>();
  const makeCore = (name: string, relayUrl: string): Promise<AppCore> => {
    const dataDir = join(dir, name);
    const counts = logCounts.get(name) ?? new Map<string, number>();
    logCounts.set(name, counts);
    const log = (line: LogLine): void => {
      let key = line.event;
      if (line.event === "relay_publish") key = `relay_publish:${String(line["kind"])}:${Number(line["accepted"]) > 0 ? "ok" : "failed"}`;
      if (line.event === "event_rejected") key = `event_rejected:${String(line["error"]).slice(0, 90)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    };
    // The app's default timings; no agent API (nothing listens on port 9).
    return AppCore.create({ secretStore: new FileSecretStore(dataDir), dataDir, defaultRelays: [relayUrl], agentApiUrl: "http://127.0.0.1:9", log });
  };
  const waitFor = (core: AppCore, predicate: (s: AppState) => boolean, timeoutMs = 20_000): Promise<StateSnapshot> =>
    new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        stop();
        reject(new Error(`state not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      const stop = core.subscribe(
        foldPushes((snapshot) => {
          if (done || !predicate(snapshot.state)) return;
          done = true;
          clearTimeout(timer);
          queueMicrotask(() => stop());
          resolve(snapshot);
        }),
      );
    });
  /**
   * Resolves when `count()` reaches `target`, or after STALL_MS without progress (a change of `count()`
   * or of `progress()`), with the time `count()` last changed.
   */
  const waitForCount = (count: () => number, target: number, progress: () => number = () => 0): Promise<number> =>
    new Promise((resolve) => {
      let last = -1;
      let lastProgress = -1;
      let lastChange = performance.now();
      let lastMove = lastChange;
      const check = (): void => {
        const value = count();
        if (value !== last) {
          last = value;
          lastChange = performance.now();
          lastMove = lastChange;
        }
        if (progress() !== lastProgress) {
          lastProgress = progress();
          lastMove = performance.now();
        }
        if (value >= target || performance.now() - lastMove > STALL_MS) resolve(lastChange);
        else setTimeout(check, 2);
      };
      check();
    });
  const authOf = (core: AppCore): { pubkey: string; npub: string } => {
    const auth = core.snapshot().state.auth;
    return auth.status === "logged_in" ? auth : { pubkey: "", npub: "" };
  };
  const countSent = (core: AppCore, name: string): number => {
    const db = new Database(accountDatabasePath(join(dir, name), authOf(core).pubkey), { readonly: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM messages WHERE status = 'sent'").get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  const rejections = (name: string): Array<[string, number]> => [...(logCounts.get(name) ?? [])].filter(([key]) => key.startsWith("event_rejected"));

  /** A direct chat between two fresh accounts, warmed up, with the second one offline. */
  const openPair = async (relayUrl: string, senderName: string, receiverName: string) => {
    const sender = await makeCore(senderName, relayUrl);
    const receiver = await makeCore(receiverName, relayUrl);
    cores.push(sender, receiver);
    for (const core of [sender, receiver]) await core.dispatch({ type: "CreateAccount" });
    for (const core of [sender, receiver]) await waitFor(core, (s) => s.auth.status === "logged_in" && s.key_package.published && s.network.status === "online");
    await sender.dispatch({ type: "CreateChat", peer: authOf(receiver).npub });
    const chatId = (await waitFor(sender, (s) => s.open_chat !== null && !s.busy.creating_chat)).state.open_chat!.chat_id;
    const invite = (await waitFor(receiver, (s) => s.invites.length === 1)).state.invites[0]!;
    await receiver.dispatch({ type: "AcceptInvite", invite_id: invite.id });
    await waitFor(receiver, (s) => s.open_chat?.chat_id === chatId);
    for (const text of texts(WARMUP, "warmup")) await sender.dispatch({ type: "SendMessage", chat_id: chatId, text });
    await waitFor(receiver, (s) => s.open_chat?.messages.some((m) => m.text.startsWith(`warmup ${WARMUP - 1}:`)) ?? false);
    await receiver.dispatch({ type: "SetNetworkEnabled", enabled: false });
    await waitFor(receiver, (s) => s.network.status === "off");
    return { sender, receiver, chatId };
  };

  /** 2,000 SendMessage dispatched at once; done when the relay accepted every kind 445. */
  const measureSend = async (core: AppCore, name: string, chatId: string, tag: string) => {
    const counts = logCounts.get(name)!;
    const accepted = (): number => counts.get("relay_publish:445:ok") ?? 0;
    const failed = (): number => counts.get("relay_publish:445:failed") ?? 0;
    const acceptedBefore = accepted();
    const failedBefore = failed();
    const sentBefore = countSent(core, name);
    let pushes = -1;
    const stop = core.subscribe(() => (pushes += 1));
    const batch = texts(MESSAGES, tag);
    const lastText = batch.at(-1)!;
    const t0 = performance.now();
    const shownAt = firstShown(core, (s) => s.open_chat?.messages.at(-1)?.text === lastText && s.open_chat.messages.every((m) => m.status !== "pending"), t0);
    for (const text of batch) await core.dispatch({ type: "SendMessage", chat_id: chatId, text });
    const dispatchSeconds = elapsed(t0);
    const seconds = ((await waitForCount(() => accepted() - acceptedBefore + failed() - failedBefore, MESSAGES)) - t0) / 1000;
    const shown = await shownAt();
    stop();
    const sent = countSent(core, name) - sentBefore;
    return { seconds, dispatchSeconds, shown, pushes, sent, failed: failed() - failedBefore, lastText, rate: sent / seconds };
  };

  /** When `predicate` first holds in a pushed state, in seconds since `t0` (NaN if not within `graceMs` of `after`). */
  const firstShown = (core: AppCore, predicate: (s: AppState) => boolean, t0: number) => {
    let at = NaN;
    const stop = core.subscribe(
      foldPushes((snapshot) => {
        if (Number.isNaN(at) && predicate(snapshot.state)) at = elapsed(t0);
      }),
    );
    return async (graceMs = 5_000): Promise<number> => {
      const deadline = performance.now() + graceMs;
      while (Number.isNaN(at) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      stop();
      return at;
    };
  };

  /** Starts the receiver with `start` and waits for `target` message_received events (stored) and for `shown` in a push. */
  const measureReceive = async (start: () => Promise<AppCore>, target: number, shown: (s: AppState) => boolean) => {
    let stored = 0;
    let pushes = 0;
    const t0 = performance.now();
    const core = await start();
    const stopEvents = core.onEvent((event) => {
      if (event.type === "message_received") stored += 1;
    });
    let synced = 0;
    const stopPushes = core.subscribe(() => {
      pushes += 1;
      synced = core.snapshot().state.sync?.done ?? synced;
    });
    pushes -= 1; // subscribe() calls back at once with the current snapshot
    const visibleAt = firstShown(core, shown, t0);
    // A catch-up stores a chunk of thousands at once: its "Syncing" progress counts as progress too.
    const seconds = ((await waitForCount(() => stored, target, () => synced)) - t0) / 1000;
    const storedCount = stored;
    const visible = await visibleAt();
    const pushCount = pushes;
    stopPushes();
    stopEvents();
    return { core, seconds, stored: storedCount, visible, pushes: pushCount, rate: storedCount / seconds };
  };
  const describeReceive = (r: { seconds: number; stored: number; visible: number }, target: number, what: string): string =>
    `${what}: ${r.stored}/${target} stored after ${r.seconds.toFixed(2)} s${r.stored < target ? `, then nothing more for ${STALL_MS / 1000} s (rate = stored / time to the last one)` : ""}; last one shown after ${Number.isNaN(r.visible) ? "never (5 s wait)" : `${r.visible.toFixed(2)} s`}`;

  // 3. The embedded relay (server/relay/relay.ts), as the app uses it.
  const realRelay = await startChildRelay(join(dir, "relay.sqlite"));
  childRelays.push(realRelay);
  const cpuBefore = realRelay.cpu();
  const t = performance.now();
  const ingested = await publishAll(realRelay.url, inProcess.events);
  const relayIngest = ingested / elapsed(t);
  const cpuAfter = realRelay.cpu();
  const ingestCpu =
    cpuBefore && cpuAfter
      ? `relay CPU per event during ingest: main thread ${(((cpuAfter.main - cpuBefore.main) * 1e6) / ingested).toFixed(0)} µs, its other threads (signature workers) ${(((cpuAfter.others - cpuBefore.others) * 1e6) / ingested).toFixed(0)} µs`
      : "relay CPU per event: not measured (no /proc)";
  const real = await openPair(realRelay.url, "alice", "bob");
  const realSend = await measureSend(real.sender, "alice", real.chatId, "core");
  const realReceive = await measureReceive(
    async () => {
      await real.receiver.dispatch({ type: "SetNetworkEnabled", enabled: true });
      return real.receiver;
    },
    MESSAGES,
    (s) => s.open_chat?.messages.at(-1)?.text === realSend.lastText,
  );
  section(
    `Burrow FULL PIPELINES, two real AppCores + the EMBEDDED RELAY (server/relay/relay.ts in its own process, ws://127.0.0.1; relay round trips included), ${MESSAGES} messages`,
    [
      { name: "messaging.relay_ingest_ceiling", value: relayIngest, unit: "msgs/s" },
      { name: "messaging.core_send_via_relay", value: realSend.rate, unit: "msgs/s", ratio: realSend.rate / baseline.encrypt },
      { name: "messaging.core_send_via_relay_state_pushes", value: realSend.pushes, unit: "pushes" },
      { name: "messaging.core_receive_via_relay", value: realReceive.rate, unit: "msgs/s", ratio: realReceive.rate / baseline.decrypt },
      { name: "messaging.core_receive_via_relay_stored", value: realReceive.stored, unit: "messages" },
      { name: "messaging.core_receive_via_relay_state_pushes", value: realReceive.pushes, unit: "pushes" },
    ],
    [
      `relay ingest ceiling: ${inProcess.events.length} pre-signed kind 445 published over one connection, 256 in flight: ${relayIngest.toFixed(0)} events/s (the relay alone)`,
      ingestCpu,
      `send: dispatched in ${realSend.dispatchSeconds.toFixed(2)} s; ${realSend.sent}/${MESSAGES} relay-accepted ("sent") after ${realSend.seconds.toFixed(2)} s; last one shown as sent after ${Number.isNaN(realSend.shown) ? "never" : `${realSend.shown.toFixed(2)} s`}; ${realSend.failed} failed publishes`,
      describeReceive(realReceive, MESSAGES, "receive (offline during the send, then network on)"),
      ...rejections("bob").map(([key, n]) => `  bob ${key}: ${n}`),
      `targets: receive ≥ 800 msgs/s, send ≥ 600 msgs/s; ratio = core / baseline (send vs encrypt, receive vs decrypt)`,
    ],
  );
  await real.sender.close();
  await real.receiver.close();
  cores.length = 0;
  await realRelay.close();

  // 4. The same through the stub relay (bench/stubRelay.ts): no REQ limit, stored order, no ingest ceiling.
  const stubRelay = await startChildRelay("", true);
  childRelays.push(stubRelay);
  const stub = await openPair(stubRelay.url, "carol", "dave");
  const stubSend = await measureSend(stub.sender, "carol", stub.chatId, "stub");
  const stubReceive = await measureReceive(
    async () => {
      await stub.receiver.dispatch({ type: "SetNetworkEnabled", enabled: true });
      return stub.receiver;
    },
    MESSAGES,
    (s) => s.open_chat?.messages.at(-1)?.text === stubSend.lastText,
  );
  const carolPubkey = authOf(stub.sender).pubkey;
  await stub.sender.close();
  await stub.receiver.close();
  cores.length = 0;

  // Backlog: built straight through the marmot layer from Carol's stored group state, Dave's core starts fresh.
  const backlog = await (async () => {
    const store = AccountStore.open(join(dir, "carol"), carolPubkey);
    const row = store.getGroup(stub.chatId)!;
    store.close();
    let state = deserializeGroupState(row.state);
    const keys = new EpochKeyCache(5);
    const backlogTexts = texts(BACKLOG, "backlog");
    let t0 = performance.now();
    const events: NostrEvent[] = [];
    for (const text of backlogTexts) {
      const sent = await sendRumor(state, keys, chatMessageRumor(carolPubkey, text));
      state = sent.state;
      events.push(sent.event);
    }
    const buildSeconds = elapsed(t0);
    t0 = performance.now();
    const accepted = await publishAll(stubRelay.url, events);
    return { buildSeconds, accepted, publishSeconds: elapsed(t0), last: backlogTexts.at(-1)! };
  })();
  const backlogReceive = await measureReceive(
    async () => {
      const core = await makeCore("dave", stubRelay.url);
      cores.push(core);
      return core;
    },
    BACKLOG,
    (s) => s.chats.find((c) => c.id === stub.chatId)?.last_message === backlog.last,
  );
  section(
    `Burrow FULL PIPELINES, two real AppCores + a STUB RELAY (bench/stubRelay.ts in its own process: every stored event per REQ in publish order, no ingest cost) — the core's own cost`,
    [
      { name: "messaging.core_send_stub_relay", value: stubSend.rate, unit: "msgs/s", ratio: stubSend.rate / baseline.encrypt },
      { name: "messaging.core_send_stub_relay_state_pushes", value: stubSend.pushes, unit: "pushes" },
      { name: "messaging.core_receive_stub_relay", value: stubReceive.rate, unit: "msgs/s", ratio: stubReceive.rate / baseline.decrypt },
      { name: "messaging.core_receive_stub_relay_stored", value: stubReceive.stored, unit: "messages" },
      { name: "messaging.core_receive_stub_relay_state_pushes", value: stubReceive.pushes, unit: "pushes" },
      { name: "messaging.backlog_10k_stub_relay_seconds", value: backlogReceive.seconds, unit: "s" },
      { name: "messaging.backlog_10k_stub_relay_stored", value: backlogReceive.stored, unit: "messages" },
      { name: "messaging.backlog_10k_stub_relay_rate", value: backlogReceive.rate, unit: "msgs/s" },
      { name: "messaging.backlog_10k_stub_relay_state_pushes", value: backlogReceive.pushes, unit: "pushes" },
    ],
    [
      `send: dispatched in ${stubSend.dispatchSeconds.toFixed(2)} s; ${stubSend.sent}/${MESSAGES} accepted ("sent") after ${stubSend.seconds.toFixed(2)} s; last one shown as sent after ${Number.isNaN(stubSend.shown) ? "never" : `${stubSend.shown.toFixed(2)} s`}; ${stubSend.failed} failed publishes`,
      describeReceive(stubReceive, MESSAGES, "receive (offline during the send, then network on)"),
      describeReceive(backlogReceive, BACKLOG, `backlog of ${BACKLOG} from AppCore.create (fresh start; pushes counted after create returned)`),
      `  (backlog built with the marmot layer in ${backlog.buildSeconds.toFixed(2)} s = ${(BACKLOG / backlog.buildSeconds).toFixed(0)} msgs/s encrypt+wrap+sign; stub accepted ${backlog.accepted} in ${backlog.publishSeconds.toFixed(2)} s)`,
      ...rejections("dave").map(([key, n]) => `  dave ${key}: ${n}`),
      `targets: receive ≥ 800 msgs/s, send ≥ 600 msgs/s; backlog < 5 s with O(1) pushes per burst`,
    ],
  );
  await backlogReceive.core.close();
  cores.length = 0;
  await stubRelay.close();

  // ───────────── 5. Group creation with fresh KeyPackages (marmot layer createGroup / addMembers) ─────────────
  const groupRows: Measurement[] = [];
  const groupLines: string[] = [];
  const creator = getPublicKey(generateSecretKey());
  const creatorBundle = await generateKeyPackage(creator);
  const relays = ["wss://relay.example.org"];
  const welcomeSizes = (welcome: NonNullable<Awaited<ReturnType<typeof addMembers>>["welcome"]>): string => {
    const sizes = giftWrapSizes(welcomeRumor(welcome, { senderPubkey: creator, keyPackageEventId: "0".repeat(64), relays }));
    return `kind 444 rumor ${sizes.rumor} B, seal ${sizes.seal} B (NIP-44 plaintext limit ${NIP44_MAX_PLAINTEXT} B per layer)`;
  };
  for (const size of skipped.has("groups") ? [] : GROUP_SIZES) {
    const members: KeyPackage[] = [];
    for (let i = 1; i < size; i++) members.push((await generateKeyPackage(getPublicKey(generateSecretKey()))).publicPackage);
    const freshCreator = await generateKeyPackage(creator);
    const t0 = performance.now();
    try {
      const created = await createGroup({ creatorPubkey: creator, creatorKeyPackage: freshCreator, members, name: `bench ${size}`, relays });
      const ms = performance.now() - t0;
      groupRows.push({ name: `messaging.group_create_${size}_members`, value: ms, unit: "ms" });
      groupLines.push(`${size} members: one commit; ${welcomeSizes(created.welcome!)}`);
      continue;
    } catch (error) {
      if (!(error instanceof MarmotError && error.code === "welcome_too_large")) throw error;
      groupRows.push({ name: `messaging.group_create_${size}_members_one_commit_refused`, value: performance.now() - t0, unit: "ms" });
      groupLines.push(`${size} members in one commit: refused (welcome_too_large: ${error.message})`);
    }
    // Batches that fit (the core halves a refused batch; this search shrinks by a fifth to find the
    // ceiling). A refused batch shrinks by a fifth (the "needs N bytes" of the error is no guide: NIP-44 pads to buckets, so the
    // wrap's size jumps); batches only shrink, as the ratchet tree in every Welcome grows with the group.
    let state = (await createGroup({ creatorPubkey: creator, creatorKeyPackage: creatorBundle, members: [], name: `bench ${size}`, relays })).state;
    let remaining = members;
    let chunk = remaining.length;
    let commitMs = 0;
    let refusedMs = 0;
    let refusals = 0;
    const batchSizes: number[] = [];
    let stuck: string | null = null;
    let lastWelcome = "";
    while (remaining.length > 0) {
      chunk = Math.min(chunk, remaining.length);
      const t1 = performance.now();
      try {
        const outcome = await addMembers(state, remaining.slice(0, chunk));
        commitMs += performance.now() - t1;
        state = outcome.state;
        lastWelcome = welcomeSizes(outcome.welcome!);
        batchSizes.push(chunk);
        remaining = remaining.slice(chunk);
      } catch (error) {
        if (!(error instanceof MarmotError && error.code === "welcome_too_large")) throw error;
        refusedMs += performance.now() - t1;
        refusals += 1;
        if (chunk === 1) {
          stuck = error.message;
          break;
        }
        chunk = Math.max(1, Math.min(chunk - 1, Math.floor(chunk * 0.8)));
      }
    }
    const reached = groupMembers(state).length;
    groupRows.push(
      { name: `messaging.group_create_${size}_members_batched`, value: commitMs, unit: "ms" },
      { name: `messaging.group_create_${size}_members_batched_refused_tries`, value: refusedMs, unit: "ms" },
      { name: `messaging.group_create_${size}_members_batched_commits`, value: batchSizes.length, unit: "commits" },
      { name: `messaging.group_create_${size}_members_batched_reached`, value: reached, unit: "members" },
    );
    groupLines.push(
      `${size} members in the largest batches that fit (bench-only search): ${batchSizes.length} commits adding [${batchSizes.join(", ")}] in ${commitMs.toFixed(0)} ms (+ ${refusals} refused tries, ${refusedMs.toFixed(0)} ms); group reached ${reached}/${size} members` +
        (stuck ? `; stuck: not even one more member fits (${stuck})` : "") +
        `; last accepted Welcome: ${lastWelcome}`,
    );
  }
  if (groupRows.length > 0) section("Group creation: createGroup / addMembers with fresh KeyPackages (commit + Welcome built and size-checked, nothing published)", groupRows, groupLines);
  notes.push(`total runtime ${elapsed(started).toFixed(1)} s`);
} finally {
  for (const core of cores) await core.close();
  for (const child of childRelays) await child.close();
  await rm(dir, { recursive: true, force: true });
}

for (const note of notes) console.log(`\n${note}`);
await recordResults(results);
