// Integration: real cores, real MLS, the embedded relay, the crypto pool's real workers. A catch-up's
// signatures are checked in worker threads ahead of MLS: a bad one among good ones is refused and the
// rest stored in order (a gift wrap too is refused), and a worker dying in the middle of a catch-up
// loses nothing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Worker } from "node:worker_threads";
import WebSocket, { WebSocketServer } from "ws";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { AppState } from "../../shared/state.js";
import type { AppCore, LogLine } from "../app/appCore.js";
import { CryptoPool, GIFT_WRAP_KIND, GROUP_EVENT_KIND, setSharedCryptoPool, type NostrEvent } from "../marmot/index.js";
import { AccountStore } from "../storage/accountStore.js";
import { coreIn, tempDir, waitForState } from "../testing.js";

const auth = (state: AppState): { npub: string; pubkey: string } =>
  state.auth.status === "logged_in" ? { npub: state.auth.npub, pubkey: state.auth.pubkey } : { npub: "", pubkey: "" };

/** Every stored event of `filter` on the relay at `url`. */
function relayEvents(url: string, filter: Record<string, unknown>): Promise<NostrEvent[]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const events: NostrEvent[] = [];
    socket.on("open", () => socket.send(JSON.stringify(["REQ", "dump", { ...filter, limit: 5_000 }])));
    socket.on("message", (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as [string, ...unknown[]];
      if (frame[0] === "EVENT") events.push(frame[2] as NostrEvent);
      if (frame[0] === "EOSE") {
        socket.close();
        resolve(events);
      }
    });
    socket.on("error", reject);
  });
}

