// The agent bot against the embedded relay and a real owner core: invites, replies, restarts, the LLM path.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startRelay, type RunningRelay } from "../../relay/relay.js";
import type { AppState } from "../../../shared/state.js";
import { type AppCore, type LogLine, generateKeys, type LocalKeys } from "../../../core/index.js";
import { FAST_TIMINGS, coreIn, tempDir, waitForState } from "../../../core/testing.js";
import { shortNpub } from "../../../shared/pubkeys.js";
import { AgentBotConfigError, BOT_PHASES, REPLY_JOURNAL_FILE, startAgentBot, type AgentBot, type AgentBotOptions, type BotPhase } from "./agentBot.js";
import { startFakeOpenAi, type FakeOpenAi } from "./fakeOpenAi.js";
import { echoResponder, openAiResponder, type Responder } from "./responder.js";

interface RunningBot {
  bot: AgentBot;
  phases: BotPhase[];
  logs: LogLine[];
}

const pubkeyOf = (core: AppCore): string => {
  const auth = core.snapshot().state.auth;
  return auth.status === "logged_in" ? auth.pubkey : "";
};

async function loggedInCore(dir: string, relays: string[]): Promise<AppCore> {
  const core = await coreIn(dir, 5, relays);
  await core.dispatch({ type: "CreateAccount" });
  await waitForState(core, (s) => s.auth.status === "logged_in" && s.key_package.published, 10_000);
  return core;
}

/** Starts a bot and waits for its "ready" phase. */
async function startBot(options: Omit<AgentBotOptions, "log" | "onPhase" | "timings">, onLog: (line: LogLine) => void = () => undefined): Promise<RunningBot> {
  const phases: BotPhase[] = [];
  const logs: LogLine[] = [];
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const bot = await startAgentBot({
    ...options,
    timings: FAST_TIMINGS,
    log: (line) => {
      logs.push(line);
      onLog(line);
    },
    onPhase: (phase) => {
      phases.push(phase);
      if (phase === "ready") markReady();
    },
  });
  await Promise.race([ready, new Promise((_, reject) => setTimeout(() => reject(new Error(`bot not ready; phases ${phases.join(",")}`)), 10_000))]);
  return { bot, phases, logs };
}

