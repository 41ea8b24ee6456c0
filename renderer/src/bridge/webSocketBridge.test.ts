import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import type { StateSnapshot } from "../../../shared/state.js";
import { CONTRACT_VERSION } from "../../../shared/state.js";
import type { ConnectionStatus } from "./connectionTypes.js";
import { connectWebSocket, tokenFromHash, webSocketUrl } from "./webSocketBridge.js";

/** A host's end of one socket: the test opens, pushes, answers and closes it as a host would. */
class HostSocket {
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = this.CONNECTING;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  readonly sent: unknown[] = [];
  closedByClient = false;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(): void {
    this.closedByClient = true;
  }

  accept(): void {
    this.readyState = this.OPEN;
    this.onopen?.();
  }

  push(message: unknown): void {
    this.onmessage?.({ data: typeof message === "string" ? message : JSON.stringify(message) });
  }

  drop(code = 1006): void {
    this.readyState = this.CLOSED;
    this.onclose?.({ code });
  }
}

const URL = "ws://127.0.0.1:1234/ws?token=t";

function connect() {
  const sockets: HostSocket[] = [];
  const connection = connectWebSocket(URL, (url) => {
    const socket = new HostSocket(url);
    sockets.push(socket);
    // The bridge touches only what HostSocket implements of WebSocket.
    return socket as unknown as WebSocket;
  });
  const statuses: ConnectionStatus[] = [];
  connection.onStatus(() => statuses.push(connection.getStatus()));
  const current = (): HostSocket => {
    const socket = sockets.at(-1);
    assert.ok(socket, "no socket was opened");
    return socket;
  };
  return { connection, sockets, statuses, current };
}

// Stand-ins of AppState: the bridge looks only at what a patch names (chats by id, fields whole).
const state = (marker: string) => ({ contract_version: CONTRACT_VERSION, marker, chats: [] as ReturnType<typeof chat>[], pictures: {} as Record<string, string> });
const chat = (id: string, updatedAt: number, title = id) => ({ id, updated_at: updatedAt, title });
const whole = (rev: number, snapshot: object) => ({ t: "state", push: { rev, snapshot } });
const patch = (rev: number, baseRev: number, change: { fields?: object; chats?: object[]; removed_chats?: string[]; pictures?: Record<string, string | null> }) => ({
  t: "state",
  push: { rev, base_rev: baseRev, patch: { fields: change.fields ?? {}, chats: change.chats ?? [], removed_chats: change.removed_chats ?? [], pictures: change.pictures ?? {} } },
});

