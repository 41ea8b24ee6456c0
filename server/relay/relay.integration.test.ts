import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { finalizeEvent, generateSecretKey, getPublicKey } from "nostr-tools/pure";
import type { Event, EventTemplate } from "nostr-tools/pure";
import { WebSocket } from "ws";
import { startRelay } from "./relay.js";
import type { RelayOptions, RunningRelay } from "./relay.js";

type Message = unknown[];
type Filter = Record<string, unknown>;

const WAIT_MS = 3000;

/** A raw NIP-01 client: every message it receives is kept, and waits look back as well as forward. */
class TestClient {
  private readonly received: Message[] = [];
  private readonly waiters = new Set<() => void>();
  private subscriptionCount = 0;
  /** The close code, once the connection has closed. */
  readonly closed: Promise<number>;

  private constructor(private readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once("close", (code) => resolve(code)));
    ws.on("message", (data) => {
      this.received.push(JSON.parse(String(data)) as Message);
      for (const wake of this.waiters) wake();
    });
  }

  static async connect(url: string): Promise<TestClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new TestClient(ws);
  }

  /** Calls `listener` with every message from now on. */
  onMessage(listener: (message: Message) => void): void {
    this.ws.on("message", (data) => listener(JSON.parse(String(data)) as Message));
  }

  /** Every message received so far. */
  allReceived(): Message[] {
    return [...this.received];
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  send(message: Message): void {
    this.sendRaw(JSON.stringify(message));
  }

  /** The first message from index `from` on, received or still to come, that satisfies `predicate`. */
  async waitFor(predicate: (message: Message) => boolean, what: string, from = 0, timeoutMs = WAIT_MS): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.received.slice(from).find(predicate);
        if (found === undefined) return false;
        this.waiters.delete(wake);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(wake);
    });
  }

  /** Sends an EVENT and returns its OK: [accepted, reason]. */
  async publish(event: Event): Promise<[boolean, string]> {
    const from = this.received.length;
    this.send(["EVENT", event]);
    const ok = await this.waitFor((m) => m[0] === "OK" && m[1] === event.id, `OK for ${event.id}`, from);
    return [ok[2] as boolean, ok[3] as string];
  }

  /** Sends every EVENT at once, then waits for all their OKs: id → [accepted, reason]. */
  async publishBurst(events: Event[], timeoutMs = 30_000): Promise<Map<string, [boolean, string]>> {
    const from = this.received.length;
    for (const event of events) this.send(["EVENT", event]);
    const wanted = new Set(events.map((event) => event.id));
    const answers = new Map<string, [boolean, string]>();
    await this.waitFor(
      (m) => {
        if (m[0] === "OK" && wanted.has(m[1] as string) && !answers.has(m[1] as string)) answers.set(m[1] as string, [m[2] as boolean, m[3] as string]);
        return answers.size === wanted.size;
      },
      `OKs for ${wanted.size} events`,
      from,
      timeoutMs,
    );
    return answers;
  }

  /** How many OKs arrived for `eventId`. */
  okCount(eventId: string): number {
    return this.received.filter((m) => m[0] === "OK" && m[1] === eventId).length;
  }

  async publishAccepted(event: Event): Promise<void> {
    const [accepted, reason] = await this.publish(event);
    assert.equal(accepted, true, `event refused: ${reason}`);
  }

  /** Opens a subscription and waits for its EOSE. */
  async subscribe(filters: Filter[]): Promise<string> {
    const id = `sub${++this.subscriptionCount}`;
    this.send(["REQ", id, ...filters]);
    await this.waitFor((m) => m[0] === "EOSE" && m[1] === id, `EOSE of ${id}`);
    return id;
  }

  /** Events received so far on a subscription, stored and live. */
  eventsOf(subscriptionId: string): Event[] {
    return this.received.filter((m) => m[0] === "EVENT" && m[1] === subscriptionId).map((m) => m[2] as Event);
  }

  async waitForEvent(subscriptionId: string, eventId: string): Promise<void> {
    await this.waitFor((m) => m[0] === "EVENT" && m[1] === subscriptionId && (m[2] as Event).id === eventId, `event ${eventId} on ${subscriptionId}`);
  }

  /** The stored events matching `filters`. */
  async query(filters: Filter[]): Promise<Event[]> {
    const id = await this.subscribe(filters);
    this.send(["CLOSE", id]);
    return this.eventsOf(id);
  }

  async close(): Promise<void> {
    this.ws.close();
    await this.closed;
  }
}

