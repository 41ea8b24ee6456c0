import assert from "node:assert/strict";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import type { HostMessage } from "../../shared/ipc.js";
import { CONTRACT_VERSION } from "../../shared/state.js";
import type { AppCore } from "../../core/index.js";
import { coreIn, tempDir } from "../../core/testing.js";
import { persistentToken, REFUSED_CLOSE_CODE, rememberedPort, rememberPort, startWebHost, type WebHost } from "./host.js";

interface Client {
  ws: WebSocket;
  messages: HostMessage[];
  next(predicate: (message: HostMessage) => boolean, timeoutMs?: number): Promise<HostMessage>;
}

function connect(url: string, origin: string | undefined): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    const messages: HostMessage[] = [];
    const waiters: Array<{ predicate: (m: HostMessage) => boolean; resolve: (m: HostMessage) => void }> = [];
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString()) as HostMessage;
      messages.push(message);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(message)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
    ws.once("open", () =>
      resolve({
        ws,
        messages,
        next: (predicate, timeoutMs = 3000) => {
          const seen = messages.find(predicate);
          if (seen) return Promise.resolve(seen);
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error("no matching message")), timeoutMs);
            waiters.push({ predicate, resolve: (m) => (clearTimeout(timer), res(m)) });
          });
        },
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
      const isLoggedIn = (m: HostMessage) => m.t === "state" && m.state.auth.status === "logged_in";
      const [stateA, stateB] = await Promise.all([a.next(isLoggedIn), b.next(isLoggedIn)]);
      assert.deepEqual(stateA, stateB);
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
      const toasts = await client.next((m) => m.t === "state" && m.state.toasts.some((t) => t.message.includes("Explode")));
      assert.ok(toasts.t === "state" && toasts.state.toasts.some((t) => t.message.includes("expected an object")));
      const again = await connect(wsUrl, origin);
      again.ws.close();
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