async function waitUntil(check: () => boolean, what: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what()} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitForLog(logs: LogLine[], predicate: (line: LogLine) => boolean): Promise<LogLine> {
  await waitUntil(
    () => logs.some(predicate),
    () => `log line not seen; seen: ${logs.map((l) => l.event).join(",")}`,
  );
  return logs.find(predicate) as LogLine;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** What the other side of the open chat said, oldest first. */
const theirTexts = (state: AppState): string[] => (state.open_chat?.messages ?? []).filter((m) => !m.mine).map((m) => m.text);
const hasReply = (text: string) => (state: AppState) => theirTexts(state).includes(text);

describe("agent bot over the embedded relay", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let owner: AppCore;
  let agentKeys: LocalKeys;
  let running: RunningBot;
  let chatId: string;
  let botDir: string;
  /** What the echo bot did, in order: responder start / end (with the text) and replies sent. */
  const timeline: string[] = [];
  const trackedEcho: Responder = async (input) => {
    timeline.push(`start:${input.text}`);
    if (input.text.startsWith("slow")) await sleep(300);
    timeline.push(`end:${input.text}`);
    return echoResponder(input);
  };
  const trackSent = (line: LogLine) => {
    if (line.event === "reply_sent") timeline.push("sent");
  };

  const botOptions = (responder: Responder = trackedEcho) => ({
    dataDir: botDir,
    secretHex: agentKeys.secretHex,
    ownerPubkey: pubkeyOf(owner),
    relays: [relay.url],
    responder,
  });
  const startTrackedBot = (responder?: Responder) => startBot(botOptions(responder), trackSent);

  /** The owner says `text` and waits for the bot's reply `expected`. */
  async function ownerSays(text: string, expected: string | RegExp): Promise<AppState> {
    assert.deepEqual(await owner.dispatch({ type: "SendMessage", chat_id: chatId, text }), { ok: true });
    const matches = (s: AppState) => {
      const mine = s.open_chat?.messages.findIndex((m) => m.mine && m.text === text) ?? -1;
      const replies = (s.open_chat?.messages ?? []).slice(mine + 1).filter((m) => !m.mine);
      return mine >= 0 && replies.some((m) => (typeof expected === "string" ? m.text === expected : expected.test(m.text)));
    };
    return (await waitForState(owner, matches, 15_000)).state;
  }

  before(async () => {
    dir = await tempDir("burrow-bot-test-");
    relay = await startRelay({ port: 0 });
    owner = await loggedInCore(join(dir.path, "owner"), [relay.url]);
    agentKeys = generateKeys();
    botDir = join(dir.path, "agent");
    running = await startTrackedBot();
  });
  after(async () => {
    await running.bot.close();
    await owner.close();
    await relay.close();
    await dir.remove();
  });

  test("startup_reports_each_phase_in_order_and_ends_ready", () => {
    assert.deepEqual(running.phases, [...BOT_PHASES]);
    assert.equal(running.bot.pubkey, agentKeys.pubkey);
    assert.equal(running.bot.npub, agentKeys.npub);
  });

  test("owner_invite_is_accepted_and_hello_gets_ack_hello", async () => {
    assert.deepEqual(await owner.dispatch({ type: "CreateChat", peer: running.bot.npub }), { ok: true });
    const opened = await waitForState(owner, (s) => s.open_chat !== null && !s.busy.creating_chat, 10_000);
    chatId = opened.state.open_chat!.chat_id;
    await waitForLog(running.logs, (l) => l.event === "invite_accepted" && l["ok"] === true);
    const state = await ownerSays("hello", "ACK: hello");
    const reply = state.open_chat!.messages.find((m) => m.text === "ACK: hello")!;
    assert.equal(reply.sender.pubkey, agentKeys.pubkey);
    assert.equal(reply.status, "received");
  });

  test("the_agent_names_itself_after_its_owner", async () => {
    const ownerState = owner.snapshot().state;
    const ownerNpub = ownerState.auth.status === "logged_in" ? ownerState.auth.npub : "";
    await waitForState(owner, (s) => s.chats.find((c) => c.id === chatId)?.title === `${shortNpub(ownerNpub)}'s agent`, 10_000);
    await owner.dispatch({ type: "SetProfile", name: "Olivia", about: "", picture: null });
    const { state } = await waitForState(owner, (s) => s.chats.find((c) => c.id === chatId)?.title === "Olivia's agent", 10_000);
    assert.equal(state.chats.find((c) => c.id === chatId)?.peer?.name, "Olivia's agent");
  });

  test("replies_in_one_chat_are_worked_out_one_at_a_time", async () => {
    timeline.length = 0;
    for (const text of ["slow one", "two", "three"]) await owner.dispatch({ type: "SendMessage", chat_id: chatId, text });
    await waitForState(owner, (s) => ["ACK: slow one", "ACK: two", "ACK: three"].every((t) => hasReply(t)(s)), 15_000);
    await waitUntil(
      () => timeline.filter((t) => t === "sent").length === 3,
      () => `three replies not sent: ${timeline.join(",")}`,
    );
    // Each reply is computed and sent before the next one starts, whatever order the messages arrived in.
    assert.deepEqual(
      timeline.map((t) => t.split(":")[0]),
      ["start", "end", "sent", "start", "end", "sent", "start", "end", "sent"],
    );
    for (let i = 0; i < 9; i += 3) assert.equal(timeline[i]?.slice("start:".length), timeline[i + 1]?.slice("end:".length));
  });

  test("a_strangers_invite_is_declined_and_the_stranger_gets_no_reply", async () => {
    const stranger = await loggedInCore(join(dir.path, "stranger"), [relay.url]);
    try {
      await stranger.dispatch({ type: "CreateChat", peer: running.bot.npub });
      const opened = await waitForState(stranger, (s) => s.open_chat !== null && !s.busy.creating_chat, 10_000);
      const strangerChat = opened.state.open_chat!.chat_id;
      const declined = await waitForLog(running.logs, (l) => l.event === "invite_declined");
      assert.equal(declined["from"], pubkeyOf(stranger).slice(0, 12));
      assert.equal(declined["ok"], true);
      assert.ok(!running.logs.some((l) => l.event === "invite_accepted" && l["from"] === pubkeyOf(stranger).slice(0, 12)));

      await stranger.dispatch({ type: "SendMessage", chat_id: strangerChat, text: "hi bot, answer me" });
      await waitForState(stranger, (s) => s.open_chat?.messages.some((m) => m.text === "hi bot, answer me" && m.status === "sent") ?? false, 10_000);
      await sleep(1500);
      assert.deepEqual(theirTexts(stranger.snapshot().state), []);
      // The owner is still answered meanwhile.
      await ownerSays("still mine?", "ACK: still mine?");
    } finally {
      await stranger.close();
    }
  });

  test("restarted_on_the_same_data_dir_it_answers_in_the_same_chat_without_repeating", async () => {
    await running.bot.close();
    running = await startTrackedBot();
    assert.deepEqual(running.phases, [...BOT_PHASES]);
    assert.ok(!running.logs.some((l) => l.event === "action" && l["tag"] === "Login"), "the session opens from the handed key, without a Login");
    const state = await ownerSays("hello again", "ACK: hello again");
    assert.equal(state.chats.length, 1);
    assert.equal(theirTexts(state).filter((t) => t === "ACK: hello").length, 1, "no reply sent twice");
  });

  test("a_reply_cut_short_by_a_stop_is_sent_once_after_the_restart", async () => {
    await running.bot.close();
    let responderCalled: () => void = () => undefined;
    const called = new Promise<void>((resolve) => (responderCalled = resolve));
    let release: (text: string) => void = () => undefined;
    const stalling: Responder = () => {
      responderCalled();
      return new Promise((resolve) => (release = resolve));
    };
    running = await startTrackedBot(stalling);
    await owner.dispatch({ type: "SendMessage", chat_id: chatId, text: "interrupted" });
    await called;
    const journal = JSON.parse(await readFile(join(botDir, REPLY_JOURNAL_FILE), "utf8")) as { pending: Array<{ text: string }> };
    assert.deepEqual(journal.pending.map((p) => p.text), ["interrupted"]);
    await running.bot.close();
    release("a late reply that must not be sent");

    running = await startTrackedBot();
    await waitForLog(running.logs, (l) => l.event === "replies_resumed" && l["count"] === 1);
    const { state } = await waitForState(owner, hasReply("ACK: interrupted"), 15_000);
    await sleep(500);
    const texts = theirTexts(owner.snapshot().state);
    assert.equal(texts.filter((t) => t === "ACK: interrupted").length, 1);
    assert.ok(!texts.includes("a late reply that must not be sent"));
    assert.ok(state.open_chat!.messages.length > 0);
  });

  describe("with an OpenAI-compatible model", () => {
    let fake: FakeOpenAi;
    const llmLogs: LogLine[] = [];
    before(async () => {
      fake = await startFakeOpenAi({ kind: "answer", content: "Burrow is a Marmot chat app." });
      await running.bot.close();
      const responder = openAiResponder({ url: fake.baseUrl, model: "test-model", apiKey: "sk-test", timeoutMs: 3000, log: (line) => llmLogs.push(line) });
      running = await startTrackedBot(responder);
    });
    after(async () => {
      await fake.close();
    });

    test("the_owner_gets_the_models_answer_with_the_chat_so_far_as_history", async () => {
      await ownerSays("what is burrow?", "Burrow is a Marmot chat app.");
      const request = fake.requests.at(-1)!;
      assert.equal(request.path, "/v1/chat/completions");
      assert.equal(request.authorization, "Bearer sk-test");
      const body = request.body as { model: string; messages: Array<{ role: string; content: string }> };
      assert.equal(body.model, "test-model");
      assert.equal(body.messages[0]?.role, "system");
      assert.deepEqual(body.messages.at(-1), { role: "user", content: "what is burrow?" });
      const history = body.messages.slice(1, -1);
      assert.deepEqual(history.slice(0, 2), [
        { role: "user", content: "hello" },
        { role: "assistant", content: "ACK: hello" },
      ]);
      assert.deepEqual(history.at(-1), { role: "assistant", content: "ACK: interrupted" });
    });

    test("a_failing_model_gets_the_owner_an_apology", async () => {
      fake.mode = { kind: "error", status: 500 };
      await ownerSays("still there?", /^Sorry, I can't answer right now: my language model answered with an error \(HTTP 500\)/);
      const failure = await waitForLog(llmLogs, (l) => l.event === "llm_request_failed");
      assert.equal(failure["status"], 500);
      fake.mode = { kind: "answer", content: "Back again." };
      await ownerSays("and now?", "Back again.");
    });
  });
});

describe("agent bot configuration", () => {
  test("bad_options_are_refused_before_anything_starts", async () => {
    const dir = await tempDir();
    const keys = generateKeys();
    const owner = generateKeys().pubkey;
    const base = { dataDir: dir.path, secretHex: keys.secretHex, ownerPubkey: owner, relays: ["ws://127.0.0.1:9"] };
    try {
      await assert.rejects(startAgentBot({ ...base, secretHex: "nope" }), AgentBotConfigError);
      await assert.rejects(startAgentBot({ ...base, ownerPubkey: "npub1bad" }), AgentBotConfigError);
      await assert.rejects(startAgentBot({ ...base, ownerPubkey: keys.pubkey }), /another account/);
      await assert.rejects(startAgentBot({ ...base, relays: [] }), /at least one relay/);
      await assert.rejects(startAgentBot({ ...base, relays: ["http://example.org"] }), /relay URL/);
    } finally {
      await dir.remove();
    }
  });

  test("without_a_relay_the_bot_waits_for_service_ready", async () => {
    const dir = await tempDir();
    const phases: BotPhase[] = [];
    const bot = await startAgentBot({
      dataDir: dir.path,
      secretHex: generateKeys().secretHex,
      ownerPubkey: generateKeys().pubkey,
      relays: ["ws://127.0.0.1:9"],
      timings: FAST_TIMINGS,
      onPhase: (phase) => phases.push(phase),
    });
    try {
      await sleep(500);
      assert.deepEqual(phases, ["booting_guest", "waiting_for_service_ready"]);
    } finally {
      await bot.close();
      await dir.remove();
    }
  });
});
