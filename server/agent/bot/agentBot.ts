// The agent bot: a headless Burrow core inside an agent VM. It publishes its KeyPackage, joins the
// chats its owner invites it to (and only those), and answers the owner's messages. It uses the
// core only through its public API: dispatch, subscribe and onEvent.
import { join } from "node:path";
import { MAX_MESSAGE_LENGTH, isRelayUrl } from "../../../shared/actions.js";
import { npubFromHex, parsePubkeyInput, shortNpub } from "../../../shared/pubkeys.js";
import type { AgentStartupPhase } from "../../../shared/agentApi.js";
import type { AppState, StateSnapshot } from "../../../shared/state.js";
import { foldPushes } from "../../../shared/statePush.js";
import { AppCore, type Logger, type SecretStore, type CoreTimings, type CoreEvent, parsePrivateKey, FileSecretStore, SerialQueue } from "../../../core/index.js";
import { ReplyJournal, type PendingReply } from "./replyJournal.js";
import { apology, echoResponder, type ChatTurn, type Responder } from "./responder.js";

/** The startup phases a bot reports itself, out of the agent API's (shared/agentApi.ts). */
export type BotPhase = Extract<AgentStartupPhase, "booting_guest" | "waiting_for_service_ready" | "waiting_for_keypackage_publish" | "ready">;

/** In the order they are reached; each is reported once. */
export const BOT_PHASES: readonly BotPhase[] = ["booting_guest", "waiting_for_service_ready", "waiting_for_keypackage_publish", "ready"];

export interface AgentBotOptions {
  /** The core's data dir (chats, MLS state; never the key) and the bot's reply journal. One bot per dir. */
  dataDir: string;
  /** The agent's Nostr secret key, 64 hex characters. */
  secretHex: string;
  /** Hex (or npub) of the only account whose invites are accepted and whose messages are answered. */
  ownerPubkey: string;
  relays: string[];
  /** Default: echoResponder. */
  responder?: Responder;
  timings?: Partial<CoreTimings>;
  /** Core and bot log lines; never a secret, never message text. */
  log?: Logger;
  onPhase?: (phase: BotPhase) => void;
}

export interface AgentBot {
  npub: string;
  pubkey: string;
  /** Stops answering and closes the core. Replies still being worked out are answered after the next start. */
  close(): Promise<void>;
}

/** The options cannot work: a bad key, owner or relay. */
export class AgentBotConfigError extends Error {
  override name = "AgentBotConfigError";
}

export const REPLY_JOURNAL_FILE = "agent-bot-replies.json";

const CHAT_MESSAGE_KIND = 9;
/** Earlier messages given to the responder with each new one. */
const MAX_HISTORY_TURNS = 20;
const HISTORY_WAIT_MS = 3_000;
const RESPONDER_FAILED_REASON = "something went wrong on my side";

const short = (hex: string): string => hex.slice(0, 12);

/** The bot's profile name: its owner's, once the owner's profile is known, else the owner's short npub. */
export function agentProfileName(ownerPubkey: string, ownerName: string | null): string {
  return `${ownerName?.trim().slice(0, 90) || shortNpub(npubFromHex(ownerPubkey))}'s agent`;
}
const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The first pushed snapshot that satisfies `predicate` (the current one included). */
function nextSnapshot(core: AppCore, predicate: (snapshot: StateSnapshot) => boolean, timeoutMs: number, what: string): Promise<StateSnapshot> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let unsubscribe: () => void = () => undefined;
    const timer = setTimeout(() => {
      settled = true;
      unsubscribe();
      reject(new Error(`${what}: not reached within ${timeoutMs} ms`));
    }, timeoutMs);
    unsubscribe = core.subscribe(
      foldPushes((snapshot) => {
        if (settled || !predicate(snapshot)) return;
        settled = true;
        clearTimeout(timer);
        queueMicrotask(() => unsubscribe());
        resolve(snapshot);
      }),
    );
  });
}

