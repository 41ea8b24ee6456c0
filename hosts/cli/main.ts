#!/usr/bin/env node
// `burrow`: the Burrow core without a window. Every command drives the same AppCore as the app.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { agentPhaseText, type AppState } from "../../shared/state.js";
import { foldPushes } from "../../shared/statePush.js";
import { AgentApiError, AppCore, type LogLine, PUBLIC_AGENT_API_URL, PUBLIC_RELAYS, agentApiUrlFromEnv, relaysFromEnv, type CoreTimings, type CoreEvent, defaultDataDir, defaultStackHome, FileSecretStore, waitForState } from "../../core/index.js";

const USAGE = `Usage: burrow <command> [options]

  login --nsec-file F          sign in with the key in F (or BURROW_NSEC)
  whoami                       your npub
  chats                        your chats
  send CHAT_OR_NPUB MESSAGE    send to a chat id, or to the direct chat with an npub (created when needed)
  listen                       print incoming messages until interrupted
  agent status|ensure|recover  your agent, through the agent API
  agent chat MESSAGE           start (or recover) your agent, open its chat, send MESSAGE, print the reply
      [--listen-timeout 90] [--poll-attempts 45] [--poll-delay 2] [--recover-after 10]

Options for every command:
  --data-dir DIR   the CLI's data (default: ${join(defaultDataDir(), "cli")}; keep it apart from the app's)
  --relay URL      relay (repeatable; default: the running local stack's, else BURROW_RELAYS, else public relays)
  --api-url URL    agent API (default: BURROW_AGENT_API_URL, else the running local stack's, else the public one)
  --json           machine-readable output on stdout; progress goes to stderr either way`;

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const progress = (text: string): void => void process.stderr.write(`${text}\n`);

interface Stack {
  relay_url?: string;
  agent_api_url?: string;
}

/** The running local stack `npm start` uses, when there is one: its stack.json in the stack home (or, from older versions, beside the app's data). */
async function localStack(dataDir: string): Promise<Stack> {
  for (const path of [join(defaultStackHome(), "stack.json"), join(dataDir, "stack.json"), join(dataDir, "..", "stack.json"), join(defaultDataDir(), "stack.json")]) {
    try {
      const stack = JSON.parse(await readFile(path, "utf8")) as Stack;
      if (stack.relay_url || stack.agent_api_url) return stack;
    } catch {
      // try the next place
    }
  }
  return {};
}

interface Session {
  core: AppCore;
  state(): AppState;
  until(predicate: (state: AppState) => boolean, timeoutMs: number, what: string): Promise<AppState>;
  close(): Promise<void>;
}

async function openSession(options: { dataDir: string; relays: string[]; apiUrl: string; timings?: Partial<CoreTimings>; verbose: boolean }): Promise<Session> {
  const log = (line: LogLine): void => {
    if (options.verbose) progress(JSON.stringify(line));
  };
  const core = await AppCore.create({
    secretStore: new FileSecretStore(options.dataDir),
    dataDir: options.dataDir,
    defaultRelays: options.relays,
    agentApiUrl: options.apiUrl,
    ...(options.timings ? { timings: options.timings } : {}),
    log,
  });
  let latest = core.snapshot().state;
  core.subscribe(foldPushes(({ state }) => (latest = state)));
  return {
    core,
    state: () => latest,
    until: async (predicate, timeoutMs, what) =>
      (await waitForState(core, predicate, timeoutMs, () => new CliError(`Timed out waiting for ${what}.`))).state,
    close: () => core.close(),
  };
}

function requireLogin(session: Session): { npub: string; pubkey: string } {
  const auth = session.state().auth;
  if (auth.status !== "logged_in") throw new CliError("Not signed in. Run: burrow login --nsec-file FILE");
  return auth;
}

