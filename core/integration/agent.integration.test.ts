// The New Agent flow of a real core against the real agent server (real HTTP, NIP-98, local spawner
// running real agent bots) and the embedded relay. Faults go in through the spawner's config, or
// through a lagging proxy in front of the server; the client's view is never faked.
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import { startTestServer, type TestServer } from "../../server/agent/api/testServer.js";
import type { AppState } from "../../shared/state.js";
import { foldPushes } from "../../shared/statePush.js";
import type { AppCore } from "../app/appCore.js";
import { coreIn, tempDir, waitForState } from "../testing.js";

/** Clicks New Agent and waits for that flow to end (busy seen, then cleared). */
async function runFlow(core: AppCore, timeoutMs = 30_000): Promise<AppState> {
  let sawBusy = false;
  const done = waitForState(core, (s) => {
    if (s.busy.starting_agent) sawBusy = true;
    return sawBusy && !s.busy.starting_agent;
  }, timeoutMs);
  const reply = await core.dispatch({ type: "EnsureAgent" });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  return (await done).state;
}

const pubkeyOf = (state: AppState): string => (state.auth.status === "logged_in" ? state.auth.pubkey : "");
const npubOf = (state: AppState): string => (state.auth.status === "logged_in" ? state.auth.npub : "");

/** A proxy in front of the agent server that holds the requests of chosen signers for a while (a lagging network). */
async function laggingProxy(target: string): Promise<{ url: string; lag: Map<string, number>; retarget(port: number): void; close(): Promise<void> }> {
  const lag = new Map<string, number>();
  const targetUrl = new URL(target);
  let targetPort = targetUrl.port;
  const server: Server = createServer((req, res) => {
    let signer: string;
    try {
      const token = String(req.headers.authorization ?? "").replace(/^Nostr /, "");
      signer = (JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { pubkey: string }).pubkey;
    } catch {
      signer = "";
    }
    setTimeout(() => {
      const upstream = request({ host: targetUrl.hostname, port: targetPort, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
    }, lag.get(signer) ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    lag,
    retarget: (port) => {
      targetPort = String(port);
    },
    close: async () => {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("New Agent against the real agent server", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let server: TestServer;
  const cores: AppCore[] = [];

  const user = async (name: string, options: { allowlisted?: boolean; apiUrl?: string; timings?: Parameters<typeof coreIn>[3] } = {}) => {
    const core = await coreIn(`${dir.path}/${name}`, 5, [relay.url], options.timings ?? {}, options.apiUrl ?? server.url);
    cores.push(core);
    await core.dispatch({ type: "CreateAccount" });
    const { state } = await waitForState(core, (s) => s.auth.status === "logged_in");
    if (options.allowlisted !== false) await server.store.setAllowlist({ npub: npubOf(state), active: true, note: "test", max_agents: 5 }, "test", "add");
    return core;
  };
  const vmsOf = async (core: AppCore) => (await server.spawner.list()).filter((vm) => vm.owner_pubkey === pubkeyOf(core.snapshot().state));

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0 });
    server = await startTestServer({ relays: [relay.url] });
  });
  after(async () => {
    for (const core of cores) await core.close();
    await server.close();
    await relay.close();
    await dir.remove();
  });

  test("new_agent_opens_an_encrypted_chat_that_answers", async () => {
    const core = await user("alice");
    await core.dispatch({ type: "SetNetworkEnabled", enabled: true });
    const shown = await waitForState(core, (s) => s.agent_button !== null, 10_000);
    assert.deepEqual(shown.state.agent_button, { title: "New Agent", is_busy: false, phase: null, disabled_reason: null });
    const phases = new Set<string>();
    core.subscribe(foldPushes(({ state }) => state.agent.phase && phases.add(state.agent.phase)));
    const clicks = await Promise.all([core.dispatch({ type: "EnsureAgent" }), core.dispatch({ type: "EnsureAgent" })]);
    assert.deepEqual(clicks.map((c) => c.ok), [true, false], "a double click starts one flow");
    const opened = await waitForState(core, (s) => s.open_chat !== null && !s.busy.starting_agent, 30_000);
    assert.equal(opened.state.chats.find((c) => c.id === opened.state.open_chat!.chat_id)?.agent, "current");
    assert.ok(phases.has("requested") && phases.has("opening_chat"), [...phases].join(","));
    assert.equal((await vmsOf(core)).length, 1);
    assert.equal((await server.store.listAgents()).filter((a) => a.owner_npub === npubOf(core.snapshot().state)).length, 1);

    const chatId = opened.state.open_chat!.chat_id;
    await core.dispatch({ type: "SendMessage", chat_id: chatId, text: "hello" });
    await waitForState(core, (s) => s.open_chat?.messages.some((m) => !m.mine && m.text === "ACK: hello") ?? false, 20_000);

    // A second click once it is ready: the same chat, no new VM.
    await core.dispatch({ type: "CloseChat" });
    const again = await runFlow(core);
    assert.equal(again.open_chat?.chat_id, chatId);
    assert.equal((await vmsOf(core)).length, 1);
    assert.equal(again.chats.length, 1);
  });

  test("allowlist_probe_error_does_not_override_known_state", async () => {
    const proxy = await laggingProxy("http://127.0.0.1:1");
    const behind = await startTestServer({ relays: [relay.url], publicUrl: proxy.url, dataDir: server.dataDir, spawner: server.spawner });
    proxy.retarget(behind.api.port);
    let upstreamClosed = false;
    try {
      const core = await user("bob", { apiUrl: proxy.url });
      await waitForState(core, (s) => s.agent.access === "allowlisted", 10_000);
      const reprobe = async () => {
        await core.dispatch({ type: "SetNetworkEnabled", enabled: false });
        await core.dispatch({ type: "SetNetworkEnabled", enabled: true });
        await new Promise((resolve) => setTimeout(resolve, 600));
      };
      // The server behind the proxy goes away: the probe gets a 502.
      await behind.api.close();
      upstreamClosed = true;
      await reprobe();
      assert.equal(core.snapshot().state.agent.access, "allowlisted");
      // Then the network path itself fails.
      await proxy.close();
      await reprobe();
      assert.equal(core.snapshot().state.agent.access, "allowlisted");
      assert.notEqual(core.snapshot().state.agent_button, null);
    } finally {
      if (!upstreamClosed) await behind.api.close();
      await behind.store.close();
      await proxy.close().catch(() => undefined);
    }
  });

  test("integration: an_unreachable_agent_api_is_shown_with_its_reason_and_retry_reaches_the_server_once_up", async () => {
    // A real port with nothing listening on it: connections are refused.
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const apiUrl = `http://127.0.0.1:${port}`;
    const core = await user("ivan", { apiUrl });
    const failed = await waitForState(core, (s) => s.agent.probe_error !== null && !s.agent.probing, 10_000);
    assert.equal(failed.state.agent.access, "unknown");
    assert.match(failed.state.agent.probe_error!.message, /^The agent API could not be reached \(ECONNREFUSED\)\.$/);
    assert.ok(Math.abs(failed.state.agent.probe_error!.at - Date.now() / 1000) < 30, "the failure carries its time");
    assert.deepEqual(failed.state.agent_button, { title: "New Agent", is_busy: false, phase: null, disabled_reason: failed.state.agent.probe_error!.message });
    const refused = await core.dispatch({ type: "EnsureAgent" });
    assert.deepEqual(refused, { ok: false, error: failed.state.agent.probe_error!.message });

    // The real server comes up behind that very URL (a plain TCP pipe on the port); Retry reaches it.
    const behind = await startTestServer({ relays: [relay.url], publicUrl: apiUrl, dataDir: server.dataDir, spawner: server.spawner });
    const sockets = new Set<Socket>();
    const pipe = createTcpServer((socket) => {
      const upstream = connect(behind.api.port, "127.0.0.1");
      sockets.add(socket).add(upstream);
      socket.pipe(upstream).pipe(socket);
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => pipe.listen(port, "127.0.0.1", resolve));
    try {
      assert.deepEqual(await core.dispatch({ type: "RetryAgentProbe" }), { ok: true });
      const known = await waitForState(core, (s) => s.agent.access === "allowlisted", 10_000);
      assert.equal(known.state.agent.probe_error, null);
      assert.deepEqual(known.state.agent_button, { title: "New Agent", is_busy: false, phase: null, disabled_reason: null });

      // Unreachable again: the known answer stands, the failure is shown beside it, the button stays usable.
      const closing = new Promise((resolve) => pipe.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closing;
      await core.dispatch({ type: "RetryAgentProbe" });
      const again = await waitForState(core, (s) => s.agent.probe_error !== null && !s.agent.probing, 10_000);
      assert.equal(again.state.agent.access, "allowlisted");
      assert.equal(again.state.agent_button?.disabled_reason, null);
    } finally {
      for (const socket of sockets) socket.destroy();
      if (pipe.listening) await new Promise((resolve) => pipe.close(resolve));
      await behind.close();
    }
  });

  test("not_allowlisted_sees_no_button_and_the_action_is_refused", async () => {
    const core = await user("carol", { allowlisted: false });
    await waitForState(core, (s) => s.agent.access === "not_allowlisted", 10_000);
    assert.equal(core.snapshot().state.agent_button, null);
    const reply = await core.dispatch({ type: "EnsureAgent" });
    assert.deepEqual(reply, { ok: false, error: "This account is not allowlisted for agents." });
    assert.equal((await vmsOf(core)).length, 0);
  });

  test("stale_probe_and_flow_results_are_ignored_after_logout_and_login", async () => {
    const proxy = await laggingProxy("http://127.0.0.1:1");
    const lagging = await startTestServer({ relays: [relay.url], publicUrl: proxy.url, dataDir: server.dataDir, spawner: server.spawner });
    proxy.retarget(lagging.api.port);
    try {
      const core = await user("dave", { apiUrl: proxy.url });
      const dave = pubkeyOf(core.snapshot().state);
      await waitForState(core, (s) => s.agent.access === "allowlisted", 10_000);
      // Dave's flow starts, then his requests lag; he logs out and Erin (not allowlisted) logs in.
      proxy.lag.set(dave, 1500);
      await core.dispatch({ type: "EnsureAgent" });
      await core.dispatch({ type: "SetNetworkEnabled", enabled: false });
      await core.dispatch({ type: "SetNetworkEnabled", enabled: true });
      await core.dispatch({ type: "Logout" });
      await core.dispatch({ type: "CreateAccount" });
      const erin = await waitForState(core, (s) => s.auth.status === "logged_in" && s.agent.access === "not_allowlisted", 10_000);
      assert.notEqual(pubkeyOf(erin.state), dave);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const { state } = core.snapshot();
      assert.equal(state.agent.access, "not_allowlisted", "Dave's late probe answer changed nothing");
      assert.equal(state.agent_button, null);
      assert.equal(state.busy.starting_agent, false);
      assert.equal(state.agent.phase, null);
      assert.equal(state.open_chat, null);
      assert.deepEqual(state.chats, []);
      assert.deepEqual(state.toasts, []);
    } finally {
      await lagging.close();
      await proxy.close();
    }
  });

  test("a_spawner_that_keeps_failing_stops_the_flow_after_its_bound", async () => {
    await server.spawner.setFaults({ failCreate: true });
    try {
      const core = await user("frank");
      await waitForState(core, (s) => s.agent_button !== null, 10_000);
      await core.dispatch({ type: "EnsureAgent" });
      const { state } = await waitForState(core, (s) => !s.busy.starting_agent && s.toasts.length > 0, 20_000);
      assert.equal(state.toasts.length, 1);
      assert.match(state.toasts[0]!.message, /^Agent request failed: /);
      assert.equal(state.agent.phase, null);
      assert.equal(state.agent_button?.is_busy, false);
      const rows = (await server.store.listAgents()).filter((a) => a.owner_npub === npubOf(state));
      assert.equal(rows.length, 3, "one ensure and two recoveries, never one per poll");
      assert.ok(rows.every((row) => row.phase === "error"));
      assert.equal((await vmsOf(core)).length, 0);
    } finally {
      await server.spawner.setFaults({});
    }
  });

  test("a_vm_deleted_before_the_click_is_recovered_and_a_new_chat_opens", async () => {
    const core = await user("gina");
    await waitForState(core, (s) => s.agent_button !== null, 10_000);
    const first = await runFlow(core);
    const firstChat = first.open_chat?.chat_id;
    assert.ok(firstChat);
    const [vm] = await vmsOf(core);
    assert.ok(vm);
    await server.spawner.delete(vm.vm_id);
    await core.dispatch({ type: "CloseChat" });
    const second = await runFlow(core);
    const secondChat = second.open_chat?.chat_id;
    assert.ok(secondChat);
    assert.notEqual(secondChat, firstChat, "a recovered agent is a new agent with a new chat");
    const marks = Object.fromEntries(second.chats.map((c) => [c.id, c.agent]));
    assert.equal(marks[secondChat], "current");
    assert.equal(marks[firstChat], "past");
    assert.equal((await vmsOf(core)).length, 1);
  });

  test("an_agent_that_never_becomes_ready_ends_with_the_timeout_message", async () => {
    await server.spawner.setFaults({ neverReady: true });
    try {
      const core = await user("hank", { timings: { agentReadyTimeoutMs: 3000, agentStallMs: 1000 } });
      await waitForState(core, (s) => s.agent_button !== null, 10_000);
      await core.dispatch({ type: "EnsureAgent" });
      const { state } = await waitForState(core, (s) => !s.busy.starting_agent && s.toasts.length > 0, 20_000);
      assert.deepEqual(state.toasts.map((t) => t.message), ["Agent is still starting. Try again in a moment."]);
      assert.equal((await vmsOf(core)).length, 1, "the stalled recover changed nothing on the server");
    } finally {
      await server.spawner.setFaults({});
    }
  });
});