/** The furthest phase `state` allows; phases only move forward. */
function phaseOf(state: AppState, pubkey: string): BotPhase {
  if (state.auth.status !== "logged_in" || state.auth.pubkey !== pubkey) return "booting_guest";
  if (state.network.status !== "online") return "waiting_for_service_ready";
  if (!state.key_package.published) return "waiting_for_keypackage_publish";
  return "ready";
}

/** A reply as sent: trimmed, never empty, at most MAX_MESSAGE_LENGTH. */
function sendable(text: string): string {
  const trimmed = text.trim();
  if (trimmed === "") return apology(RESPONDER_FAILED_REASON);
  return trimmed.length <= MAX_MESSAGE_LENGTH ? trimmed : `${trimmed.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
}

/**
 * Replies are at most once per message. The core announces a message once, after storing it; the
 * bot writes it to its journal in that same call, before anything else can happen. The journal
 * entry is marked answered just before SendMessage is dispatched. So:
 * - a stop or crash while the responder works (the long window: an LLM call) leaves the entry
 *   pending, and the next start answers it;
 * - a crash in the microseconds between the core's commit and the journal write, or between the
 *   "answered" mark and the dispatch, loses that reply: never a second copy of one.
 */
class Bot {
  private closed = false;
  private phaseIndex = -1;
  private lastToastId = 0;
  private readonly chatQueues = new Map<string, SerialQueue>();
  /** One open-chat window in the core: history reads take turns. */
  private readonly historyReads = new SerialQueue();
  private readonly handledInvites = new Set<string>();
  /** The profile name last asked of the core, so each is published once. */
  private profileName: string | null = null;
  private readonly unsubscribers: Array<() => void> = [];

  constructor(
    private readonly core: AppCore,
    private readonly journal: ReplyJournal,
    private readonly pubkey: string,
    private readonly owner: string,
    private readonly responder: Responder,
    private readonly log: Logger,
    private readonly onPhase: (phase: BotPhase) => void,
  ) {}

  /** Listens from the start, so nothing the restored session receives is missed. */
  listen(): void {
    this.advancePhase("booting_guest");
    this.unsubscribers.push(this.core.onEvent((event) => this.onCoreEvent(event)));
    this.unsubscribers.push(this.core.subscribe(foldPushes(({ state }) => this.onState(state))));
  }

  /** Answers what an earlier run took on and did not answer. */
  resumePending(): void {
    const pending = this.journal.pending();
    if (pending.length > 0) this.log({ event: "replies_resumed", count: pending.length });
    for (const entry of pending) this.enqueue(entry);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    await this.core.close();
  }

  private advancePhase(phase: BotPhase): void {
    const target = BOT_PHASES.indexOf(phase);
    // A phase reached in one push after skipping another is still reported in order.
    while (this.phaseIndex < target) {
      this.phaseIndex += 1;
      const next = BOT_PHASES[this.phaseIndex] as BotPhase;
      this.log({ event: "phase", phase: next });
      this.onPhase(next);
    }
  }

  private onState(state: AppState): void {
    if (this.closed) return;
    this.advancePhase(phaseOf(state, this.pubkey));
    for (const toast of state.toasts) {
      if (toast.id <= this.lastToastId) continue;
      this.lastToastId = toast.id;
      this.log({ event: "core_toast", kind: toast.kind, message: toast.message });
    }
    if (state.auth.status === "logged_in" && state.auth.pubkey === this.pubkey) {
      for (const invite of state.invites) this.considerInvite(invite.id, invite.from.pubkey);
      if (phaseOf(state, this.pubkey) === "ready") this.publishProfile(state);
    }
  }

  /** Our kind 0 names us after the owner; published once online, and again when the owner's name becomes known. */
  private publishProfile(state: AppState): void {
    const ownerName = state.chats.find((chat) => chat.peer?.pubkey === this.owner)?.peer?.name ?? null;
    const name = agentProfileName(this.owner, ownerName);
    if (name === this.profileName) return;
    this.profileName = name;
    if (state.profile?.name === name) return;
    void this.core.dispatch({ type: "SetProfile", name, about: "A Burrow agent", picture: null }).then((reply) => {
      this.log({ event: "profile_set", ok: reply.ok, ...(reply.ok ? {} : { error: reply.error }) });
    });
  }

  private onCoreEvent(event: CoreEvent): void {
    if (this.closed) return;
    if (event.type === "invite_received") {
      this.considerInvite(event.invite.id, event.invite.from);
      return;
    }
    const { chat_id: chatId, message } = event;
    if (message.mine || message.kind !== CHAT_MESSAGE_KIND) return;
    if (message.sender !== this.owner) {
      this.log({ event: "message_ignored", reason: "not_from_owner", chat: short(chatId), from: short(message.sender), id: short(message.id) });
      return;
    }
    const entry: PendingReply = { id: message.id, chat_id: chatId, text: message.text, created_at: message.created_at };
    let added: boolean;
    try {
      added = this.journal.add(entry);
    } catch (error) {
      // Answering matters more than surviving a restart: go on without the journal entry.
      this.log({ event: "reply_journal_write_failed", error: describeError(error) });
      added = true;
    }
    if (!added) {
      this.log({ event: "message_ignored", reason: "already_answered", chat: short(chatId), id: short(message.id) });
      return;
    }
    this.enqueue(entry);
  }

  private considerInvite(inviteId: string, from: string): void {
    if (this.handledInvites.has(inviteId)) return;
    this.handledInvites.add(inviteId);
    const fromOwner = from === this.owner;
    void this.core.dispatch({ type: fromOwner ? "AcceptInvite" : "DeclineInvite", invite_id: inviteId }).then((reply) => {
      this.log({ event: fromOwner ? "invite_accepted" : "invite_declined", invite: short(inviteId), from: short(from), ok: reply.ok, ...(reply.ok ? {} : { error: reply.error }) });
    });
  }

  /** Replies in one chat go out one at a time, in the order the messages came. */
  private enqueue(entry: PendingReply): void {
    let queue = this.chatQueues.get(entry.chat_id);
    if (!queue) {
      queue = new SerialQueue();
      this.chatQueues.set(entry.chat_id, queue);
    }
    void queue.run(() => this.reply(entry)).catch((error: unknown) => this.log({ event: "reply_failed", chat: short(entry.chat_id), id: short(entry.id), error: describeError(error) }));
  }

  private async reply(entry: PendingReply): Promise<void> {
    if (this.closed) return;
    const history = await this.history(entry);
    let text: string;
    try {
      text = sendable(await this.responder({ text: entry.text, history }));
    } catch (error) {
      this.log({ event: "responder_failed", chat: short(entry.chat_id), id: short(entry.id), error: describeError(error) });
      text = apology(RESPONDER_FAILED_REASON);
    }
    // Stopped meanwhile: the entry stays pending and the next start answers it.
    if (this.closed) return;
    try {
      this.journal.complete(entry.id);
    } catch (error) {
      this.log({ event: "reply_journal_write_failed", error: describeError(error) });
    }
    const sent = await this.core.dispatch({ type: "SendMessage", chat_id: entry.chat_id, text });
    this.log({ event: sent.ok ? "reply_sent" : "reply_refused", chat: short(entry.chat_id), id: short(entry.id), ...(sent.ok ? {} : { error: sent.error }) });
  }

  /**
   * The chat's messages before this one, from the core's store: the window of the open chat. The
   * window is the newest page; a message older than all of it (a long backlog) gets no history.
   */
  private history(entry: PendingReply): Promise<ChatTurn[]> {
    return this.historyReads.run(async () => {
      if (this.closed) return [];
      const opened = await this.core.dispatch({ type: "OpenChat", chat_id: entry.chat_id });
      if (!opened.ok) {
        this.log({ event: "history_unavailable", chat: short(entry.chat_id), error: opened.error });
        return [];
      }
      let state: AppState;
      try {
        ({ state } = await nextSnapshot(
          this.core,
          ({ state: s }) =>
            s.open_chat?.chat_id === entry.chat_id &&
            (s.open_chat.messages.some((m) => m.id === entry.id) || (s.open_chat.messages[0]?.created_at ?? 0) > entry.created_at),
          HISTORY_WAIT_MS,
          "chat history",
        ));
      } catch (error) {
        this.log({ event: "history_unavailable", chat: short(entry.chat_id), error: describeError(error) });
        return [];
      }
      const messages = state.open_chat?.messages ?? [];
      const index = messages.findIndex((m) => m.id === entry.id);
      if (index < 0) return [];
      return messages.slice(Math.max(0, index - MAX_HISTORY_TURNS), index).flatMap((m): ChatTurn[] => {
        if (m.mine) return [{ role: "assistant", content: m.text }];
        return m.sender.pubkey === this.owner ? [{ role: "user", content: m.text }] : [];
      });
    });
  }
}

/**
 * Starts an agent bot on `dataDir`: a core logged in with the agent's key, talking to `relays`.
 * Resolves once the session is up; readiness (KeyPackage published) is reported through onPhase.
 * Throws AgentBotConfigError for options that cannot work.
 */
export async function startAgentBot(options: AgentBotOptions): Promise<AgentBot> {
  const log = options.log ?? (() => undefined);
  const keys = parsePrivateKey(options.secretHex);
  if (!keys) throw new AgentBotConfigError("the agent secret is not a valid private key (64 hex characters)");
  const owner = parsePubkeyInput(options.ownerPubkey);
  if (!owner.ok) throw new AgentBotConfigError(`the owner is not a public key: ${owner.error}`);
  if (owner.pubkey === keys.pubkey) throw new AgentBotConfigError("the owner must be another account than the agent");
  if (options.relays.length === 0) throw new AgentBotConfigError("at least one relay is needed");
  const badRelay = options.relays.find((url) => !isRelayUrl(url));
  if (badRelay !== undefined) throw new AgentBotConfigError(`not a ws:// or wss:// relay URL: ${badRelay}`);

  // Bots before issue 11 kept a second copy of the key in their data dir; whoever starts the bot keeps the only one.
  await new FileSecretStore(options.dataDir).clear();
  const journal = ReplyJournal.open(join(options.dataDir, REPLY_JOURNAL_FILE), log);
  // The core opens the agent's session from this store while it starts: no Login, no write.
  const core = await AppCore.create({
    secretStore: new HandedKeyStore(keys.secretHex),
    dataDir: options.dataDir,
    defaultRelays: [...new Set(options.relays)],
    ...(options.timings ? { timings: options.timings } : {}),
    log,
  });
  const bot = new Bot(core, journal, keys.pubkey, owner.pubkey, options.responder ?? echoResponder, log, options.onPhase ?? (() => undefined));
  bot.listen();
  const { state } = core.snapshot();
  if (state.auth.status !== "logged_in" || state.auth.pubkey !== keys.pubkey) {
    await bot.close();
    throw new Error(`login failed: ${state.toasts.at(-1)?.message ?? "the session did not start"}`);
  }
  log({ event: "agent_bot_started", npub: keys.npub, owner: short(owner.pubkey) });
  bot.resumePending();
  return { npub: keys.npub, pubkey: keys.pubkey, close: () => bot.close() };
}

/**
 * The core's key store for a bot: the key it was handed, in memory only. Whoever starts the bot
 * keeps the one copy on disk (the spawner's VM directory), so the core must not write another.
 * "plain_file" is the closest kind: that one copy is a 0600 file.
 */
class HandedKeyStore implements SecretStore {
  readonly kind = "plain_file" as const;
  readonly notice = null;

  constructor(private secretHex: string | null) {}

  async load(): Promise<string | null> {
    return this.secretHex;
  }

  async save(secretHex: string): Promise<void> {
    this.secretHex = secretHex;
  }

  async clear(): Promise<void> {
    this.secretHex = null;
  }
}