/** The newest error toast, as the app would show it. */
function lastError(state: AppState): string | null {
  return [...state.toasts].reverse().find((t) => t.kind === "error")?.message ?? null;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          "data-dir": { type: "string" },
          relay: { type: "string", multiple: true },
          "api-url": { type: "string" },
          json: { type: "boolean", default: false },
          verbose: { type: "boolean", default: false },
          help: { type: "boolean", default: false },
          "nsec-file": { type: "string" },
          "listen-timeout": { type: "string", default: "90" },
          "poll-attempts": { type: "string", default: "45" },
          "poll-delay": { type: "string", default: "2" },
          "recover-after": { type: "string", default: "10" },
        },
      });
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
  })();
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const json = values.json === true;
  const print = (human: string, data: unknown): void => console.log(json ? JSON.stringify(data) : human);
  const dataDir = resolve(values["data-dir"] ?? join(defaultDataDir(), "cli"));
  const stack = await localStack(dataDir);
  const relays = values.relay?.length ? values.relay : (stack.relay_url ? [stack.relay_url] : null) ?? relaysFromEnv(process.env["BURROW_RELAYS"]) ?? PUBLIC_RELAYS;
  const apiUrl = (values["api-url"] ?? agentApiUrlFromEnv(process.env) ?? stack.agent_api_url ?? PUBLIC_AGENT_API_URL).replace(/\/+$/, "");
  const seconds = (name: "listen-timeout" | "poll-delay"): number => {
    const value = Number(values[name]);
    if (!(value > 0)) throw new CliError(`--${name} must be a positive number of seconds`, 2);
    return value;
  };
  const count = (name: "poll-attempts" | "recover-after"): number => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1) throw new CliError(`--${name} must be a positive integer`, 2);
    return value;
  };
  // The CLI's Pika-like pacing: a fixed poll delay, a bounded number of polls, one recover after a stall.
  const pollMs = seconds("poll-delay") * 1000;
  const timings: Partial<CoreTimings> = {
    agentPollInitialMs: pollMs,
    agentPollMaxMs: pollMs,
    agentReadyTimeoutMs: count("poll-attempts") * pollMs,
    agentStallMs: count("recover-after") * pollMs,
  };
  const session = await openSession({ dataDir, relays, apiUrl, timings, verbose: values.verbose === true });
  try {
    switch (command) {
      case "login": {
        const fromFile = values["nsec-file"] ? (await readFile(values["nsec-file"], "utf8")).trim() : undefined;
        const key = fromFile ?? process.env["BURROW_NSEC"]?.trim();
        if (!key) throw new CliError("Give the key with --nsec-file FILE or BURROW_NSEC.", 2);
        const reply = await session.core.dispatch({ type: "Login", nsec: key });
        if (!reply.ok) throw new CliError(reply.error);
        const state = await session.until((s) => s.auth.status === "logged_in" || lastError(s) !== null, 10_000, "sign-in");
        const auth = state.auth;
        if (auth.status !== "logged_in") throw new CliError(lastError(state) ?? "Sign-in failed.");
        print(`Signed in as ${auth.npub}`, { npub: auth.npub, pubkey: auth.pubkey });
        return;
      }
      case "whoami": {
        const auth = requireLogin(session);
        print(auth.npub, { npub: auth.npub, pubkey: auth.pubkey });
        return;
      }
      case "chats": {
        requireLogin(session);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const chats = session.state().chats;
        if (json) console.log(JSON.stringify(chats));
        else if (chats.length === 0) console.log("No chats yet.");
        else for (const c of chats) console.log(`${c.id}  ${c.title}${c.agent ? ` [${c.agent} agent]` : ""}  ${c.unread ? `(${c.unread} unread)  ` : ""}${c.last_message ?? ""}`);
        return;
      }
      case "send": {
        const [target, ...words] = rest;
        const text = words.join(" ");
        if (!target || !text) throw new CliError("Usage: burrow send CHAT_OR_NPUB MESSAGE", 2);
        requireLogin(session);
        const chatId = await openChat(session, target);
        const sent = await sendAndConfirm(session, chatId, text);
        print(`Sent to ${chatId}`, { chat_id: chatId, message_id: sent });
        return;
      }
      case "listen": {
        const me = requireLogin(session);
        progress(`Listening as ${me.npub} (Ctrl-C to stop)…`);
        session.core.onEvent((event: CoreEvent) => {
          if (event.type === "message_received" && !event.message.mine) {
            print(`[${event.chat_id.slice(0, 8)}] ${event.message.sender.slice(0, 8)}: ${event.message.text}`, event);
          } else if (event.type === "invite_received") {
            print(`Invite from ${event.invite.from.slice(0, 8)} to ${event.invite.group_name} (${event.invite.id})`, event);
          }
        });
        await new Promise<void>((resolve) => {
          process.once("SIGINT", () => resolve());
          process.once("SIGTERM", () => resolve());
        });
        return;
      }
      case "agent":
        return await agentCommand(session, rest, { apiUrl, json, listenTimeoutMs: seconds("listen-timeout") * 1000, print });
      default:
        throw new CliError(`Unknown command: ${command}\n\n${USAGE}`, 2);
    }
  } finally {
    await session.close();
  }
}

/** A chat id of ours, or the direct chat with an npub / hex pubkey (opened or created by the core). */
async function openChat(session: Session, target: string): Promise<string> {
  if (/^[0-9a-f]{64}$/.test(target) && session.state().chats.some((c) => c.id === target)) {
    await session.core.dispatch({ type: "OpenChat", chat_id: target });
    return target;
  }
  progress("Opening the direct chat…");
  const reply = await session.core.dispatch({ type: "CreateChat", peer: target });
  if (!reply.ok) throw new CliError(reply.error);
  const state = await session.until((s) => (s.open_chat !== null && !s.busy.creating_chat) || (!s.busy.creating_chat && lastError(s) !== null), 60_000, "the chat");
  if (!state.open_chat) throw new CliError(lastError(state) ?? "Could not open the chat.");
  return state.open_chat.chat_id;
}

