import assert from "node:assert/strict";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import type { HostMessage } from "../../shared/ipc.js";
import { CONTRACT_VERSION, type AppState, type StateSnapshot } from "../../shared/state.js";
import { foldPushes } from "../../shared/statePush.js";
import type { AppCore } from "../../core/index.js";
import { coreIn, tempDir } from "../../core/testing.js";
import { persistentToken, REFUSED_CLOSE_CODE, rememberedPort, rememberPort, startWebHost, type WebHost } from "./host.js";

interface Client {
  ws: WebSocket;
  messages: HostMessage[];
  /** The pushes folded into whole states, as a renderer holds them. */
  states: StateSnapshot[];
  next(predicate: (message: HostMessage) => boolean, timeoutMs?: number): Promise<HostMessage>;
  nextState(predicate: (state: AppState) => boolean, timeoutMs?: number): Promise<StateSnapshot>;
}

/** The first of `seen`, or of what `waiters` are later told, that satisfies `predicate`. */
function first<T>(seen: T[], waiters: Array<(item: T) => boolean>, predicate: (item: T) => boolean, timeoutMs: number): Promise<T> {
  const found = seen.find(predicate);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("nothing matching arrived")), timeoutMs);
    const waiter = (item: T): boolean => {
      if (!predicate(item)) return false;
      clearTimeout(timer);
      resolve(item);
      return true;
    };
    waiters.push(waiter);
  });
}

function tell<T>(item: T, seen: T[], waiters: Array<(item: T) => boolean>): void {
  seen.push(item);
  for (const waiter of [...waiters]) if (waiter(item)) waiters.splice(waiters.indexOf(waiter), 1);
}

function connect(url: string, origin: string | undefined): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    const messages: HostMessage[] = [];
    const states: StateSnapshot[] = [];
    const messageWaiters: Array<(m: HostMessage) => boolean> = [];
    const stateWaiters: Array<(s: StateSnapshot) => boolean> = [];
    const fold = foldPushes((snapshot) => tell(snapshot, states, stateWaiters));
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString()) as HostMessage;
      tell(message, messages, messageWaiters);
      if (message.t === "state") fold(message.push);
    });
    ws.once("open", () =>
      resolve({
        ws,
        messages,
        states,
        next: (predicate, timeoutMs = 3000) => first(messages, messageWaiters, predicate, timeoutMs),
        nextState: (predicate, timeoutMs = 3000) => first(states, stateWaiters, (s) => predicate(s.state), timeoutMs),
      }),
    );
    ws.once("unexpected-response", (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

/** Connects and waits for the host to close the socket; returns the close code and anything received first. */
function closedWith(url: string, origin: string): Promise<{ code: number; messages: string[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin });
    const messages: string[] = [];
    ws.on("message", (data) => messages.push(data.toString()));
    ws.once("close", (code) => resolve({ code, messages }));
    ws.once("error", reject);
  });
}