class Author {
  private readonly secretKey = generateSecretKey();
  readonly pubkey = getPublicKey(this.secretKey);

  sign(kind: number, tags: string[][] = [], content = "", createdAt = now()): Event {
    const template: EventTemplate = { kind, tags, content, created_at: createdAt };
    const { id, pubkey, created_at, sig } = finalizeEvent(template, this.secretKey);
    // Only the wire fields: finalizeEvent also marks the object with a symbol, which deepEqual would compare.
    return { id, pubkey, created_at, kind, tags, content, sig };
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function ids(events: Event[]): string[] {
  return events.map((event) => event.id).sort();
}

describe("embedded relay", () => {
  let relay: RunningRelay;
  const clients: TestClient[] = [];
  const connect = async (): Promise<TestClient> => {
    const client = await TestClient.connect(relay.url);
    clients.push(client);
    return client;
  };

  before(async () => {
    relay = await startRelay({ port: 0, maxEventBytes: 4096 });
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await relay.close();
  });

  test("listens on 127.0.0.1 at the port it reports", () => {
    assert.match(relay.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(relay.url, `ws://127.0.0.1:${relay.port}`);
  });

  test("a published event is returned by a query", async () => {
    const client = await connect();
    const alice = new Author();
    const note = alice.sign(1, [], "hello");
    await client.publishAccepted(note);

    assert.deepEqual(await client.query([{ ids: [note.id] }]), [note]);
    assert.deepEqual(ids(await client.query([{ authors: [alice.pubkey], kinds: [1] }])), [note.id]);
  });

  test("since, until and limit narrow a query, newest first", async () => {
    const client = await connect();
    const alice = new Author();
    const base = now() - 1000;
    const [old, middle, recent] = [alice.sign(1, [], "a", base), alice.sign(1, [], "b", base + 10), alice.sign(1, [], "c", base + 20)];
    for (const event of [old, middle, recent]) await client.publishAccepted(event);
    const mine = { authors: [alice.pubkey], kinds: [1] };

    assert.deepEqual(ids(await client.query([{ ...mine, since: base + 5 }])), ids([middle, recent]));
    assert.deepEqual(ids(await client.query([{ ...mine, until: base + 15 }])), ids([old, middle]));
    assert.deepEqual(await client.query([{ ...mine, limit: 1 }]), [recent]);
  });

  test("a live subscriber to #h=X gets events tagged h=X and not those tagged h=Y", async () => {
    const subscriber = await connect();
    const publisher = await connect();
    const member = new Author();
    const [groupX, groupY] = ["aa".repeat(32), "bb".repeat(32)];
    const subscription = await subscriber.subscribe([{ kinds: [445], "#h": [groupX] }]);

    const forY = member.sign(445, [["h", groupY]], "ciphertext for Y");
    const forX = member.sign(445, [["h", groupX]], "ciphertext for X");
    await publisher.publishAccepted(forY);
    await publisher.publishAccepted(forX);

    // Delivery follows publication order, so once X's event is here, Y's would have been too.
    await subscriber.waitForEvent(subscription, forX.id);
    assert.deepEqual(ids(subscriber.eventsOf(subscription)), [forX.id]);
    assert.deepEqual(ids(await subscriber.query([{ kinds: [445], "#h": [groupY] }])), [forY.id]);
  });

  test("gift wraps (kind 1059) are stored and filtered by #p, live and stored", async () => {
    const client = await connect();
    const wrapper = new Author();
    const [bob, carol] = [new Author(), new Author()];
    const live = await client.subscribe([{ kinds: [1059], "#p": [bob.pubkey] }]);

    const toCarol = wrapper.sign(1059, [["p", carol.pubkey]], "sealed for carol");
    const toBob = wrapper.sign(1059, [["p", bob.pubkey]], "sealed for bob");
    await client.publishAccepted(toCarol);
    await client.publishAccepted(toBob);

    await client.waitForEvent(live, toBob.id);
    assert.deepEqual(ids(client.eventsOf(live)), [toBob.id]);
    assert.deepEqual(ids(await client.query([{ kinds: [1059], "#p": [bob.pubkey] }])), [toBob.id]);
  });

  test("an addressable event (kind 30443) is replaced by a newer one with the same d, not by an older one", async () => {
    const client = await connect();
    const alice = new Author();
    const t = now() - 100;
    const first = alice.sign(30443, [["d", "slot-1"]], "key package 1", t);
    const newer = alice.sign(30443, [["d", "slot-1"]], "key package 2", t + 10);
    const stale = alice.sign(30443, [["d", "slot-1"]], "key package 0", t - 10);
    const otherSlot = alice.sign(30443, [["d", "slot-2"]], "key package 3", t);
    for (const event of [first, newer, stale, otherSlot]) await client.publishAccepted(event);

    assert.deepEqual(await client.query([{ kinds: [30443], authors: [alice.pubkey], "#d": ["slot-1"] }]), [newer]);
    assert.deepEqual(ids(await client.query([{ kinds: [30443], authors: [alice.pubkey] }])), ids([newer, otherSlot]));
  });

  test("replaceable events (kinds 0 and 10051) keep only the newest per author", async () => {
    const client = await connect();
    const alice = new Author();
    const t = now() - 100;
    for (const kind of [0, 10051]) {
      await client.publishAccepted(alice.sign(kind, [["relay", "ws://old"]], "old", t));
      const latest = alice.sign(kind, [["relay", "ws://new"]], "new", t + 1);
      await client.publishAccepted(latest);
      assert.deepEqual(await client.query([{ kinds: [kind], authors: [alice.pubkey] }]), [latest]);
    }
  });

  test("a deletion request removes its author's events and is itself kept", async () => {
    const client = await connect();
    const alice = new Author();
    const note = alice.sign(1, [], "regret");
    const keyPackage = alice.sign(30443, [["d", "kp"]], "key package");
    await client.publishAccepted(note);
    await client.publishAccepted(keyPackage);

    const deletion = alice.sign(5, [["e", note.id], ["a", `30443:${alice.pubkey}:kp`], ["k", "1"], ["k", "30443"]]);
    await client.publishAccepted(deletion);

    assert.deepEqual(await client.query([{ ids: [note.id, keyPackage.id] }]), []);
    assert.deepEqual(await client.query([{ kinds: [5], authors: [alice.pubkey] }]), [deletion]);
  });

  test("a deletion request cannot remove someone else's events", async () => {
    const client = await connect();
    const [alice, mallory] = [new Author(), new Author()];
    const note = alice.sign(1, [], "mine");
    const keyPackage = alice.sign(30443, [["d", "kp"]], "mine too");
    await client.publishAccepted(note);
    await client.publishAccepted(keyPackage);

    await client.publish(mallory.sign(5, [["e", note.id], ["a", `30443:${alice.pubkey}:kp`]]));

    assert.deepEqual(ids(await client.query([{ ids: [note.id, keyPackage.id] }])), ids([note, keyPackage]));
  });

  test("a deletion by address spares a version newer than the request", async () => {
    const client = await connect();
    const alice = new Author();
    const t = now() - 100;
    const keyPackage = alice.sign(30443, [["d", "kp"]], "republished", t + 10);
    await client.publishAccepted(keyPackage);

    await client.publishAccepted(alice.sign(5, [["a", `30443:${alice.pubkey}:kp`]], "", t));

    assert.deepEqual(await client.query([{ ids: [keyPackage.id] }]), [keyPackage]);
  });

  test("ephemeral events reach live subscribers and are not stored", async () => {
    const client = await connect();
    const alice = new Author();
    const live = await client.subscribe([{ kinds: [20001], authors: [alice.pubkey] }]);
    const ping = alice.sign(20001, [], "ping");
    await client.publishAccepted(ping);

    await client.waitForEvent(live, ping.id);
    assert.deepEqual(await client.query([{ ids: [ping.id] }]), []);
  });

  test("events with the NIP-70 protected tag are accepted (no AUTH on this local relay)", async () => {
    const client = await connect();
    const event = new Author().sign(443, [["-"]], "key package");
    await client.publishAccepted(event);
    assert.deepEqual(await client.query([{ ids: [event.id] }]), [event]);
  });

  test("malformed frames and bad signatures are refused and the relay keeps working", async () => {
    const client = await connect();
    const alice = new Author();

    client.sendRaw("this is not json");
    await client.waitFor((m) => m[0] === "NOTICE" && String(m[1]).includes("malformed"), "NOTICE for bad JSON");
    client.sendRaw('{"not": "an array"}');
    await client.waitFor((m) => m[0] === "NOTICE" && String(m[1]).includes("array"), "NOTICE for a non-array");
    client.send(["REQ"]);
    await client.waitFor((m) => m[0] === "NOTICE" && String(m[1]).startsWith("invalid"), "NOTICE for a bad REQ");

    const good = alice.sign(1, [], "signed");
    const forged = { ...good, sig: good.sig.slice(0, -2) + (good.sig.endsWith("00") ? "11" : "00") };
    const [accepted, reason] = await client.publish(forged);
    assert.equal(accepted, false);
    assert.match(reason, /^invalid: signature/);

    const tampered = { ...alice.sign(1, [], "original"), content: "changed" };
    assert.equal((await client.publish(tampered))[0], false);

    await client.publishAccepted(good);
    assert.deepEqual(await client.query([{ ids: [good.id] }]), [good]);
  });

  test("an event larger than maxEventBytes is refused with OK false", async () => {
    const client = await connect();
    const alice = new Author();
    const huge = alice.sign(1, [], "x".repeat(8000));
    const [accepted, reason] = await client.publish(huge);
    assert.equal(accepted, false);
    assert.match(reason, /larger than 4096 bytes/);
    assert.deepEqual(await client.query([{ ids: [huge.id] }]), []);

    await client.publishAccepted(alice.sign(1, [], "small"));
  });
});

test("stored events survive a restart with the same dbPath", async () => {
  const dir = await mkdtemp(join(tmpdir(), "burrow-relay-"));
  try {
    const dbPath = join(dir, "relay.sqlite");
    const alice = new Author();
    const note = alice.sign(1, [], "still here");

    const first = await startRelay({ dbPath });
    const writer = await TestClient.connect(first.url);
    await writer.publishAccepted(note);
    await writer.close();
    await first.close();

    const second = await startRelay({ dbPath });
    const reader = await TestClient.connect(second.url);
    try {
      assert.deepEqual(await reader.query([{ ids: [note.id] }]), [note]);
    } finally {
      await reader.close();
      await second.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("close() ends open connections and frees the port", async () => {
  const relay = await startRelay({});
  const client = await TestClient.connect(relay.url);
  await relay.close();
  assert.equal(await client.closed, 1001);
  await assert.rejects(TestClient.connect(relay.url));
});

test("startRelay rejects when its port is taken", async () => {
  const first = await startRelay({});
  try {
    await assert.rejects(startRelay({ port: first.port }), /EADDRINUSE/);
  } finally {
    await first.close();
  }
});

const DAY = 86400;
const YEAR = 365 * DAY;
const FUTURE_REFUSAL = "invalid: created_at too far in the future";

describe("integration: relay future limit", () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  const open = async (options: RelayOptions = {}): Promise<TestClient> => {
    const relay = await startRelay({ port: 0, ...options });
    const client = await TestClient.connect(relay.url);
    opened.push(relay, client);
    return client;
  };

  after(async () => {
    for (const item of opened.reverse()) await item.close();
  });

  test("an event dated 10 years ahead is refused with the exact OK message and served neither live nor stored", async () => {
    const client = await open();
    const alice = new Author();
    const live = await client.subscribe([{ authors: [alice.pubkey] }]);
    const future = alice.sign(1, [], "from 2036", now() + 10 * YEAR);
    client.send(["EVENT", future]);
    const ok = await client.waitFor((m) => m[0] === "OK" && m[1] === future.id, "OK for the future event");
    assert.deepEqual(ok, ["OK", future.id, false, FUTURE_REFUSAL]);

    // A later event on the same subscription arrives after any delivery of the refused one would have.
    const present = alice.sign(1, [], "now");
    await client.publishAccepted(present);
    await client.waitForEvent(live, present.id);
    assert.deepEqual(ids(client.eventsOf(live)), [present.id]);
    assert.deepEqual(await client.query([{ ids: [future.id] }]), []);
    assert.deepEqual(ids(await client.query([{ authors: [alice.pubkey] }])), [present.id]);
  });

  test("an event 14 minutes ahead is accepted and served", async () => {
    const client = await open();
    const event = new Author().sign(1, [], "a fast clock", now() + 14 * 60);
    await client.publishAccepted(event);
    assert.deepEqual(await client.query([{ ids: [event.id] }]), [event]);
  });

  test("an event dated 5 years ago is accepted and served", async () => {
    const client = await open();
    const event = new Author().sign(1, [], "an old note", now() - 5 * YEAR);
    await client.publishAccepted(event);
    assert.deepEqual(await client.query([{ ids: [event.id] }]), [event]);
  });

  test("with maxFutureSeconds raised to 40 days an event 30 days ahead is accepted, as public relays that store any created_at do", async () => {
    const client = await open({ maxFutureSeconds: 40 * DAY });
    const alice = new Author();
    const event = alice.sign(1, [], "next month", now() + 30 * DAY);
    await client.publishAccepted(event);
    assert.deepEqual(await client.query([{ ids: [event.id] }]), [event]);
    assert.deepEqual(await client.publish(alice.sign(1, [], "too far still", now() + 41 * DAY)), [false, FUTURE_REFUSAL]);
  });

  test("the limit counts from the injected clock, its last second included", async () => {
    const clock = 1_600_000_000;
    const client = await open({ now: () => clock * 1000 });
    const alice = new Author();
    await client.publishAccepted(alice.sign(1, [], "at the limit", clock + 900));
    assert.deepEqual(await client.publish(alice.sign(1, [], "one second over", clock + 901)), [false, FUTURE_REFUSAL]);
    // By the machine's clock this one is years ahead of the relay's.
    assert.deepEqual(await client.publish(alice.sign(1, [], "today")), [false, FUTURE_REFUSAL]);
  });

  test("ephemeral events and deletion requests from the far future are refused too", async () => {
    const client = await open();
    const alice = new Author();
    const live = await client.subscribe([{ kinds: [20001, 5], authors: [alice.pubkey] }]);
    const note = alice.sign(1, [], "keep me");
    await client.publishAccepted(note);
    assert.deepEqual(await client.publish(alice.sign(20001, [], "ping", now() + YEAR)), [false, FUTURE_REFUSAL]);
    assert.deepEqual(await client.publish(alice.sign(5, [["e", note.id]], "", now() + YEAR)), [false, FUTURE_REFUSAL]);
    assert.deepEqual(await client.query([{ ids: [note.id] }]), [note]);
    assert.deepEqual(client.eventsOf(live), []);
  });

  test("burrow-relay --max-future-seconds sets the limit of the relay process", { timeout: 30_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "burrow-relay-main-"));
    const main = fileURLToPath(new URL("./main.js", import.meta.url));
    const child = spawn(process.execPath, [main, "--port", "0", "--data-dir", dir, "--max-future-seconds", String(40 * DAY), "--json"], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`burrow-relay exited with ${code}`)));
        createInterface({ input: child.stdout }).on("line", (line) => {
          const parsed = JSON.parse(line) as { event: string; url?: string };
          if (parsed.event === "ready" && parsed.url) resolve(parsed.url);
        });
      });
      const client = await TestClient.connect(url);
      const alice = new Author();
      await client.publishAccepted(alice.sign(1, [], "next month", now() + 30 * DAY));
      assert.deepEqual(await client.publish(alice.sign(1, [], "too far", now() + 41 * DAY)), [false, FUTURE_REFUSAL]);
      await client.close();
    } finally {
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    }

    const bad = spawn(process.execPath, [main, "--data-dir", dir, "--max-future-seconds", "soon"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    bad.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    assert.equal(await new Promise((resolve) => bad.once("exit", resolve)), 2);
    assert.match(stderr, /--max-future-seconds must be a whole number of seconds/);
  });
});

const RATE_LIMITED = /^rate-limited: /;

describe("integration: batched ingest", () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  const start = async (options: RelayOptions = {}): Promise<RunningRelay> => {
    const relay = await startRelay({ port: 0, ...options });
    opened.push(relay);
    return relay;
  };
  const connect = async (relay: RunningRelay): Promise<TestClient> => {
    const client = await TestClient.connect(relay.url);
    opened.push(client);
    return client;
  };
  /** Stored events among `wanted`, queried in pages the relay allows. */
  const storedIds = async (client: TestClient, wanted: string[]): Promise<Set<string>> => {
    const found = new Set<string>();
    for (let i = 0; i < wanted.length; i += 500) {
      for (const event of await client.query([{ ids: wanted.slice(i, i + 500), limit: 500 }])) found.add(event.id);
    }
    return found;
  };

  after(async () => {
    for (const item of opened.reverse()) await item.close();
  });

  test("many_events_from_several_connections_sent_at_once_are_all_answered_and_stored", async () => {
    const relay = await start();
    const clients = await Promise.all([0, 1, 2, 3].map(() => connect(relay)));
    const group = "cc".repeat(32);
    const bursts = clients.map(() => Array.from({ length: 150 }, (_, i) => new Author().sign(445, [["h", group]], `message ${i}`)));

    const answers = await Promise.all(clients.map((client, i) => client.publishBurst(bursts[i]!)));

    answers.forEach((answer, i) => {
      assert.equal(answer.size, 150);
      for (const [id, [accepted, reason]] of answer) assert.deepEqual([accepted, reason], [true, ""], `event ${id} of connection ${i}`);
    });
    const all = bursts.flat().map((event) => event.id);
    assert.equal((await storedIds(clients[0]!, all)).size, all.length);
    assert.equal((await clients[1]!.query([{ kinds: [445], "#h": [group], limit: 1000 }])).length, all.length);
  });

  test("a_bad_signature_and_a_bad_id_in_the_middle_of_a_batch_are_refused_and_the_rest_stored", async () => {
    const relay = await start();
    const client = await connect(relay);
    const events = Array.from({ length: 41 }, (_, i) => new Author().sign(1, [], `note ${i}`));
    const good = events[20]!;
    const forged = { ...good, sig: good.sig.slice(0, -2) + (good.sig.endsWith("00") ? "11" : "00") };
    events[20] = forged;
    const tampered = { ...events[25]!, content: "changed" };
    events[25] = tampered;

    const answers = await client.publishBurst(events);

    assert.deepEqual(answers.get(forged.id), [false, "invalid: signature is wrong"]);
    assert.deepEqual(answers.get(tampered.id), [false, "invalid: id is wrong"]);
    const rest = events.filter((event) => event !== forged && event !== tampered);
    for (const event of rest) assert.deepEqual(answers.get(event.id), [true, ""]);
    assert.deepEqual(ids(await client.query([{ ids: events.map((event) => event.id) }])), ids(rest));
    // The id of the forged event is free: the correctly signed one is taken.
    await client.publishAccepted(good);
  });

  test("an_event_is_queryable_from_another_connection_as_soon_as_its_OK_arrives", async () => {
    const relay = await start();
    const [publisher, reader] = [await connect(relay), await connect(relay)];
    const events = Array.from({ length: 60 }, (_, i) => new Author().sign(1, [], `note ${i}`));
    const lookups: Array<Promise<Event[]>> = [];
    let answered = 0;
    const all = new Promise<void>((resolve) => {
      publisher.onMessage((m) => {
        if (m[0] !== "OK" || m[2] !== true) return;
        lookups.push(reader.query([{ ids: [m[1] as string] }]));
        if (++answered === events.length) resolve();
      });
    });
    for (const event of events) publisher.send(["EVENT", event]);
    await all;

    const found = await Promise.all(lookups);
    assert.equal(found.length, events.length);
    assert.ok(found.every((result) => result.length === 1), `${found.filter((result) => result.length !== 1).length} events were not queryable when their OK arrived`);
  });

  test("a_REQ_after_EVENTs_on_the_same_connection_finds_them", async () => {
    const relay = await start();
    const client = await connect(relay);
    const alice = new Author();
    const events = Array.from({ length: 30 }, (_, i) => alice.sign(1, [], `note ${i}`));
    for (const event of events) client.send(["EVENT", event]);
    assert.deepEqual(ids(await client.query([{ authors: [alice.pubkey] }])), ids(events));
  });

  test("a_flood_over_the_connection_bound_is_refused_with_rate_limited_and_every_accepted_event_is_stored", async () => {
    const relay = await start({ ingestLimits: { perConnectionEvents: 8 } });
    const client = await connect(relay);
    const events = Array.from({ length: 200 }, (_, i) => new Author().sign(1, [], `flood ${i}`));

    const answers = await client.publishBurst(events);

    const accepted = events.filter((event) => answers.get(event.id)?.[0] === true);
    const refused = events.filter((event) => answers.get(event.id)?.[0] === false);
    assert.equal(accepted.length + refused.length, events.length);
    assert.ok(refused.length > 0, "the bound refused part of the flood");
    for (const event of refused) assert.match(answers.get(event.id)![1], RATE_LIMITED);
    for (const event of events) assert.equal(client.okCount(event.id), 1, "one OK per event");
    assert.deepEqual([...(await storedIds(client, events.map((event) => event.id)))].sort(), ids(accepted));

    // Sent again at the pace of the OKs, the refused events are taken.
    for (const event of refused) await client.publishAccepted(event);
    assert.equal((await storedIds(client, events.map((event) => event.id))).size, events.length);
  });

  test("the_bound_on_all_connections_refuses_a_second_connection_over_it", async () => {
    const relay = await start({ ingestLimits: { perConnectionEvents: 100, totalEvents: 120 } });
    const [first, second] = [await connect(relay), await connect(relay)];
    const [a, b] = [0, 1].map(() => Array.from({ length: 100 }, (_, i) => new Author().sign(1, [], `note ${i}`)));

    const [fromFirst, fromSecond] = await Promise.all([first.publishBurst(a!), second.publishBurst(b!)]);

    const reasons = [...fromFirst.values(), ...fromSecond.values()].filter(([accepted]) => !accepted).map(([, reason]) => reason);
    assert.ok(reasons.length > 0, "the total bound refused some events");
    for (const reason of reasons) assert.equal(reason, "rate-limited: the relay has too many events waiting; send again shortly");
  });

  test("every_live_subscription_gets_each_matching_event_once_and_others_none", async () => {
    const relay = await start();
    const [subscriber, other, publisher] = [await connect(relay), await connect(relay), await connect(relay)];
    const alice = new Author();
    const [group, elsewhere] = ["dd".repeat(32), "ee".repeat(32)];
    // Two filters of one subscription match every event: it still gets each event once.
    const overlapping = await subscriber.subscribe([{ kinds: [445] }, { "#h": [group] }]);
    const byAuthor = await subscriber.subscribe([{ authors: [alice.pubkey] }]);
    const unrelated = await subscriber.subscribe([{ kinds: [445], "#h": [elsewhere] }]);
    const closed = await subscriber.subscribe([{ "#h": [group] }]);
    subscriber.send(["CLOSE", closed]);
    const replaced = await other.subscribe([{ "#h": [elsewhere] }]);
    const mark = other.allReceived().length;
    other.send(["REQ", replaced, { kinds: [445], "#h": [group] }]);
    await other.waitFor((m) => m[0] === "EOSE" && m[1] === replaced, "EOSE of the replacing REQ", mark);
    const events = Array.from({ length: 80 }, (_, i) => alice.sign(445, [["h", group]], `live ${i}`));

    await publisher.publishBurst(events);
    const last = events.at(-1)!;
    await subscriber.waitForEvent(overlapping, last.id);
    await subscriber.waitForEvent(byAuthor, last.id);
    await other.waitForEvent(replaced, last.id);
    // Delivery follows publication order, so anything wrongly delivered would be here by now.

    const order = events.map((event) => event.id);
    assert.deepEqual(subscriber.eventsOf(overlapping).map((event) => event.id), order);
    assert.deepEqual(subscriber.eventsOf(byAuthor).map((event) => event.id), order);
    assert.deepEqual(other.eventsOf(replaced).map((event) => event.id), order);
    assert.deepEqual(subscriber.eventsOf(unrelated), []);
    assert.deepEqual(subscriber.eventsOf(closed), []);
    assert.deepEqual(subscriber.eventsOf(overlapping)[0], events[0]);
  });

  test("a_subscription_evicted_past_the_client_limit_gets_no_more_events", async () => {
    const relay = await start();
    const [subscriber, publisher] = [await connect(relay), await connect(relay)];
    const authors = Array.from({ length: 257 }, () => new Author());
    const subscriptions: string[] = [];
    for (const author of authors) subscriptions.push(await subscriber.subscribe([{ authors: [author.pubkey] }]));

    const [oldest, newest] = [authors[0]!.sign(1, [], "to the evicted one"), authors[256]!.sign(1, [], "to the newest")];
    await publisher.publishAccepted(oldest);
    await publisher.publishAccepted(newest);
    await subscriber.waitForEvent(subscriptions[256]!, newest.id);
    assert.deepEqual(subscriber.eventsOf(subscriptions[0]!), []);
  });

  test("events_of_one_batch_keep_replaceable_duplicate_and_deletion_semantics_in_order", async () => {
    const relay = await start();
    const client = await connect(relay);
    const alice = new Author();
    const t = now() - 100;
    const first = alice.sign(30443, [["d", "slot"]], "key package 1", t);
    const newer = alice.sign(30443, [["d", "slot"]], "key package 2", t + 10);
    const stale = alice.sign(30443, [["d", "slot"]], "key package 0", t - 10);
    const note = alice.sign(1, [], "regret", t);
    const deletion = alice.sign(5, [["e", note.id]], "", t + 1);
    const kept = alice.sign(1, [], "after the deletion", t + 2);

    const answers = await client.publishBurst([first, newer, stale, note, note, deletion, kept]);

    assert.deepEqual(answers.get(note.id), [true, ""]);
    assert.equal(client.okCount(note.id), 2);
    assert.ok(client.allReceived().some((m) => m[0] === "OK" && m[1] === note.id && m[2] === true && String(m[3]).startsWith("duplicate:")), "the second copy is a duplicate");
    assert.deepEqual(answers.get(stale.id), [true, "duplicate: the event already exists"]);
    assert.deepEqual(await client.query([{ kinds: [30443], authors: [alice.pubkey] }]), [newer]);
    assert.deepEqual(ids(await client.query([{ kinds: [1, 5], authors: [alice.pubkey] }])), ids([deletion, kept]));
  });

  test("a_relay_killed_during_a_flood_has_every_acknowledged_event_after_a_restart", { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "burrow-relay-kill-"));
    const main = fileURLToPath(new URL("./main.js", import.meta.url));
    const launch = async () => {
      const child = spawn(process.execPath, [main, "--port", "0", "--data-dir", dir, "--json"], { stdio: ["ignore", "pipe", "inherit"] });
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const url = await new Promise<string>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`burrow-relay exited with ${code}`)));
        createInterface({ input: child.stdout }).on("line", (line) => {
          const parsed = JSON.parse(line) as { event: string; url?: string };
          if (parsed.event === "ready" && parsed.url) resolve(parsed.url);
        });
      });
      return { child, exited, url };
    };
    try {
      const first = await launch();
      const client = await TestClient.connect(first.url);
      const events = Array.from({ length: 1500 }, (_, i) => new Author().sign(1, [], `note ${i}`));
      const acknowledged: string[] = [];
      const killed = new Promise<void>((resolve) => {
        client.onMessage((m) => {
          if (m[0] !== "OK" || m[2] !== true) return;
          acknowledged.push(m[1] as string);
          if (acknowledged.length === 300) {
            first.child.kill("SIGKILL");
            resolve();
          }
        });
      });
      for (const event of events) client.send(["EVENT", event]);
      await killed;
      await first.exited;
      await client.closed;
      assert.ok(acknowledged.length < events.length, "killed before the flood was through");

      const second = await launch();
      try {
        const reader = await TestClient.connect(second.url);
        const found = await storedIds(reader, acknowledged);
        await reader.close();
        assert.equal(found.size, acknowledged.length, `${acknowledged.length - found.size} acknowledged events missing after the restart`);
      } finally {
        second.child.kill("SIGTERM");
        await second.exited;
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