/** A relay in front of `upstream` that breaks the signature of the events `corrupt` picks on their way to its clients. */
async function corruptingRelay(upstream: string, corrupt: (event: NostrEvent) => boolean, delayMs = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  server.on("connection", (client) => {
    const relay = new WebSocket(upstream);
    const queued: string[] = [];
    relay.on("open", () => {
      for (const frame of queued.splice(0)) relay.send(frame);
    });
    client.on("message", (data: WebSocket.RawData) => {
      if (relay.readyState === WebSocket.OPEN) relay.send(data.toString());
      else queued.push(data.toString());
    });
    relay.on("message", (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as unknown[];
      const event = frame[0] === "EVENT" ? (frame[2] as NostrEvent) : null;
      if (event && corrupt(event)) frame[2] = { ...event, sig: `${event.sig[0] === "0" ? "1" : "0"}${event.sig.slice(1)}` };
      const forward = (): void => {
        if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify(frame));
      };
      if (delayMs > 0) setTimeout(forward, delayMs);
      else forward();
    });
    const closeBoth = (): void => {
      client.close();
      relay.close();
    };
    for (const socket of [client, relay]) {
      socket.on("close", closeBoth);
      socket.on("error", closeBoth);
    }
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

describe("integration: signatures checked in the crypto pool during a catch-up", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  const cores = new Set<AppCore>();
  const closers: Array<() => Promise<unknown>> = [];

  before(async () => {
    dir = await tempDir("burrow-signatures-");
    relay = await startRelay({ port: 0 });
  });
  after(async () => {
    for (const core of cores) await core.close();
    for (const close of closers) await close();
    await relay.close();
    await dir.remove();
  });

  const open = async (name: string, relays: string[], log?: (line: LogLine) => void): Promise<AppCore> => {
    const core = await coreIn(`${dir.path}/${name}`, 5, relays, undefined, undefined, log ? { log } : {});
    cores.add(core);
    await core.dispatch({ type: "CreateAccount" });
    await waitForState(core, (s) => s.auth.status === "logged_in" && s.key_package.published && s.network.status === "online", 15_000);
    return core;
  };

  /** Alice and Bob in a direct chat, Bob offline; returns the chat id. */
  const offlinePair = async (alice: AppCore, bob: AppCore): Promise<string> => {
    await alice.dispatch({ type: "CreateChat", peer: auth(bob.snapshot().state).npub });
    const chatId = (await waitForState(alice, (s) => s.open_chat !== null && !s.busy.creating_chat, 15_000)).state.open_chat!.chat_id;
    const invite = (await waitForState(bob, (s) => s.invites.length === 1, 15_000)).state.invites[0]!;
    await bob.dispatch({ type: "AcceptInvite", invite_id: invite.id });
    await waitForState(bob, (s) => s.chats.some((c) => c.id === chatId), 15_000);
    await bob.dispatch({ type: "SetNetworkEnabled", enabled: false });
    await waitForState(bob, (s) => s.network.status === "off", 10_000);
    return chatId;
  };

  const sendAll = async (core: AppCore, chatId: string, texts: string[]): Promise<void> => {
    for (const text of texts) await core.dispatch({ type: "SendMessage", chat_id: chatId, text });
    const last = texts.at(-1)!;
    await waitForState(core, (s) => s.open_chat?.messages.some((m) => m.text === last && m.status === "sent") === true && s.open_chat.messages.every((m) => m.status !== "pending"), 30_000);
  };

  /** Bob back online until `last` is stored; then the chat's texts as his store has them, oldest first. */
  const catchUp = async (name: string, bob: AppCore, chatId: string, last: string): Promise<string[]> => {
    await bob.dispatch({ type: "SetNetworkEnabled", enabled: true });
    await bob.dispatch({ type: "OpenChat", chat_id: chatId });
    await waitForState(bob, (s) => s.open_chat?.messages.some((m) => m.text === last) === true && s.sync === null, 30_000);
    const pubkey = auth(bob.snapshot().state).pubkey;
    await bob.close();
    cores.delete(bob);
    const store = AccountStore.open(`${dir.path}/${name}`, pubkey);
    try {
      return store.listMessages(chatId, { limit: 5_000 }).messages.map((m) => m.content);
    } finally {
      store.close();
    }
  };

  test("a_bad_signature_in_the_middle_of_a_catch_up_is_refused_and_the_rest_stored_in_order", async () => {
    const corrupt = new Set<string>();
    const faulty = await corruptingRelay(relay.url, (event) => corrupt.has(event.id));
    closers.push(faulty.close);
    const rejected: LogLine[] = [];
    const alice = await open("alice1", [relay.url]);
    const bob = await open("bob1", [faulty.url], (line) => {
      if (line.event === "event_rejected") rejected.push(line);
    });
    const chatId = await offlinePair(alice, bob);

    const before = Array.from({ length: 20 }, (_, i) => `before ${i}`);
    const later = Array.from({ length: 20 }, (_, i) => `after ${i}`);
    await sendAll(alice, chatId, before);
    const known = new Set((await relayEvents(relay.url, { kinds: [GROUP_EVENT_KIND], "#h": [chatId] })).map((e) => e.id));
    await sendAll(alice, chatId, ["the corrupted one"]);
    const target = (await relayEvents(relay.url, { kinds: [GROUP_EVENT_KIND], "#h": [chatId] })).filter((e) => !known.has(e.id));
    assert.equal(target.length, 1, "one new kind 445 on the relay");
    corrupt.add(target[0]!.id);
    await sendAll(alice, chatId, later);

    const stored = await catchUp("bob1", bob, chatId, later.at(-1)!);
    assert.deepEqual(stored, [...before, ...later], "every good message, in the order sent; not the one with the broken signature");
    const refusal = rejected.filter((line) => line["id"] === target[0]!.id.slice(0, 12));
    assert.equal(refusal.length, 1, "the broken one is refused once, and logged");
    assert.match(String(refusal[0]!["error"]), /signature/);
    assert.equal(refusal[0]!["kind"], GROUP_EVENT_KIND);
  });

  test("a_broken_copy_of_a_real_event_from_one_relay_does_not_hide_the_real_one_from_another", async () => {
    const corrupt = new Set<string>();
    const faulty = await corruptingRelay(relay.url, (event) => corrupt.has(event.id));
    // The genuine copies come through a slower relay: the broken one is read first.
    const slow = await corruptingRelay(relay.url, () => false, 300);
    closers.push(faulty.close, slow.close);
    const rejected: LogLine[] = [];
    const alice = await open("alice4", [relay.url]);
    const bob = await open("bob4", [faulty.url, slow.url], (line) => {
      if (line.event === "event_rejected") rejected.push(line);
    });
    const chatId = await offlinePair(alice, bob);
    await sendAll(alice, chatId, ["first"]);
    const known = new Set((await relayEvents(relay.url, { kinds: [GROUP_EVENT_KIND], "#h": [chatId] })).map((e) => e.id));
    await sendAll(alice, chatId, ["broken on one relay"]);
    const target = (await relayEvents(relay.url, { kinds: [GROUP_EVENT_KIND], "#h": [chatId] })).filter((e) => !known.has(e.id));
    assert.equal(target.length, 1);
    corrupt.add(target[0]!.id);
    await sendAll(alice, chatId, ["last"]);

    const stored = await catchUp("bob4", bob, chatId, "last");
    assert.deepEqual(stored, ["first", "broken on one relay", "last"], "the genuine copy is read though a broken one with its id came first");
    assert.ok(rejected.some((line) => line["id"] === target[0]!.id.slice(0, 12)), "the broken copy was read and refused");
  });

  test("a_gift_wrap_with_a_broken_signature_is_refused_and_no_invitation_appears", async () => {
    const faulty = await corruptingRelay(relay.url, (event) => event.kind === GIFT_WRAP_KIND);
    closers.push(faulty.close);
    const rejected: LogLine[] = [];
    const alice = await open("alice3", [relay.url]);
    const carol = await open("carol3", [faulty.url], (line) => {
      if (line.event === "event_rejected") rejected.push(line);
    });
    await alice.dispatch({ type: "CreateChat", peer: auth(carol.snapshot().state).npub });
    await waitForState(alice, (s) => s.open_chat !== null && !s.busy.creating_chat, 15_000);
    const deadline = Date.now() + 10_000;
    while (!rejected.some((line) => line["kind"] === GIFT_WRAP_KIND) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const refusal = rejected.find((line) => line["kind"] === GIFT_WRAP_KIND);
    assert.ok(refusal, "the gift wrap arrived and was refused");
    assert.match(String(refusal["error"]), /signature/);
    assert.deepEqual(carol.snapshot().state.invites, [], "no invitation from a wrap whose signature does not verify");
  });

  test("a_worker_dying_in_the_middle_of_a_catch_up_loses_nothing", async () => {
    const alice = await open("alice2", [relay.url]);
    const bob = await open("bob2", [relay.url]);
    const chatId = await offlinePair(alice, bob);
    // More than two of the receive batch's signature slices, so jobs are in flight when workers die.
    const texts = Array.from({ length: 600 }, (_, i) => `message ${i}`);
    await sendAll(alice, chatId, texts);

    // Real crypto workers, each killed as soon as it has answered one job (others are in flight then).
    let posted = 0;
    let answered = 0;
    const workerUrl = new URL("../marmot/cryptoWorker.js", import.meta.url);
    const dying = new CryptoPool({
      size: 2,
      minPart: 8,
      spawn: () => {
        const worker = new Worker(workerUrl);
        const post = worker.postMessage.bind(worker);
        worker.postMessage = (job: unknown) => {
          posted += 1;
          post(job);
        };
        worker.once("message", () => {
          answered += 1;
          void worker.terminate();
        });
        return worker;
      },
    });
    const previous = setSharedCryptoPool(dying);
    closers.push(async () => {
      if (previous) setSharedCryptoPool(previous);
      await dying.close();
    });
    const stored = await catchUp("bob2", bob, chatId, texts.at(-1)!);
    assert.deepEqual(stored, texts, "every message, in the order sent");
    assert.ok(answered >= 1 && posted > answered, `workers died with jobs in flight (${posted} posted, ${answered} answered)`);
  });
});
