import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { finalizeEvent, generateSecretKey } from "nostr-tools/pure";
import type { Event } from "nostr-tools/core";
import { startRelay, type RunningRelay } from "../../../server/relay/relay.js";
import type { RelayStatus } from "../../../shared/state.js";
import { tempDir } from "../testing.js";
import { RelayPool } from "./pool.js";

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

describe("RelayPool against the embedded relay", () => {
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

  test("network_off_disconnects_and_refuses_to_publish", async () => {
    pool.setEnabled(false);
    assert.equal(statuses[0]?.status, "disconnected");
    const outcome = await pool.publish(note("offline"));
    assert.deepEqual(outcome.failed, [{ url: relay.url, reason: "network is off" }]);
    pool.setEnabled(true);
    await until(() => statuses[0]?.status === "connected");
  });
});
