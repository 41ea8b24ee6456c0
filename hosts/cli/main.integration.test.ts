// The `burrow` CLI as a process, against the embedded relay and the real agent server.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { npubEncode, nsecEncode } from "nostr-tools/nip19";
import { startTestServer, type TestServer } from "../../server/agent/api/testServer.js";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { AppCore } from "../../core/index.js";
import { coreIn, tempDir, waitForState } from "../../core/testing.js";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "main.js");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("burrow CLI", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let server: TestServer;
  let peer: AppCore;
  const secret = generateSecretKey();
  const npub = npubEncode(getPublicKey(secret));

  const burrow = (args: string[], env: NodeJS.ProcessEnv = {}, dataDir = join(dir.path, "cli")): Promise<Result> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args, "--data-dir", dataDir, "--relay", relay.url, "--api-url", server.url], {
        env: { ...process.env, BURROW_NSEC: "", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("exit", (code) => resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() }));
    });

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0 });
    server = await startTestServer({ relays: [relay.url] });
    peer = await coreIn(join(dir.path, "peer"), 5, [relay.url]);
    await peer.dispatch({ type: "CreateAccount" });
    await waitForState(peer, (s) => s.key_package.published, 10_000);
  });
  after(async () => {
    await peer.close();
    await server.close();
    await relay.close();
    await dir.remove();
  });

  test("commands_refuse_without_a_login_and_bad_keys", async () => {
    const whoami = await burrow(["whoami"], {}, join(dir.path, "nobody"));
    assert.equal(whoami.code, 1);
    assert.match(whoami.stderr, /Not signed in\. Run: burrow login/);
    const bad = await burrow(["login"], { BURROW_NSEC: "nsec1broken" }, join(dir.path, "nobody"));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Invalid private key/);
    const usage = await burrow(["send", "only-one-arg"], {}, join(dir.path, "nobody"));
    assert.equal(usage.code, 2);
    assert.equal((await burrow(["frobnicate"])).code, 2);
  });

  test("login_whoami_and_an_empty_chat_list", async () => {
    const keyFile = join(dir.path, "nsec.txt");
    await writeFile(keyFile, `${nsecEncode(secret)}\n`, { mode: 0o600 });
    const login = await burrow(["login", "--nsec-file", keyFile, "--json"]);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(JSON.parse(login.stdout).npub, npub);
    const whoami = await burrow(["whoami"]);
    assert.equal(whoami.stdout, npub);
    assert.equal((await burrow(["chats"])).stdout, "No chats yet.");
  });

  test("send_to_an_npub_creates_the_chat_and_listen_prints_replies", async () => {
    const peerState = peer.snapshot().state;
    const peerNpub = peerState.auth.status === "logged_in" ? peerState.auth.npub : "";
    const sent = await burrow(["send", peerNpub, "hello from the cli", "--json"]);
    assert.equal(sent.code, 0, sent.stderr);
    const chatId = JSON.parse(sent.stdout).chat_id as string;
    const invite = await waitForState(peer, (s) => s.invites.length === 1, 10_000);
    await peer.dispatch({ type: "AcceptInvite", invite_id: invite.state.invites[0]!.id });
    await waitForState(peer, (s) => s.open_chat?.messages.some((m) => m.text === "hello from the cli") ?? false, 10_000);

    const chats = JSON.parse((await burrow(["chats", "--json"])).stdout) as Array<{ id: string }>;
    assert.deepEqual(chats.map((c) => c.id), [chatId]);

    const listener = spawn(process.execPath, [CLI, "listen", "--data-dir", join(dir.path, "cli"), "--relay", relay.url, "--api-url", server.url], { stdio: ["ignore", "pipe", "pipe"] });
    const lines = createInterface({ input: listener.stdout });
    const heard = new Promise<string>((resolve) => lines.on("line", (line) => line.includes("pong") && resolve(line)));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await peer.dispatch({ type: "SendMessage", chat_id: chatId, text: "pong" });
    const line = await heard;
    assert.match(line, new RegExp(`^\\[${chatId.slice(0, 8)}\\] [0-9a-f]{8}: pong$`));
    const exited = new Promise((resolve) => listener.once("exit", resolve));
    listener.kill("SIGINT");
    assert.equal(await exited, 0);
  });

  test("agent_commands_status_ensure_and_chat", async () => {
    let status = await burrow(["agent", "status", "--json"]);
    assert.equal(status.code, 1);
    assert.equal(JSON.parse(status.stdout).status, 403);
    const refused = await burrow(["agent", "chat", "hi"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /This account is not allowlisted for agents\./);

    await server.store.setAllowlist({ npub, active: true, note: "cli test", max_agents: 5 }, "test", "add");
    status = await burrow(["agent", "status", "--json"]);
    assert.equal(JSON.parse(status.stdout).status, 404);
    const ensured = await burrow(["agent", "ensure", "--json"]);
    assert.equal(ensured.code, 0, ensured.stderr);
    const agent = JSON.parse(ensured.stdout) as { status: number; agent_id: string; state: string };
    assert.equal(agent.status, 202);
    assert.match(agent.agent_id, /^npub1/);
    const again = await burrow(["agent", "ensure", "--json"]);
    assert.equal(again.code, 0, "an agent that exists is no failure for ensure");
    assert.equal(JSON.parse(again.stdout).status, 409);
    status = await burrow(["agent", "status"]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^${agent.agent_id}  vm=\\S+  (creating|ready)`));
    const chat = await burrow(["agent", "chat", "ping the agent", "--json", "--poll-delay", "0.2", "--listen-timeout", "30"]);
    assert.equal(chat.code, 0, chat.stderr);
    assert.equal(JSON.parse(chat.stdout).reply, "ACK: ping the agent");
    assert.match(chat.stderr, /Waiting for the agent's reply/);
    status = await burrow(["agent", "status", "--json"]);
    assert.deepEqual([JSON.parse(status.stdout).agent_id, JSON.parse(status.stdout).state], [agent.agent_id, "ready"]);
  });
});