async function sendAndConfirm(session: Session, chatId: string, text: string): Promise<string> {
  const before = new Set(session.state().open_chat?.messages.map((m) => m.id) ?? []);
  const reply = await session.core.dispatch({ type: "SendMessage", chat_id: chatId, text });
  if (!reply.ok) throw new CliError(reply.error);
  const state = await session.until(
    (s) => s.open_chat?.messages.some((m) => m.mine && !before.has(m.id) && (m.status === "sent" || m.status === "failed")) ?? false,
    30_000,
    "the message to be sent",
  );
  const message = state.open_chat!.messages.find((m) => m.mine && !before.has(m.id))!;
  if (message.status === "failed") throw new CliError(`Sending failed: ${message.error ?? "unknown error"}`);
  return message.id;
}

async function agentCommand(
  session: Session,
  args: string[],
  options: { apiUrl: string; json: boolean; listenTimeoutMs: number; print: (human: string, data: unknown) => void },
): Promise<void> {
  const [action, ...words] = args;
  const auth = requireLogin(session);
  const call = async (name: "me" | "ensure" | "recover") => {
    try {
      return await session.core.agentRequest(name);
    } catch (error) {
      throw new CliError(error instanceof AgentApiError ? error.toUserMessage() : String(error));
    }
  };
  switch (action) {
    case "status":
    case "ensure":
    case "recover": {
      const response = await call(action === "status" ? "me" : action);
      if (response.agent) {
        options.print(`${response.agent.agent_id}  vm=${response.agent.vm_id ?? "-"}  ${response.agent.state}${response.agent.startup_phase ? ` (${response.agent.startup_phase})` : ""}`, { status: response.status, ...response.agent });
        return;
      }
      options.print(`${response.status} ${response.error ?? ""}`.trim(), { status: response.status, error: response.error });
      if (!(action === "ensure" && response.status === 409)) process.exitCode = 1;
      return;
    }
    case "chat": {
      const text = words.join(" ");
      if (!text) throw new CliError("Usage: burrow agent chat MESSAGE", 2);
      progress(`Signed in as ${auth.npub}; agent API ${options.apiUrl}`);
      const access = await session.until((s) => s.agent.access !== "unknown" || s.agent.probe_error !== null, 20_000, "agent access");
      if (access.agent.access === "unknown" && access.agent.probe_error) throw new CliError(access.agent.probe_error.message);
      if (access.agent.access === "not_allowlisted") throw new CliError("This account is not allowlisted for agents.");
      let lastPhase = "";
      const unsubscribe = session.core.subscribe(
        foldPushes(({ state }) => {
          if (state.agent.phase && state.agent.phase !== lastPhase) {
            lastPhase = state.agent.phase;
            progress(agentPhaseText(state.agent.phase));
          }
        }),
      );
      let sawBusy = false;
      const finished = session.until(
        (s) => {
          if (s.busy.starting_agent) sawBusy = true;
          return sawBusy && !s.busy.starting_agent;
        },
        15 * 60_000,
        "the agent",
      );
      const reply = await session.core.dispatch({ type: "EnsureAgent" });
      if (!reply.ok) throw new CliError(reply.error);
      const ready = await finished;
      unsubscribe();
      if (!ready.open_chat) throw new CliError(lastError(ready) ?? "The agent did not start.");
      const chatId = ready.open_chat.chat_id;
      const agentChat = ready.chats.find((c) => c.id === chatId);
      const answer = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new CliError(`No reply from the agent within ${options.listenTimeoutMs / 1000} s.`)), options.listenTimeoutMs);
        const stop = session.core.onEvent((event) => {
          if (event.type === "message_received" && event.chat_id === chatId && !event.message.mine && event.message.kind === 9) {
            clearTimeout(timer);
            stop();
            resolve(event.message.text);
          }
        });
      });
      progress("Sending…");
      await sendAndConfirm(session, chatId, text);
      progress("Waiting for the agent's reply…");
      const text_ = await answer;
      options.print(text_, { chat_id: chatId, agent: agentChat?.peer?.npub ?? null, reply: text_ });
      return;
    }
    default:
      throw new CliError("Usage: burrow agent status|ensure|recover|chat MESSAGE", 2);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    if (error instanceof CliError) {
      console.error(error.message);
      process.exit(error.exitCode);
    }
    console.error(`burrow: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