describe("unit: WebSocket bridge", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  test("token_is_read_from_the_hash_among_other_parameters_and_decoded", () => {
    assert.equal(tokenFromHash("#token=abc"), "abc");
    assert.equal(tokenFromHash("#view=x&token=a%2Bb%3D"), "a+b=");
    assert.equal(tokenFromHash("#token="), null);
    assert.equal(tokenFromHash(""), null);
    assert.equal(tokenFromHash("#mytoken=abc"), null);
    assert.equal(tokenFromHash("#token=%E0%A4%A"), null, "a malformed escape is no token");
  });

  test("socket_url_follows_the_page_scheme_and_escapes_the_token", () => {
    assert.equal(webSocketUrl({ protocol: "http:", host: "127.0.0.1:8080" }, "a b&c"), "ws://127.0.0.1:8080/ws?token=a%20b%26c");
    assert.equal(webSocketUrl({ protocol: "https:", host: "burrow.example" }, "t"), "wss://burrow.example/ws?token=t");
  });

  test("connects_and_answers_each_dispatch_by_its_id", async () => {
    const { connection, current, statuses } = connect();
    assert.equal(connection.getStatus(), "connecting");
    assert.equal(current().url, URL);
    current().accept();
    assert.deepEqual(statuses, ["connected"]);

    const first = connection.bridge.dispatch({ type: "CloseChat" });
    const second = connection.bridge.dispatch({ type: "Logout" });
    assert.deepEqual(current().sent, [
      { t: "dispatch", id: 1, action: { type: "CloseChat" } },
      { t: "dispatch", id: 2, action: { type: "Logout" } },
    ]);
    current().push({ t: "reply", id: 2, reply: { ok: false, error: "no" } });
    current().push({ t: "reply", id: 1, reply: { ok: true } });
    assert.deepEqual(await first, { ok: true });
    assert.deepEqual(await second, { ok: false, error: "no" });
  });

  test("dispatch_while_not_connected_is_rejected_not_queued", async () => {
    const { connection, current } = connect();
    await assert.rejects(connection.bridge.dispatch({ type: "CloseChat" }), /Not connected to Burrow/);
    assert.deepEqual(current().sent, []);
  });

  test("unanswered_dispatches_are_rejected_when_the_socket_drops", async () => {
    const { connection, current } = connect();
    current().accept();
    const pending = connection.bridge.dispatch({ type: "CloseChat" });
    current().drop();
    await assert.rejects(pending, /Connection to Burrow lost/);
  });

  test("a_dropped_socket_shows_disconnected_and_reconnects_with_growing_backoff", () => {
    const { connection, sockets, statuses, current } = connect();
    current().accept();
    current().drop();
    assert.equal(connection.getStatus(), "disconnected");
    assert.equal(sockets.length, 1);

    mock.timers.tick(249);
    assert.equal(sockets.length, 1);
    mock.timers.tick(1);
    assert.equal(sockets.length, 2, "first retry after 250 ms");

    current().drop();
    mock.timers.tick(499);
    assert.equal(sockets.length, 2);
    mock.timers.tick(1);
    assert.equal(sockets.length, 3, "second retry after 500 ms");

    current().accept();
    assert.equal(connection.getStatus(), "connected");
    current().drop();
    mock.timers.tick(250);
    assert.equal(sockets.length, 4, "a connection that opened resets the backoff");
    assert.deepEqual(statuses, ["connected", "disconnected", "connected", "disconnected"]);
  });

  test("backoff_stops_growing_at_five_seconds", () => {
    const { sockets, current } = connect();
    for (let i = 0; i < 8; i++) {
      current().drop();
      mock.timers.tick(5_000);
    }
    assert.equal(sockets.length, 9);
    current().drop();
    mock.timers.tick(4_999);
    assert.equal(sockets.length, 9);
    mock.timers.tick(1);
    assert.equal(sockets.length, 10);
  });

  test("a_refused_token_is_final_and_not_retried", () => {
    const { connection, sockets, current } = connect();
    current().accept();
    current().drop(1008);
    assert.equal(connection.getStatus(), "refused");
    mock.timers.tick(60_000);
    assert.equal(sockets.length, 1);
  });

  test("a_host_of_another_contract_version_is_incompatible_and_not_retried", () => {
    const { connection, sockets, current } = connect();
    current().accept();
    current().push({ t: "hello", contract_version: CONTRACT_VERSION + 1 });
    assert.equal(connection.getStatus(), "incompatible");
    assert.ok(current().closedByClient);
    current().drop(1000);
    mock.timers.tick(60_000);
    assert.equal(sockets.length, 1);
    assert.equal(connection.getStatus(), "incompatible");
  });

  test("a_host_of_the_same_contract_version_stays_connected", () => {
    const { connection, current } = connect();
    current().accept();
    current().push({ t: "hello", contract_version: CONTRACT_VERSION });
    assert.equal(connection.getStatus(), "connected");
    assert.equal(current().closedByClient, false);
  });

  test("state_pushes_reach_listeners_in_arrival_order_and_a_late_listener_gets_the_latest", () => {
    const { connection, current } = connect();
    current().accept();
    const seen: number[] = [];
    connection.bridge.onState((snapshot) => seen.push(snapshot.rev));
    current().push(whole(3, state("a")));
    current().push(whole(2, state("b")));
    assert.deepEqual(seen, [3, 2], "the bridge forwards every whole state; the store decides which is stale");

    let late: StateSnapshot | null = null;
    const unsubscribe = connection.bridge.onState((snapshot) => (late = snapshot));
    assert.deepEqual(late, { rev: 2, state: state("b") });
    unsubscribe();
    current().push(patch(4, 2, { fields: { marker: "c" } }));
    assert.deepEqual(late, { rev: 2, state: state("b") }, "no push after unsubscribing");
    assert.deepEqual(seen, [3, 2, 4]);
  });

  test("patches_applied_in_order_give_the_whole_state_and_unchanged_chats_keep_their_objects", () => {
    const { connection, current } = connect();
    current().accept();
    const seen: StateSnapshot[] = [];
    connection.bridge.onState((snapshot) => seen.push(snapshot));
    current().push(whole(1, { ...state("a"), chats: [chat("c", 30), chat("b", 20), chat("a", 10)] }));
    current().push(patch(2, 1, { chats: [chat("a", 40, "a renamed")] }));
    current().push(patch(3, 2, { fields: { marker: "b" }, removed_chats: ["b"], pictures: { "https://p/1": "data:1", "https://p/2": "data:2" } }));
    current().push(patch(4, 3, { chats: [chat("d", 5)], pictures: { "https://p/1": null } }));
    const final = { ...state("b"), chats: [chat("a", 40, "a renamed"), chat("c", 30), chat("d", 5)], pictures: { "https://p/2": "data:2" } };
    assert.deepEqual(seen.map((s) => s.rev), [1, 2, 3, 4]);
    assert.deepEqual(seen.at(-1)!.state, final, "the same as the whole state of rev 4");
    const byId = (snapshot: StateSnapshot, id: string) => snapshot.state.chats.find((c) => c.id === id);
    assert.equal(byId(seen[3]!, "c"), byId(seen[0]!, "c"), "a chat no patch named is the same object");
    assert.equal(byId(seen[3]!, "a"), byId(seen[1]!, "a"));
    assert.equal(seen[3]!.state.chats.length, 3);
  });

  test("a_missed_rev_asks_for_the_whole_state_and_patches_fit_again_after_it", () => {
    const { connection, current } = connect();
    current().accept();
    const seen: number[] = [];
    connection.bridge.onState((snapshot) => seen.push(snapshot.rev));
    current().push(whole(1, state("a")));
    current().push(patch(3, 2, { fields: { marker: "c" } }));
    current().push(patch(4, 3, { fields: { marker: "d" } }));
    assert.deepEqual(seen, [1], "a patch onto a rev not held is not applied");
    assert.deepEqual(current().sent, [{ t: "snapshot" }], "asked once");
    current().push(whole(4, state("d")));
    current().push(patch(5, 4, { fields: { marker: "e" } }));
    assert.deepEqual(seen, [1, 4, 5]);
  });

  test("a_new_connection_starts_from_the_whole_state_not_the_old_one", () => {
    const { connection, sockets, current } = connect();
    current().accept();
    const seen: Array<[number, unknown]> = [];
    connection.bridge.onState((snapshot) => seen.push([snapshot.rev, (snapshot.state as unknown as { marker: string }).marker]));
    current().push(whole(5, state("old")));
    current().drop();
    mock.timers.tick(250);
    assert.equal(sockets.length, 2);
    current().accept();
    // A restarted core: its revs start over; a patch onto the old connection's rev 5 is no base.
    current().push(patch(6, 5, { fields: { marker: "stale" } }));
    current().push(whole(2, state("new")));
    current().push(patch(3, 2, { fields: { marker: "newer" } }));
    assert.deepEqual(seen, [[5, "old"], [2, "new"], [3, "newer"]]);
  });

  test("malformed_host_messages_are_ignored", async () => {
    const { connection, current } = connect();
    current().accept();
    const seen: number[] = [];
    connection.bridge.onState((snapshot) => seen.push(snapshot.rev));
    const reply = connection.bridge.dispatch({ type: "CloseChat" });
    const malformed = [
      "not json",
      "[1]",
      { t: "state", push: { rev: "1", snapshot: {} } },
      { t: "state", push: { rev: 1, snapshot: [] } },
      { t: "state", rev: 1, state: {} },
      { t: "state", push: { rev: 2, base_rev: 1, patch: { fields: {}, chats: {}, removed_chats: [], pictures: {} } } },
      { t: "state", push: { rev: 2, base_rev: 1, patch: { fields: {}, chats: [], removed_chats: [] } } },
      { t: "reply", id: 1, reply: { ok: "yes" } },
      { t: "other" },
    ];
    for (const message of malformed) {
      current().push(message);
    }
    assert.deepEqual(seen, []);
    current().push({ t: "reply", id: 1, reply: { ok: true } });
    assert.deepEqual(await reply, { ok: true });
  });
});