describe("browser host", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let core: AppCore;
  let host: WebHost;
  let origin: string;
  let wsUrl: string;

  before(async () => {
    dir = await tempDir();
    const rendererDir = join(dir.path, "renderer");
    await mkdir(rendererDir);
    await writeFile(join(rendererDir, "index.html"), "<!doctype html><title>Burrow</title>");
    core = await coreIn(join(dir.path, "data"));
    host = await startWebHost({ core, rendererDir, port: 0 });
    origin = `http://127.0.0.1:${host.port}`;
    wsUrl = `ws://127.0.0.1:${host.port}/ws?token=${host.token}`;
  });
  after(async () => {
    await host.close();
    await core.close();
    await dir.remove();
  });

  test("serves_the_renderer_with_a_strict_csp_and_no_path_traversal", async () => {
    assert.match(host.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{20,}$/);
    const res = await fetch(`${origin}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.match(await res.text(), /<title>Burrow<\/title>/);
    const traversal = await fetch(`${origin}/..%2f..%2fdata%2fsecret-key`);
    assert.ok(!(await traversal.text()).match(/^[0-9a-f]{64}/));
    assert.equal((await fetch(`${origin}/`, { method: "POST" })).status, 405);
  });

  test("websocket_without_the_token_is_refused", async () => {
    for (const url of [`ws://127.0.0.1:${host.port}/ws`, `ws://127.0.0.1:${host.port}/ws?token=wrong`]) {
      const { code, messages } = await closedWith(url, origin);
      assert.equal(code, REFUSED_CLOSE_CODE);
      assert.deepEqual(messages, []);
    }
  });

  test("websocket_from_another_origin_or_none_is_refused", async () => {
    await assert.rejects(connect(wsUrl, "http://evil.example"), /refused with 403/);
    await assert.rejects(connect(wsUrl, undefined), /refused with 403/);
  });

  test("two_clients_see_the_same_state_and_replies_go_to_the_sender", async () => {
    const a = await connect(wsUrl, origin);
    const b = await connect(wsUrl, origin);
    try {
      assert.deepEqual(a.messages[0], { t: "hello", contract_version: CONTRACT_VERSION });
      a.ws.send(JSON.stringify({ t: "dispatch", id: 7, action: { type: "CreateAccount" } }));
      const reply = await a.next((m) => m.t === "reply");
      assert.deepEqual(reply, { t: "reply", id: 7, reply: { ok: true } });
      const isLoggedIn = (s: AppState) => s.auth.status === "logged_in";
      const [stateA, stateB] = await Promise.all([a.nextState(isLoggedIn), b.nextState(isLoggedIn)]);
      assert.deepEqual(stateA, stateB);
      // Both began with the whole state, then got the same patches.
      assert.ok(a.messages.find((m) => m.t === "state" && "snapshot" in m.push) && b.messages.find((m) => m.t === "state" && "snapshot" in m.push));
      assert.ok(a.messages.some((m) => m.t === "state" && "patch" in m.push));
      assert.ok(!b.messages.some((m) => m.t === "reply"));
    } finally {
      a.ws.close();
      b.ws.close();
    }
  });

  test("malformed_frames_get_an_error_toast_not_a_crash", async () => {
    const client = await connect(wsUrl, origin);
    try {
      client.ws.send("{not json");
      client.ws.send(JSON.stringify({ t: "dispatch", id: 9, action: { type: "Explode" } }));
      const reply = await client.next((m) => m.t === "reply" && m.id === 9);
      assert.deepEqual(reply, { t: "reply", id: 9, reply: { ok: false, error: "Unknown action: Explode" } });
      const toasts = await client.nextState((s) => s.toasts.some((t) => t.message.includes("Explode")));
      assert.ok(toasts.state.toasts.some((t) => t.message.includes("expected an object")));
      const again = await connect(wsUrl, origin);
      again.ws.close();
    } finally {
      client.ws.close();
    }
  });

  test("a_client_that_asks_gets_the_whole_state_equal_to_its_folded_patches", async () => {
    const client = await connect(wsUrl, origin);
    try {
      client.ws.send(JSON.stringify({ t: "dispatch", id: 11, action: { type: "Nope" } }));
      await client.nextState((s) => s.toasts.some((t) => t.message.includes("Nope")));
      const isWhole = (m: HostMessage): boolean => m.t === "state" && "snapshot" in m.push;
      const wholes = client.messages.filter(isWhole).length;
      client.ws.send(JSON.stringify({ t: "snapshot" }));
      const whole = await client.next((m) => isWhole(m) && client.messages.filter(isWhole).length > wholes);
      assert.ok(whole.t === "state" && "snapshot" in whole.push);
      const folded = client.states.find((s) => s.rev === whole.push.rev);
      assert.ok(folded && client.states.indexOf(folded) < client.states.length - 1, "the rev was reached by patches first");
      assert.deepEqual(folded.state, whole.push.snapshot);
    } finally {
      client.ws.close();
    }
  });

  test("integration: the_token_and_port_of_a_data_dir_are_kept_and_a_busy_port_falls_back_with_a_reason", async () => {
    const dataDir = join(dir.path, "kept");
    await mkdir(dataDir);
    const token = await persistentToken(dataDir);
    assert.equal(await persistentToken(dataDir), token, "the same token on the next start");
    assert.equal((await stat(join(dataDir, "web-token"))).mode & 0o777, 0o600);
    assert.equal(await rememberedPort(dataDir), null);
    await rememberPort(dataDir, host.port);
    assert.equal(await rememberedPort(dataDir), host.port);

    // The remembered port is taken (by the host above): another port, said as such.
    const rendererDir = join(dir.path, "renderer");
    await assert.rejects(startWebHost({ core, rendererDir, port: host.port, token }), /EADDRINUSE/);
    const second = await startWebHost({ core, rendererDir, port: host.port, token, fallbackToAnyPort: true });
    try {
      assert.notEqual(second.port, host.port);
      assert.deepEqual(second.portFallback, { wanted: host.port, reason: "it is in use" });
      assert.equal(second.token, token);
    } finally {
      await second.close();
    }
    // A free port is simply taken again.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const free = (blocker.address() as { port: number }).port;
    await new Promise((resolve) => blocker.close(resolve));
    const third = await startWebHost({ core, rendererDir, port: free, token, fallbackToAnyPort: true });
    try {
      assert.equal(third.port, free);
      assert.equal(third.portFallback, null);
    } finally {
      await third.close();
    }
  });
});
