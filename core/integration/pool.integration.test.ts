import assert from "node:assert/strict";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { finalizeEvent, generateSecretKey } from "nostr-tools/pure";
import type { Event } from "nostr-tools/core";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { RelayStatus } from "../../shared/state.js";
import { tempDir } from "../testing.js";
import { RelayPool } from "../relays/pool.js";

const sk = generateSecretKey();
const note = (content: string, tags: string[][] = []): Event =>
  finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags, content }, sk);

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("integration: RelayPool against the embedded relay", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let statuses: RelayStatus[] = [];
  let pool: RelayPool;

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0, dbPath: `${dir.path}/relay.sqlite` });
    pool = new RelayPool({ onStatus: (s) => (statuses = s), reconnectInitialMs: 50, reconnectMaxMs: 200, publishTimeoutMs: 2000 });
    pool.setRelays([relay.url]);
  });
  after(async () => {
    pool.close();
    await relay.close();
    await dir.remove();
  });

  test("connects_publishes_and_queries", async () => {
    await until(() => statuses[0]?.status === "connected");
    const event = note("hello");
    const outcome = await pool.publish(event);
    assert.deepEqual(outcome, { accepted: [relay.url], failed: [] });
    const found = await pool.query([{ ids: [event.id] }], 2000);
    assert.deepEqual(found.map((e) => e.id), [event.id]);
  });

  test("persistent_subscription_resumes_after_the_relay_restarts_with_fresh_filters", async () => {
    const received: string[] = [];
    let filterCalls = 0;
    pool.subscribe("notes", {
      filters: () => {
        filterCalls += 1;
        return [{ kinds: [1], "#t": ["resume"] }];
      },
      onEvent: (event) => received.push(event.content),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await pool.publish(note("before", [["t", "resume"]]));
    await until(() => received.includes("before"));

    const port = relay.port;
    await relay.close();
    await until(() => statuses[0]?.status !== "connected");
    const callsWhileDown = filterCalls;
    relay = await startRelay({ port, dbPath: `${dir.path}/relay.sqlite` });
    await until(() => statuses[0]?.status === "connected", 5000);
    assert.ok(filterCalls > callsWhileDown, "filters are computed again on resubscribe");
    await pool.publish(note("after", [["t", "resume"]]));
    await until(() => received.includes("after"));
    pool.unsubscribe("notes");
  });

  test("publish_to_an_unreachable_relay_fails_with_a_reason", async () => {
    const lonely = new RelayPool({ reconnectInitialMs: 50, connectTimeoutMs: 500 });
    lonely.setRelays(["ws://127.0.0.1:9"]);
    const outcome = await lonely.publish(note("nobody"));
    assert.equal(outcome.accepted.length, 0);
    assert.equal(outcome.failed[0]?.url, "ws://127.0.0.1:9");
    assert.ok((outcome.failed[0]?.reason ?? "").length > 0);
    lonely.close();
  });

  test("a_relay_that_never_answers_the_handshake_times_out_without_ending_the_process", async () => {
    // Accepts the TCP connection and never answers the WebSocket upgrade: the connect times out while connecting.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const uncaught: unknown[] = [];
    const record = (error: unknown): void => void uncaught.push(error);
    process.on("uncaughtException", record);
    const stuck = new RelayPool({ reconnectInitialMs: 50, connectTimeoutMs: 200 });
    try {
      stuck.setRelays([url]);
      const outcome = await stuck.publish(note("into the void"));
      assert.equal(outcome.accepted.length, 0);
      assert.equal(outcome.failed[0]?.url, url);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(uncaught, [], "the timed-out socket's error is handled");
    } finally {
      process.off("uncaughtException", record);
      stuck.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test("one_connection_and_one_publish_for_a_relay_spelled_with_and_without_a_trailing_slash", async () => {
    // A TCP pass-through in front of the relay counts the pool's connections.
    let connections = 0;
    const sockets: Socket[] = [];
    const proxy = createServer((client) => {
      connections += 1;
      const upstream = connect(relay.port, "127.0.0.1");
      sockets.push(client, upstream);
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as AddressInfo).port;
    const spellings = [`ws://127.0.0.1:${port}`, `ws://127.0.0.1:${port}/`, `WS://127.0.0.1:${port}/`];
    let twinStatuses: RelayStatus[] = [];
    const twin = new RelayPool({ onStatus: (s) => (twinStatuses = s), reconnectInitialMs: 50, publishTimeoutMs: 2000 });
    try {
      twin.setRelays(spellings);
      assert.deepEqual(twin.urls, [`ws://127.0.0.1:${port}`]);
      await until(() => twinStatuses[0]?.status === "connected");
      assert.equal(twinStatuses.length, 1);
      const event = note("once");
      const outcome = await twin.publish(event, spellings);
      assert.deepEqual(outcome, { accepted: [`ws://127.0.0.1:${port}`], failed: [] });
      assert.deepEqual((await twin.query([{ ids: [event.id] }], 2000, spellings)).map((e) => e.id), [event.id]);
      assert.equal(connections, 1, "one connection for every spelling, publishes and queries included");
    } finally {
      twin.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  test("network_off_disconnects_and_refuses_to_publish", async () => {
    pool.setEnabled(false);
    assert.equal(statuses[0]?.status, "disconnected");
    const outcome = await pool.publish(note("offline"));
    assert.deepEqual(outcome.failed, [{ url: relay.url, reason: "network is off" }]);
    pool.setEnabled(true);
    await until(() => statuses[0]?.status === "connected");
  });
});
