// One logged-in account: its store, relays, KeyPackages and Marmot chats. Created at login,
// closed at logout; everything it reports goes through the core's `update`.
import type { Event } from "nostr-tools/core";
import type { Filter } from "nostr-tools/filter";
import type { MlsMessage } from "ts-mls";
import type { ChatAction, DispatchReply, GroupAction } from "../../shared/actions.js";
import { toUserMessage } from "../../shared/errors.js";
import { npubFromHex, parsePubkeyInput } from "../../shared/pubkeys.js";
import type { ChatSummary, MessageView, ProfileView } from "../../shared/state.js";
import type { AccountContext } from "../state/context.js";
import type { CoreEvent } from "../base/events.js";
import { AgentManager } from "../features/agent/agentFlow.js";
import { KeyPackageManager, type KeyPackagePublished } from "../features/keyPackages/keyPackages.js";
import {
  ADDRESSABLE_KEY_PACKAGE_KIND,
  CHAT_MESSAGE_KIND,
  EpochKeyCache,
  GIFT_WRAP_KIND,
  GROUP_EVENT_KIND,
  KEY_PACKAGE_KIND,
  KEY_PACKAGE_RELAY_LIST_KIND,
  chatMessageRumor,
  copyEvent,
  createGroup,
  deriveGroupEventKey,
  deserializeGroupState,
  giftWrap,
  groupMembers,
  joinFromWelcome,
  nostrGroupIdHex,
  parseRumor,
  parseWelcomeRumor,
  processGroupMessage,
  readWelcome,
  selectKeyPackage,
  serializeGroupState,
  unwrapGroupEvent,
  welcomeRumor,
  wrapGroupMessage,
  encryptRumor,
  verifySignature,
  addMembers,
  commitPending,
  compareCommitEvents,
  proposeLeave,
  reactionRumor,
  readGroupData,
  removeMembers,
  updateGroupData,
  type CommitOutcome,
  type GroupEventKey,
  type Rumor,
  type MarmotGroupData,
} from "../marmot/index.js";
import { MarmotError, describeError } from "../marmot/errors.js";
import { serializeRumor } from "../marmot/rumor.js";
import { groupEventGroupId } from "../marmot/groupEvents.js";
import { keyPackageRelayListRelays } from "../marmot/keyPackage.js";
import { SerialQueue } from "../base/serialQueue.js";
import { normalizeRelayUrl, normalizeRelayUrls, sameRelayUrl } from "../../shared/relayUrl.js";
import { unixSeconds } from "../base/clock.js";
import type { RelayPool } from "../relays/pool.js";
import type { GroupInput, GroupRow, MessageRow } from "../storage/accountStore.js";
import type { EffectToken } from "../base/tokens.js";
import type { EffectKind } from "../state/context.js";

type ClientState = Awaited<ReturnType<typeof deserializeGroupState>>;

interface LoadedGroup {
  row: GroupRow;
  state: ClientState;
  keys: EpochKeyCache;
  /** The last commit applied and the state before it: a rival commit of that epoch may still win (MIP-03). */
  branch?: { epoch: bigint; before: ClientState; commit: Pick<Event, "id" | "created_at">; ours: boolean };
}

const PROFILE_KIND = 0;
const RETAINED_EPOCHS = 5;
/** Ids of events we failed to open, with the epoch at which they first failed: bounded, oldest forgotten first. */
const MAX_FAILED_TRACKED = 50_000;
/** The in-memory "already received" filter is only a shortcut (the store knows what was processed): bounded. */
const MAX_SEEN = 200_000;
// One transaction per this many events (a catch-up is applied and stored together, so it is ordered together).
const INBOX_BATCH = 5_000;
const MAX_PUBLISHES_IN_FLIGHT = 64;
/** Events per page of a catch-up query; relays cap pages, so a full page means there are older ones. */
const CATCH_UP_PAGE = 500;
const MAX_CATCH_UP_PAGE = 8_000;
const MAX_CATCH_UP_PAGES = 200;
/** A backlog at least this long shows "Syncing done/total", updated at most this often. */
const SYNC_PROGRESS_FROM = 50;
const SYNC_PROGRESS_EVERY_MS = 250;

const shortNpub = (npub: string): string => `${npub.slice(0, 12)}…${npub.slice(-6)}`;
const groupCursorKey = (groupId: string): string => `cursor:445:${groupId}`;
const GIFT_WRAP_CURSOR = "cursor:1059";
const AGENT_API_KEY = "agent_api_url";
const AGENTS_KEY = "agents";
const RELAYS_KEY = "relays";
/** The default relays this account was last started with, so a saved list can follow when they change. */
const DEFAULT_RELAYS_KEY = "default_relays";
const PROFILE_CURSOR = "cursor:0";

function isLoopbackRelay(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  } catch {
    return false;
  }
}

class UserError extends Error {}

/** Messages of this kind are our own system lines (never a Nostr kind we receive). */
const SYSTEM_KIND = 1_000;
const REACTION_KIND = 7;
/** Members per add commit: their Welcome must fit one gift wrap (~90 fit; PROTOCOL.md). */
const ADD_BATCH = 50;
const FLAGS_KEY = "chat_flags";

interface ChatFlags {
  muted?: boolean;
  left?: boolean;
  /** Who removed us (hex), when we did not leave ourselves. */
  removed_by?: string;
}

/** Kept per account: "pending" once the account was created here, "dismissed" once the prompt was answered. */
const KEY_BACKUP_KEY = "key_backup";
/** Outcomes of requests with a request_id kept in the state. */
const MAX_OUTCOMES = 8;

interface SystemLineData {
  type: "created" | "added" | "removed" | "renamed" | "left";
  actor?: string;
  targets?: string[];
  name?: string;
}

/** Ids for the second and later system lines of one commit. */
function systemLineId(eventId: string, index: number): string {
  return (eventId.slice(0, 62) + index.toString(16).padStart(2, "0")).slice(0, 64);
}

/** One epoch's key as stored: a one-entry EpochKeyCache, so the format has one owner. */
function encodeEpochKey(key: GroupEventKey): Uint8Array {
  const cache = new EpochKeyCache(1);
  cache.put(key);
  return cache.serialize();
}

export class Account {
  private readonly keyPackages: KeyPackageManager;
  private readonly agent: AgentManager;
  private defaultAgentApiUrl = "";
  private readonly groups = new Map<string, LoadedGroup>();
  private readonly mls = new SerialQueue();
  private inbox: Event[] = [];
  private draining = false;
  /** Events of epochs we have not reached yet, per group (bounded): tried again after each commit. */
  private readonly held = new Map<string, Event[]>();
  /**
   * Per group, the oldest created_at of events refused because its held list was full. They are not
   * "seen": the group's next commit fetches them again ("waiting" until then, "issued" once asked for).
   */
  private readonly refused = new Map<string, { oldest: number; state: "waiting" | "due" | "issued" }>();
  /** Epoch at which each unopened event first failed: junk is dropped a few commits later. */
  private readonly firstFailed = new Map<string, bigint>();
  private readonly inputCounts = { held: 0, refused: 0, dropped_undecryptable: 0, rejected: 0 };
  private inputReport: { last: number; timer: NodeJS.Timeout | null; dirty: boolean } = { last: 0, timer: null, dirty: false };
  private readonly seen = new Set<string>();
  private readonly announce: CoreEvent[] = [];
  private readonly inserts: Array<{ order: [number, number, number]; write: () => void }> = [];
  private readonly dirtyStates = new Set<string>();
  private readonly cursors = new Map<string, number>();
  /** Per-chat flags (muted, left), read from the store once and kept here: every received event consults them. */
  private chatFlags: Record<string, ChatFlags> | null = null;
  private readonly pendingCommits = new Set<string>();
  private publishing = 0;
  private readonly sentMarks: string[] = [];
  private readonly publishSlots: Array<() => void> = [];
  /** Subscriptions (per relay) whose stored events are still coming: the inbox waits for them. */
  private readonly catchingUp = new Map<string, { count: number; oldest: number; filters: Filter[] }>();
  private catchUpTimer: NodeJS.Timeout | undefined;
  private readonly keyPackageWaiters: Array<{ resolve(): void; reject(error: Error): void }> = [];
  private openWindow: { chatId: string; limit: number } | null = null;
  private refreshScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly ctx: AccountContext) {
    this.keyPackages = new KeyPackageManager(ctx, (result) => this.onKeyPackagePublished(result));
    this.agent = new AgentManager({
      ctx,
      apiUrl: () => this.agentApiUrl(),
      openOrCreateDirectChat: (peer, token) => this.openOrCreateDirectChat(peer, token),
      openChat: (chatId) => void this.openChat(chatId),
      setCurrentAgent: (pubkey) => this.setCurrentAgent(pubkey),
    });
  }

  /** `defaultRelays`: the relays of an account that has not chosen its own (the host's, e.g. the local stack's). */
  start(defaultRelays: string[], defaultAgentApiUrl: string): void {
    this.defaultAgentApiUrl = defaultAgentApiUrl;
    const relays = this.relaysAtStart(defaultRelays);
    for (const row of this.ctx.store.listGroups()) this.loadGroup(row);
    const chosenAgentApi = this.ctx.store.getMeta<string>(AGENT_API_KEY);
    this.ctx.update((s) => {
      s.settings.relays = relays;
      s.settings.agent_api_url = chosenAgentApi;
      s.agent.api_url = this.agentApiUrl();
    });
    this.ctx.pool.setRelays(relays);
    for (const [key, filters] of [
      ["gift_wraps", () => this.giftWrapFilters()],
      ["groups", () => this.groupFilters()],
      ["profiles", () => this.profileFilters()],
    ] as const) {
      this.ctx.pool.subscribe(key, {
        filters: (relay) => this.catchUpFrom(key, relay, filters()),
        onEvent: (event, relay) => this.receive(event, `${key}|${relay}`),
        onEose: (relay) => {
          void this.caughtUp(key, relay);
          // The gift-wrap subscription is issued once per connection, so its EOSE means a relay (re)connected:
          // one that came back empty, or was down at the last check, gets our KeyPackage again.
          if (key === "gift_wraps") void this.keyPackages.ensurePublished().catch((error: unknown) => this.ctx.log({ event: "key_package_check_failed", error: describeError(error) }));
        },
      });
    }
    this.ctx.update((s) => {
      s.key_backup_prompt = this.ctx.store.getMeta<string>(KEY_BACKUP_KEY) === "pending";
    });
    this.refresh();
    void this.keyPackages.ensurePublished().catch((error: unknown) => this.ctx.log({ event: "key_package_check_failed", error: describeError(error) }));
    this.agent.probe();
  }

  /** A new account: its key exists only here, so it is offered for backup once (until dismissed). */
  offerKeyBackup(): void {
    if (this.ctx.store.getMeta<string>(KEY_BACKUP_KEY) === null) this.ctx.store.setMeta(KEY_BACKUP_KEY, "pending");
  }

  dismissKeyBackup(): void {
    this.ctx.store.setMeta(KEY_BACKUP_KEY, "dismissed");
    this.ctx.update((s) => {
      s.key_backup_prompt = false;
    });
  }

  retryAgentProbe(): void {
    this.agent.probe();
  }

  /**
   * The saved relay list, else the defaults. A default this account was given before and no longer
   * is (the local stack's relay on a new port) is replaced in the saved list by today's defaults;
   * relays the user added stay, and a default the user removed is not added back.
   */
  private relaysAtStart(defaults: string[]): string[] {
    const saved = this.ctx.store.getMeta<string[]>(RELAYS_KEY);
    const current = normalizeRelayUrls(defaults);
    // Accounts from before this was remembered: a loopback relay that is not today's is the old local stack's.
    const before = this.ctx.store.getMeta<string[]>(DEFAULT_RELAYS_KEY) ?? (current.some(isLoopbackRelay) ? (saved ?? []).filter(isLoopbackRelay) : []);
    this.ctx.store.setMeta(DEFAULT_RELAYS_KEY, current);
    if (!saved) return defaults;
    const gone = new Set(normalizeRelayUrls(before).filter((url) => !current.includes(url)));
    const kept = saved.filter((url) => !gone.has(normalizeRelayUrl(url) ?? url));
    if (kept.length === saved.length) return saved;
    const replaced = [...kept, ...defaults.filter((url) => !kept.some((k) => sameRelayUrl(k, url)))];
    this.ctx.store.setMeta(RELAYS_KEY, replaced);
    this.ctx.log({ event: "default_relays_replaced", removed: saved.length - kept.length, relays: replaced.length });
    return replaced;
  }

  /** The network came back: relays are online again, and agent access may be knowable now. */
  networkBack(): void {
    this.relayConnected();
    if (this.ctx.state().agent.access === "unknown") this.agent.probe();
  }

  agentRequest(request: "me" | "ensure" | "recover"): ReturnType<AgentManager["call"]> {
    return this.agent.call(request);
  }

  ensureAgent(): DispatchReply {
    return this.agent.ensure();
  }

  /** A new agent API: access is unknown again until the probe of that server answers. */
  setAgentApiUrl(url: string | null): void {
    if (url === null) this.ctx.store.deleteMeta(AGENT_API_KEY);
    else this.ctx.store.setMeta(AGENT_API_KEY, url);
    this.ctx.tokens.invalidate("agent_flow");
    this.ctx.update((s) => {
      s.settings.agent_api_url = url;
      s.agent.api_url = this.agentApiUrl();
      s.agent.access = "unknown";
      s.agent.phase = null;
      s.busy.starting_agent = false;
    });
    this.agent.probe();
  }

  private agentApiUrl(): string {
    return this.ctx.store.getMeta<string>(AGENT_API_KEY) ?? this.defaultAgentApiUrl;
  }

  /** The account's current agent; the ones before it stay as history ("past agent"). */
  private setCurrentAgent(agentPubkey: string): void {
    const known = this.ctx.store.getMeta<{ current: string | null; past: string[] }>(AGENTS_KEY) ?? { current: null, past: [] };
    if (known.current === agentPubkey) return;
    const past = known.current ? [...known.past.filter((p) => p !== agentPubkey), known.current] : known.past;
    this.ctx.store.setMeta(AGENTS_KEY, { current: agentPubkey, past });
    this.refresh();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.catchUpTimer);
    if (this.inputReport.timer) clearTimeout(this.inputReport.timer);
    for (const waiter of this.keyPackageWaiters.splice(0)) waiter.reject(new Error("signed out"));
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.ctx.pool.close();
    this.ctx.store.close();
  }

  /** A relay came (back) online: make sure our KeyPackage is there, and resend what failed to go out. */
  relayConnected(): void {
    if (this.closed) return;
    void this.keyPackages.ensurePublished().catch((error: unknown) => this.ctx.log({ event: "key_package_check_failed", error: describeError(error) }));
    for (const message of this.ctx.store.listUnsentMessages()) {
      if (message.status === "failed" && message.event_json) this.retryMessage(message.group_id, message.id);
    }
  }

  setNetworkEnabled(enabled: boolean): void {
    this.ctx.pool.setEnabled(enabled);
    if (enabled) {
      this.relayConnected();
      this.agent.probe();
    }
  }

  setRelays(relays: string[]): void {
    this.ctx.store.setMeta(RELAYS_KEY, relays);
    this.ctx.pool.setRelays(relays);
    // A publish still waiting on the old relays no longer counts: its late result is dropped.
    this.ctx.tokens.invalidate("key_package_publish");
    this.ctx.update((s) => {
      s.settings.relays = relays;
      s.key_package.published = false;
      s.key_package.publishing = false;
    });
    this.relayConnected();
  }

  handle(action: ChatAction): DispatchReply {
    switch (action.type) {
      case "CreateChat":
        return this.createChat(action.peer, action.request_id);
      case "OpenChat":
        return this.openChat(action.chat_id);
      case "CloseChat":
        this.openWindow = null;
        this.ctx.update((s) => {
          s.open_chat = null;
        });
        return { ok: true };
      case "LoadOlderMessages":
        if (this.openWindow?.chatId !== action.chat_id) return { ok: false, error: "That chat is not open" };
        this.openWindow.limit += this.ctx.timings.messagePageSize;
        this.refresh();
        return { ok: true };
      case "SendMessage":
        return this.sendMessage(action.chat_id, action.text);
      case "RetryMessage":
        return this.retryMessage(action.chat_id, action.message_id);
      case "AcceptInvite":
        void this.acceptInvite(action.invite_id);
        return { ok: true };
      case "DeclineInvite":
        this.ctx.store.setInviteStatus(action.invite_id, "declined");
        this.refresh();
        return { ok: true };
      case "React":
        return this.react(action.chat_id, action.message_id, action.emoji);
      case "SetChatMuted":
        if (!this.groups.has(action.chat_id)) return this.refuse("That chat does not exist.");
        this.setFlags(action.chat_id, { muted: action.muted });
        return { ok: true };
    }
  }

  handleGroup(action: GroupAction): DispatchReply {
    const request = action.request_id;
    if (action.type !== "CreateGroup" && !this.groups.has(action.chat_id)) return this.refuse("That chat does not exist.", request);
    if (this.ctx.state().busy.updating_group) return this.refuse("The group is still being updated. Try again in a moment.", request);
    let members: string[] = [];
    if (action.type === "CreateGroup" || action.type === "AddMembers") {
      for (const input of action.members) {
        const parsed = parsePubkeyInput(input);
        if (!parsed.ok) return this.refuse(`${input.slice(0, 20)}: ${parsed.error}`, request);
        if (parsed.pubkey !== this.ctx.keys.pubkey) members.push(parsed.pubkey);
      }
      members = [...new Set(members)];
      if (members.length === 0) return this.refuse("Add at least one other member.", request);
    }
    let work: () => Promise<string | null>;
    switch (action.type) {
      case "CreateGroup":
        {
          const admins = (action.admins ?? []).map((a) => parsePubkeyInput(a)).flatMap((a) => (a.ok ? [a.pubkey] : []));
          work = () => this.createGroupChat(action.name, action.description, members, admins);
        }
        break;
      case "AddMembers":
        work = () => this.addToGroup(action.chat_id, members);
        break;
      case "RemoveMember": {
        const parsed = parsePubkeyInput(action.member);
        if (!parsed.ok) return this.refuse(parsed.error, request);
        work = () => this.commitChange(action.chat_id, (state) => removeMembers(state, [parsed.pubkey]), { type: "removed", targets: [parsed.pubkey] });
        break;
      }
      case "RenameGroup":
        work = () =>
          this.commitChange(action.chat_id, (state) => updateGroupData(state, { name: action.name, description: action.description }), { type: "renamed", name: action.name });
        break;
      case "LeaveGroup":
        work = () => this.leaveGroup(action.chat_id);
        break;
    }
    return this.withBusy("updating_group", "group_update", () => work(), "Could not update the group", request);
  }

  /**
   * Runs `work` with a busy flag up: a current result opens its chat, a failure ends busy with one
   * toast, or, for a form's request (`requestId`), with its outcome in the state and no toast.
   */
  private withBusy(
    flag: "creating_chat" | "updating_group",
    kind: EffectKind,
    work: (token: EffectToken<EffectKind>) => Promise<string | null>,
    failure: string,
    requestId?: number,
  ): DispatchReply {
    const token = this.ctx.tokens.issue(kind);
    this.ctx.update((s) => {
      s.busy[flag] = true;
    });
    const done = (): boolean => {
      if (!this.current(token)) return false;
      this.ctx.update((s) => {
        s.busy[flag] = false;
      });
      return true;
    };
    work(token).then(
      (chatId) => {
        if (!done()) return;
        if (chatId) this.openChat(chatId);
        else this.refresh();
        this.outcome(requestId, null);
      },
      (error: unknown) => {
        if (!done()) return;
        const message = error instanceof UserError ? error.message : `${failure}: ${describeError(error)}`;
        if (requestId === undefined) this.ctx.toast("error", message);
        else this.outcome(requestId, message);
      },
    );
    return { ok: true };
  }

  // ---- Key packages and chat creation ----

  private onKeyPackagePublished(result: KeyPackagePublished): void {
    if (this.closed || !this.ctx.tokens.isCurrent(result.token)) {
      this.ctx.log({ event: "stale_result_dropped", type: "KeyPackagePublished" });
      return;
    }
    this.ctx.update((s) => {
      s.key_package.publishing = false;
      s.key_package.published = result.ok;
    });
    this.ctx.log({ event: "key_package_published", ok: result.ok, ...(result.ok ? {} : { error: result.error }) });
    if (!result.ok) this.scheduleKeyPackageRetry();
    const waiters = this.keyPackageWaiters.splice(0);
    for (const waiter of waiters) {
      if (result.ok) waiter.resolve();
      else waiter.reject(new UserError(`Key package publish failed: ${result.error}`));
    }
  }

  /** Resolves once our KeyPackage is out (publishing it if needed); rejects when that publish fails. */
  private keyPackageReady(): Promise<void> {
    if (this.ctx.state().key_package.published) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.keyPackageWaiters.push({ resolve, reject });
      if (!this.ctx.state().key_package.publishing) this.keyPackages.publish();
    });
  }

  private scheduleKeyPackageRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.relayConnected();
    }, this.ctx.timings.keyPackageRetryMs);
  }

  private createChat(peerInput: string, requestId?: number): DispatchReply {
    const parsed = parsePubkeyInput(peerInput);
    if (!parsed.ok) return this.refuse(parsed.error, requestId);
    if (parsed.pubkey === this.ctx.keys.pubkey) return this.refuse("That is your own key. Enter someone else's npub.", requestId);
    const existing = this.ctx.store.findDirectGroup(parsed.pubkey);
    if (existing) {
      const reply = this.openChat(existing.id);
      this.outcome(requestId, reply.ok ? null : reply.error);
      return reply;
    }
    if (this.ctx.state().busy.creating_chat) return this.refuse("A chat is already being created. Try again in a moment.", requestId);
    return this.withBusy("creating_chat", "create_chat", (token) => this.openOrCreateDirectChat(parsed.pubkey, token), "Could not create the chat", requestId);
  }

  /**
   * The direct chat with `peer`: the existing one, or a new one once our own KeyPackage is out (the
   * peer could not answer otherwise). null when `token` went stale on the way.
   */
  async openOrCreateDirectChat(peer: string, token: EffectToken<EffectKind>): Promise<string | null> {
    const existing = this.ctx.store.findDirectGroup(peer);
    if (existing) return existing.id;
    await this.keyPackageReady();
    if (!this.current(token)) return null;
    return this.createDirectChat(peer, token);
  }

  /**
   * Finds the peer's newest verifying KeyPackage: on our relays, then on the relays of their kind 10051
   * list. When there is none it says why: no relay answered, the peer is our own agent, or they have none.
   */
  private async fetchKeyPackage(peer: string): Promise<Awaited<ReturnType<typeof selectKeyPackage>>> {
    const timeout = this.ctx.timings.keyPackageFetchMs;
    const answers = await this.ctx.pool.queryEach([{ kinds: [KEY_PACKAGE_KIND, ADDRESSABLE_KEY_PACKAGE_KIND, KEY_PACKAGE_RELAY_LIST_KIND], authors: [peer] }], timeout);
    const found = answers.events;
    let answered = answers.answered.length;
    let packages = found.filter((e) => e.kind !== KEY_PACKAGE_RELAY_LIST_KIND);
    const ours = new Set(this.ctx.pool.urls);
    const elsewhere = keyPackageRelayListRelays(found).filter((url) => !ours.has(url));
    if (packages.length === 0 && elsewhere.length > 0) {
      const more = await this.ctx.pool.queryEach([{ kinds: [KEY_PACKAGE_KIND, ADDRESSABLE_KEY_PACKAGE_KIND], authors: [peer] }], timeout, elsewhere);
      packages = more.events;
      answered += more.answered.length;
    }
    if (packages.length === 0) {
      const who = shortNpub(npubFromHex(peer));
      const agents = this.ctx.store.getMeta<{ current: string | null; past: string[] }>(AGENTS_KEY);
      if (answered === 0) {
        this.ctx.log({ event: "key_package_query_unanswered", relays: this.ctx.pool.urls.length + elsewhere.length });
        throw new UserError(toUserMessage("no_relay_answered", who));
      }
      if (agents?.current === peer || agents?.past.includes(peer)) throw new UserError(toUserMessage("own_agent_no_key_package", who));
      throw new UserError(toUserMessage("key_package_not_found", who));
    }
    try {
      return await selectKeyPackage(packages.map(copyEvent));
    } catch (error) {
      throw new UserError(`No usable key package for ${shortNpub(npubFromHex(peer))}: ${describeError(error)}`);
    }
  }

  private async createDirectChat(peer: string, token: EffectToken<EffectKind>): Promise<string | null> {
    const chosen = await this.fetchKeyPackage(peer);
    if (!this.current(token)) return null;
    const relays = this.ctx.pool.urls;
    return this.mls.run(async () => {
      const created = await createGroup({
        creatorPubkey: this.ctx.keys.pubkey,
        members: [chosen.keyPackage],
        name: "",
        relays,
        adminPubkeys: [peer],
      });
      if (!created.commit || !created.welcome) throw new Error("the group was created without its member");
      const groupId = nostrGroupIdHex(created.groupData);
      const commitEvent = wrapGroupMessage(created.commit, await deriveGroupEventKey(created.previousState), this.now());
      this.ctx.store.markProcessed(commitEvent.id, GROUP_EVENT_KIND, this.now());
      const commitOutcome = await this.ctx.pool.publish(commitEvent, relays);
      if (commitOutcome.accepted.length === 0) {
        throw new UserError(`Could not create the chat: no relay accepted it (${commitOutcome.failed[0]?.reason ?? "no relays"})`);
      }
      if (!this.current(token)) return null;
      await this.storeNewGroup({ state: created.state, kind: "direct", peer, relays, createdAt: this.now() });

      // The Welcome goes out only after a relay accepted the commit that adds the peer.
      const rumor = welcomeRumor(created.welcome, { senderPubkey: this.ctx.keys.pubkey, keyPackageEventId: chosen.event.id, relays, createdAt: this.now() });
      const wrap = giftWrap(rumor, this.ctx.keys.secret, peer, this.now());
      const inviteOutcome = await this.ctx.pool.publish(wrap, [...relays, ...chosen.relays]);
      if (inviteOutcome.accepted.length === 0) {
        this.ctx.toast("error", `The chat was created but the invitation was not delivered: ${inviteOutcome.failed[0]?.reason ?? "no relay"}`);
      }
      this.ctx.log({ event: "chat_created", chat: groupId.slice(0, 8), invite_relays: inviteOutcome.accepted.length });
      return groupId;
    });
  }

  private async acceptInvite(inviteId: string): Promise<void> {
    const invite = this.ctx.store.getInvite(inviteId);
    if (!invite || invite.status !== "pending") return;
    try {
      const chatId = await this.mls.run(async () => {
        const parsed = parseWelcomeRumor(parseRumor(new TextDecoder().decode(invite.welcome)));
        const joined = await this.joinWelcome(parsed.welcome, invite.key_package_event_id, invite.from_pubkey);
        if (!joined) throw new UserError(toUserMessage("invite_key_package_gone"));
        const groupId = nostrGroupIdHex(joined.groupData);
        const known = this.groups.get(groupId);
        if (!known) await this.saveJoinedGroup(joined.state, joined.groupData, invite.from_pubkey, invite.received_at);
        else if (this.isNewMembership(groupId, joined.state)) await this.rejoinGroup(groupId, joined.state, invite.received_at);
        this.ctx.store.setInviteStatus(inviteId, "accepted");
        if (this.closed) return groupId;
        void this.keyPackages.rotate(joined.ref).catch((error: unknown) => this.ctx.log({ event: "key_package_rotate_failed", error: describeError(error) }));
        return groupId;
      });
      if (this.closed) return;
      this.openChat(chatId);
    } catch (error) {
      if (this.closed) return;
      // Marmot has no way to answer an invitation: the inviter only sees that we never speak. Say so
      // here, and make sure a fresh KeyPackage of ours is out for them to add us again with.
      this.ctx.log({ event: "join_failed", invite: inviteId.slice(0, 12), error: describeError(error) });
      this.ctx.toast("error", error instanceof UserError ? error.message : toUserMessage("join_failed", describeError(error)));
      void this.keyPackages.ensurePublished().catch((failure: unknown) => this.ctx.log({ event: "key_package_check_failed", error: describeError(failure) }));
    }
  }

  /**
   * A Welcome into a group we hold only as history (we left or were removed) to an epoch past the one
   * we stopped at is a new membership. One for a group we are in, or an old one replayed, is not.
   */
  private isNewMembership(groupId: string, joined: ClientState): boolean {
    const known = this.groups.get(groupId);
    return known !== undefined && this.flags()[groupId]?.left === true && joined.groupContext.epoch > known.state.groupContext.epoch;
  }

  /**
   * Re-added after leaving or being removed: the new membership's state, epoch key and cursor replace
   * the old ones (whose keys open nothing of it), and the chat is live again. Events of the group
   * that arrived while it was history were only marked processed: they are fetched and read anew.
   */
  private async rejoinGroup(groupId: string, state: ClientState, joinedAt: number): Promise<void> {
    const group = this.loaded(groupId);
    const keys = new EpochKeyCache(RETAINED_EPOCHS);
    const key = await keys.remember(state);
    const data = readGroupData(state);
    const missed = await this.ctx.pool
      .query([{ kinds: [GROUP_EVENT_KIND], "#h": [groupId], since: Math.max(0, joinedAt - this.ctx.timings.resumeMarginSec) }], this.ctx.timings.relayQueryMs)
      .catch((error: unknown) => {
        this.ctx.log({ event: "rejoin_fetch_failed", chat: groupId.slice(0, 8), error: describeError(error) });
        return [];
      });
    group.state = state;
    group.keys = keys;
    delete group.branch;
    // What waited for a commit of the old membership waits no more: read anew below, or dropped in time.
    this.held.delete(groupId);
    this.refused.delete(groupId);
    group.row = { ...group.row, members: groupMembers(state), admins: data.adminPubkeys, name: data.name, description: data.description, relays: data.relays };
    const row = group.row;
    this.ctx.store.transaction(() => {
      this.ctx.store.upsertGroup({ ...row, state: serializeGroupState(state), epoch: Number(state.groupContext.epoch) });
      this.ctx.store.putEpochKey(groupId, Number(key.epoch), encodeEpochKey(key));
      this.ctx.store.pruneEpochKeys(groupId, 1);
      this.ctx.store.setMeta(groupCursorKey(groupId), joinedAt);
      for (const event of missed) this.ctx.store.forgetProcessed(event.id);
    });
    this.setFlags(groupId, { left: false, removed_by: undefined });
    this.ctx.log({ event: "group_rejoined", chat: groupId.slice(0, 8), epoch: Number(state.groupContext.epoch), refetched: missed.length });
    for (const event of missed) {
      this.seen.delete(event.id);
      this.receive(event, null);
    }
    this.ctx.pool.refresh("groups");
    this.ctx.pool.refresh("profiles");
  }

  private async joinWelcome(
    welcome: Parameters<typeof joinFromWelcome>[0],
    keyPackageEventId: string,
    inviter: string,
  ): Promise<{ state: ClientState; groupData: MarmotGroupData; ref: string } | null> {
    const byEvent = keyPackageEventId ? this.keyPackages.bundleForEvent(keyPackageEventId) : null;
    const candidates = byEvent ? [byEvent] : this.keyPackages.activeBundles();
    for (const { ref, bundle } of candidates) {
      try {
        const joined = await joinFromWelcome(welcome, bundle, inviter);
        return { ...joined, ref };
      } catch (error) {
        if (byEvent) throw error;
      }
    }
    return null;
  }

  private async saveJoinedGroup(state: ClientState, groupData: MarmotGroupData, inviter: string, joinedAt: number): Promise<void> {
    const members = groupMembers(state);
    const others = members.filter((m) => m !== this.ctx.keys.pubkey);
    const direct = members.length === 2 && groupData.name === "";
    await this.storeNewGroup({ state, kind: direct ? "direct" : "group", peer: direct ? (others[0] ?? inviter) : null, relays: groupData.relays, createdAt: joinedAt });
  }

  // ---- Groups ----

  /** Stores a group we just made or joined (row, epoch key, cursor, an optional system line) and starts following it. */
  private async storeNewGroup(input: {
    state: ClientState;
    kind: GroupRow["kind"];
    peer: string | null;
    relays: string[];
    createdAt: number;
    line?: { event: Pick<Event, "id" | "created_at">; data: SystemLineData };
  }): Promise<string> {
    const data = readGroupData(input.state);
    const groupId = nostrGroupIdHex(data);
    const keys = new EpochKeyCache(RETAINED_EPOCHS);
    const key = await keys.remember(input.state);
    const row: GroupInput = {
      id: groupId,
      mls_group_id: Buffer.from(input.state.groupContext.groupId).toString("hex"),
      kind: input.kind,
      name: data.name,
      description: data.description,
      admins: data.adminPubkeys,
      relays: input.relays,
      members: groupMembers(input.state),
      peer: input.peer,
      state: serializeGroupState(input.state),
      epoch: Number(input.state.groupContext.epoch),
      created_at: input.createdAt,
      updated_at: this.now(),
    };
    this.ctx.store.transaction(() => {
      this.ctx.store.upsertGroup(row);
      this.ctx.store.putEpochKey(groupId, Number(key.epoch), encodeEpochKey(key));
      this.ctx.store.setMeta(groupCursorKey(groupId), input.createdAt);
      if (input.line) this.systemLine(groupId, input.line.event, input.line.data);
    });
    this.groups.set(groupId, { row: { ...row, last_read_at: 0 }, state: input.state, keys });
    this.ctx.pool.refresh("groups");
    this.ctx.pool.refresh("profiles");
    return groupId;
  }


  /** A new group we administer: created with the first members that fit one Welcome, then the rest in further commits. */
  private async createGroupChat(name: string, description: string, members: string[], admins: string[]): Promise<string> {
    await this.keyPackageReady();
    const chosen = await Promise.all(members.map((peer) => this.fetchKeyPackage(peer)));
    const relays = this.ctx.pool.urls;
    return this.mls.run(async () => {
      const first = chosen.slice(0, ADD_BATCH);
      const created = await createGroup({ creatorPubkey: this.ctx.keys.pubkey, members: first.map((c) => c.keyPackage), name, description, relays, adminPubkeys: admins });
      if (!created.commit || !created.welcome) throw new Error("the group was created without its members");
      const groupId = nostrGroupIdHex(created.groupData);
      const event = await this.publishCommit(created.commit, created.previousState, relays);
      await this.storeNewGroup({
        state: created.state,
        kind: "group",
        peer: null,
        relays,
        createdAt: this.now(),
        line: { event, data: { type: "created", actor: this.ctx.keys.pubkey, targets: first.map((c) => c.pubkey), name } },
      });
      await this.sendWelcomes(created.welcome, first, relays);
      for (let i = ADD_BATCH; i < chosen.length; i += ADD_BATCH) await this.addChosen(groupId, chosen.slice(i, i + ADD_BATCH));
      this.ctx.log({ event: "group_created", chat: groupId.slice(0, 8), members: chosen.length + 1 });
      return groupId;
    });
  }

  private async addToGroup(groupId: string, members: string[]): Promise<string> {
    const group = this.groups.get(groupId);
    const missing = members.filter((m) => !group?.row.members.includes(m));
    if (missing.length === 0) throw new UserError("They are already in the group.");
    const chosen = await Promise.all(missing.map((peer) => this.fetchKeyPackage(peer)));
    await this.mls.run(async () => {
      for (let i = 0; i < chosen.length; i += ADD_BATCH) await this.addChosen(groupId, chosen.slice(i, i + ADD_BATCH));
    });
    return groupId;
  }

  /** One commit adding these members (inside the MLS queue), then their Welcomes. */
  private async addChosen(groupId: string, chosen: Array<Awaited<ReturnType<typeof selectKeyPackage>>>): Promise<void> {
    const group = this.loaded(groupId);
    let outcome: CommitOutcome;
    try {
      outcome = await addMembers(group.state, chosen.map((c) => c.keyPackage));
    } catch (error) {
      if (!(error instanceof MarmotError) || error.code !== "welcome_too_large") throw error;
      // The Welcome carries the whole ratchet tree and must fit one gift wrap: add fewer at a time.
      if (chosen.length === 1) {
        throw new UserError(`The group is too large to invite more members (${group.row.members.length}): a Marmot invitation would not fit one gift wrap.`);
      }
      const half = Math.ceil(chosen.length / 2);
      await this.addChosen(groupId, chosen.slice(0, half));
      await this.addChosen(groupId, chosen.slice(half));
      return;
    }
    await this.adoptOwnCommit(groupId, outcome, { type: "added", targets: chosen.map((c) => c.pubkey) });
    if (outcome.welcome) await this.sendWelcomes(outcome.welcome, chosen, this.publishRelays(group.row));
  }

  /** An admin's change of the group (remove, rename): one commit, published, then adopted. */
  private async commitChange(groupId: string, make: (state: ClientState) => Promise<CommitOutcome>, line: SystemLineData): Promise<string> {
    await this.mls.run(async () => {
      const outcome = await make(this.loaded(groupId).state);
      await this.adoptOwnCommit(groupId, outcome, line);
    });
    return groupId;
  }

  /** Leaving: a remove proposal for ourselves (an admin commits it), and the chat stays as history. */
  private async leaveGroup(groupId: string): Promise<null> {
    await this.mls.run(async () => {
      const group = this.loaded(groupId);
      const proposal = await proposeLeave(group.state);
      const key = group.keys.get(group.state.groupContext.epoch) ?? (await group.keys.remember(group.state));
      const event = wrapGroupMessage(proposal.message, key, this.now());
      this.ctx.store.markProcessed(event.id, GROUP_EVENT_KIND, this.now());
      const outcome = await this.ctx.pool.publish(event, this.publishRelays(group.row));
      if (outcome.accepted.length === 0) throw new UserError(`Could not leave the group: ${outcome.failed[0]?.reason ?? "no relay accepted it"}`);
      group.state = proposal.state;
      this.ctx.store.transaction(() => {
        this.ctx.store.updateGroupState(groupId, serializeGroupState(proposal.state), Number(proposal.state.groupContext.epoch));
        this.systemLine(groupId, event, { type: "left", actor: this.ctx.keys.pubkey, targets: [this.ctx.keys.pubkey] });
      });
    });
    this.setFlags(groupId, { left: true, removed_by: undefined });
    return null;
  }

  /** Publishes our commit (wrapped with the pre-commit epoch's key); throws when no relay took it. */
  private async publishCommit(commit: CommitOutcome["commit"], previousState: ClientState, relays: string[]): Promise<Event> {
    const event = wrapGroupMessage(commit, await deriveGroupEventKey(previousState), this.now());
    this.ctx.store.markProcessed(event.id, GROUP_EVENT_KIND, this.now());
    const outcome = await this.ctx.pool.publish(event, relays);
    if (outcome.accepted.length === 0) throw new UserError(`No relay accepted the change: ${outcome.failed[0]?.reason ?? "no relays"}`);
    return event;
  }

  /** After a relay accepted our commit: adopt it, remember the branch for commit races, store it with its system line. */
  private async adoptOwnCommit(groupId: string, outcome: CommitOutcome, line: SystemLineData): Promise<void> {
    const group = this.loaded(groupId);
    const event = await this.publishCommit(outcome.commit, outcome.previousState, this.publishRelays(group.row));
    group.branch = { epoch: outcome.previousState.groupContext.epoch, before: outcome.previousState, commit: event, ours: true };
    await this.adoptState(groupId, outcome.state, event, { ...line, actor: this.ctx.keys.pubkey });
  }

  /** Stores a new epoch of the group (state, key, row) and its system line, in one transaction. */
  private async adoptState(groupId: string, state: ClientState, event: Event, line: SystemLineData | null): Promise<void> {
    const group = this.loaded(groupId);
    const key = await group.keys.remember(state);
    const data = readGroupData(state);
    group.state = state;
    group.row = { ...group.row, members: groupMembers(state), admins: data.adminPubkeys, name: data.name, description: data.description };
    const row = group.row;
    this.ctx.store.transaction(() => {
      this.ctx.store.upsertGroup({ ...row, state: serializeGroupState(state), epoch: Number(state.groupContext.epoch) });
      this.ctx.store.putEpochKey(groupId, Number(key.epoch), encodeEpochKey(key));
      this.ctx.store.pruneEpochKeys(groupId, RETAINED_EPOCHS);
      if (line) this.systemLine(groupId, event, line);
    });
    this.ctx.pool.refresh("profiles");
  }

  private async sendWelcomes(welcome: NonNullable<CommitOutcome["welcome"]>, chosen: Array<Awaited<ReturnType<typeof selectKeyPackage>>>, relays: string[]): Promise<void> {
    const failed: string[] = [];
    await Promise.all(
      chosen.map(async (member) => {
        const rumor = welcomeRumor(welcome, { senderPubkey: this.ctx.keys.pubkey, keyPackageEventId: member.event.id, relays, createdAt: this.now() });
        const outcome = await this.ctx.pool.publish(giftWrap(rumor, this.ctx.keys.secret, member.pubkey, this.now()), [...relays, ...member.relays]);
        if (outcome.accepted.length === 0) failed.push(member.pubkey);
      }),
    );
    if (failed.length > 0) this.ctx.toast("error", `The invitation did not reach ${failed.length} member(s); add them again later.`);
  }

  /** A line in the chat about a change of the group; stored as a message of its own kind. */
  private systemLine(groupId: string, event: Pick<Event, "id" | "created_at">, line: SystemLineData): void {
    const at = this.receivedAt(event.created_at);
    this.ctx.store.insertMessage({
      id: event.id,
      group_id: groupId,
      sender: line.actor ?? this.ctx.keys.pubkey,
      kind: SYSTEM_KIND,
      content: JSON.stringify(line),
      tags: [],
      created_at: at,
      status: "received",
    });
    this.ctx.store.touchGroup(groupId, at);
  }

  private react(chatId: string, messageId: string, emoji: string): DispatchReply {
    const target = this.ctx.store.getMessage(messageId);
    if (!target || target.group_id !== chatId || !this.groups.has(chatId)) return this.refuse("That message does not exist.");
    const rumor = reactionRumor(this.ctx.keys.pubkey, { id: target.id, pubkey: target.sender, kind: target.kind }, emoji, this.now());
    this.ctx.store.insertMessage({ id: rumor.id, group_id: chatId, sender: rumor.pubkey, kind: rumor.kind, content: rumor.content, tags: rumor.tags, created_at: rumor.created_at, status: "pending" });
    this.refresh();
    this.encryptAndPublish(chatId, rumor);
    return { ok: true };
  }

  private flags(): Record<string, ChatFlags> {
    this.chatFlags ??= this.ctx.store.getMeta<Record<string, ChatFlags>>(FLAGS_KEY) ?? {};
    return this.chatFlags;
  }

  private setFlags(chatId: string, change: ChatFlags): void {
    const all = { ...this.flags(), [chatId]: { ...this.flags()[chatId], ...change } };
    this.ctx.store.setMeta(FLAGS_KEY, all);
    this.chatFlags = all;
    this.refresh();
  }

  private loaded(groupId: string): LoadedGroup {
    const group = this.groups.get(groupId);
    if (!group) throw new UserError("That chat does not exist.");
    return group;
  }

  // ---- Messages ----

  private sendMessage(chatId: string, text: string): DispatchReply {
    const group = this.groups.get(chatId);
    if (!group) return this.refuse("That chat does not exist.");
    const rumor = chatMessageRumor(this.ctx.keys.pubkey, text, [], this.now());
    this.ctx.store.transaction(() => {
      this.ctx.store.insertMessage({
        id: rumor.id,
        group_id: chatId,
        sender: rumor.pubkey,
        kind: rumor.kind,
        content: rumor.content,
        tags: rumor.tags,
        created_at: rumor.created_at,
        status: "pending",
      });
      this.ctx.store.touchGroup(chatId, rumor.created_at);
    });
    this.refresh();
    this.encryptAndPublish(chatId, rumor);
    return { ok: true };
  }

  /** Encrypts in the group's current epoch, keeps the signed event for retries, then publishes. */
  private encryptAndPublish(chatId: string, rumor: Rumor): void {
    void this.mls
      .run(async () => {
        const loaded = this.groups.get(chatId);
        if (!loaded || this.closed) return null;
        const encrypted = await encryptRumor(loaded.state, rumor);
        const key = loaded.keys.get(encrypted.state.groupContext.epoch) ?? (await loaded.keys.remember(encrypted.state));
        const event = wrapGroupMessage(encrypted.message, key, this.now());
        loaded.state = encrypted.state;
        this.ctx.store.transaction(() => {
          this.ctx.store.markProcessed(event.id, GROUP_EVENT_KIND, this.now());
          this.ctx.store.updateGroupState(chatId, serializeGroupState(encrypted.state), Number(encrypted.state.groupContext.epoch));
          this.ctx.store.setMessageEventJson(rumor.id, JSON.stringify(event));
        });
        return event;
      })
      .then(
        (event) => (event ? this.publishMessage(chatId, rumor.id, event) : undefined),
        (error: unknown) => this.markFailed(rumor.id, describeError(error)),
      );
  }

  private retryMessage(chatId: string, messageId: string): DispatchReply {
    const message = this.ctx.store.getMessage(messageId);
    if (!message || message.group_id !== chatId) return this.refuse("That message does not exist.");
    if (message.status !== "failed") return { ok: true };
    this.ctx.store.updateMessageStatus(messageId, "pending");
    this.refresh();
    if (message.event_json) {
      void this.publishMessage(chatId, messageId, JSON.parse(message.event_json) as Event);
    } else {
      const { id, sender: pubkey, created_at, kind, tags, content } = message;
      this.encryptAndPublish(chatId, { id, pubkey, created_at, kind, tags, content });
    }
    return { ok: true };
  }

  private async publishMessage(chatId: string, messageId: string, event: Event): Promise<void> {
    const group = this.groups.get(chatId);
    // A burst of sends goes out a few at a time, so relays are not flooded past their timeouts.
    while (this.publishing >= MAX_PUBLISHES_IN_FLIGHT) await new Promise<void>((resolve) => this.publishSlots.push(resolve));
    this.publishing += 1;
    let outcome: Awaited<ReturnType<RelayPool["publish"]>>;
    try {
      outcome = await this.ctx.pool.publish(event, this.publishRelays(group?.row));
    } finally {
      this.publishing -= 1;
      this.publishSlots.shift()?.();
    }
    if (this.closed) return;
    if (outcome.accepted.length > 0) {
      this.markSent(messageId);
    } else {
      this.markFailed(messageId, outcome.failed[0]?.reason ?? "no relay accepted it");
    }
  }

  /** "sent" marks of a burst are stored together, in one transaction per tick. */
  private markSent(messageId: string): void {
    this.sentMarks.push(messageId);
    if (this.sentMarks.length > 1) return;
    setImmediate(() => {
      if (this.closed) return;
      const ids = this.sentMarks.splice(0);
      this.ctx.store.transaction(() => {
        for (const id of ids) this.ctx.store.updateMessageStatus(id, "sent");
      });
      this.refresh();
    });
  }

  private markFailed(messageId: string, reason: string): void {
    if (this.closed) return;
    this.ctx.store.updateMessageStatus(messageId, "failed", reason);
    this.ctx.log({ event: "message_send_failed", reason });
    this.refresh();
  }

  /** Our relays, plus the group's own ones that are in our pool. */
  private publishRelays(row: GroupRow | undefined): string[] {
    const ours = this.ctx.pool.urls;
    return [...new Set([...ours, ...(row?.relays ?? []).filter((url) => ours.includes(url))])];
  }

  // ---- Receiving ----

  private giftWrapFilters(): Filter[] {
    const cursor = this.ctx.store.getMeta<number>(GIFT_WRAP_CURSOR);
    const filter: Filter = { kinds: [GIFT_WRAP_KIND], "#p": [this.ctx.keys.pubkey] };
    if (cursor !== null) filter.since = Math.max(0, this.resumeFrom(cursor) - this.ctx.timings.giftWrapBackdateSec);
    return [filter];
  }

  private groupFilters(): Filter[] {
    return [...this.groups.keys()].map((groupId) => {
      const stored = this.ctx.store.getMeta<number>(groupCursorKey(groupId)) ?? 0;
      const refused = this.refused.get(groupId);
      if (refused?.state === "due") refused.state = "issued";
      // Input still waiting for its commit (held or refused) is fetched again: never resume past it.
      const cursor = Math.min(stored, this.inputFloor(groupId) ?? stored);
      return { kinds: [GROUP_EVENT_KIND], "#h": [groupId], since: this.resumeFrom(cursor) };
    });
  }

  private profileFilters(): Filter[] {
    const people = new Set<string>();
    for (const { row } of this.groups.values()) for (const member of row.members) people.add(member);
    for (const invite of this.ctx.store.listPendingInvites()) people.add(invite.from_pubkey);
    people.delete(this.ctx.keys.pubkey);
    if (people.size === 0) return [];
    const cursor = this.ctx.store.getMeta<number>(PROFILE_CURSOR);
    return [{ kinds: [PROFILE_KIND], authors: [...people], ...(cursor !== null ? { since: this.resumeFrom(cursor) } : {}) }];
  }

  /**
   * `since` for a stored cursor, the same on every (re)subscription: the margin before it, and never
   * later than our clock allows (a cursor stored by an older version may lie in the future).
   */
  private resumeFrom(cursor: number): number {
    return Math.max(0, Math.min(cursor, this.now() + this.ctx.timings.futureSkewSec) - this.ctx.timings.resumeMarginSec);
  }

  /** The oldest created_at of this group's input that is held or refused (waiting for a commit), if any. */
  private inputFloor(groupId: string): number | null {
    let floor = this.refused.get(groupId)?.oldest ?? Number.POSITIVE_INFINITY;
    for (const event of this.held.get(groupId) ?? []) floor = Math.min(floor, event.created_at);
    return Number.isFinite(floor) ? floor : null;
  }

  /**
   * A (re)subscription starts a catch-up: stored events are collected until the relay's EOSE (and
   * older pages fetched when a page was full), then applied together in created_at order.
   */
  private catchUpFrom(key: string, relay: string, filters: Filter[]): Filter[] {
    const id = `${key}|${relay}`;
    if (filters.length === 0) {
      this.catchingUp.delete(id);
      return filters;
    }
    this.catchingUp.set(id, { count: 0, oldest: Number.MAX_SAFE_INTEGER, filters });
    clearTimeout(this.catchUpTimer);
    // A relay that never sends EOSE must not hold the inbox back for long.
    this.catchUpTimer = setTimeout(() => {
      this.catchingUp.clear();
      this.scheduleDrain();
    }, this.ctx.timings.relayQueryMs * 5);
    return filters.map((filter) => ({ ...filter, limit: CATCH_UP_PAGE }));
  }

  private async caughtUp(key: string, relay: string): Promise<void> {
    const id = `${key}|${relay}`;
    const first = this.catchingUp.get(id);
    let backfilled = 0;
    if (first && first.count >= CATCH_UP_PAGE) {
      // A full page: older events may be missing. Page back by `until`; when a page brings nothing new
      // (many events in the same seconds), ask for bigger pages, up to the most relays serve.
      let until = first.oldest;
      let limit = CATCH_UP_PAGE;
      for (let pages = 0; !this.closed && pages < MAX_CATCH_UP_PAGES; pages++) {
        const older = await this.ctx.pool.query(first.filters.map((f) => ({ ...f, until, limit })), this.ctx.timings.relayQueryMs, [relay]);
        const fresh = older.filter((e) => !this.seen.has(e.id));
        for (const event of fresh) this.receive(event, null);
        backfilled += fresh.length;
        if (older.length < limit) break;
        const oldest = Math.min(...older.map((e) => e.created_at));
        if (fresh.length > 0) until = oldest;
        else if (limit < MAX_CATCH_UP_PAGE) limit *= 2;
        // Nothing new even in the biggest page the relay serves: what else is in this second is out
        // of reach through this relay; go on with the seconds before it.
        else until = oldest - 1;
      }
    }
    this.ctx.log({ event: "caught_up", subscription: id, received: first?.count ?? 0, backfilled });
    this.catchingUp.delete(id);
    if (this.catchingUp.size === 0) {
      clearTimeout(this.catchUpTimer);
      this.scheduleDrain();
    }
  }

  private receive(event: Event, from: string | null): void {
    if (this.closed) return;
    const page = from ? this.catchingUp.get(from) : undefined;
    if (page) {
      page.count += 1;
      page.oldest = Math.min(page.oldest, event.created_at);
    }
    if (this.seen.has(event.id)) return;
    if (this.seen.size >= MAX_SEEN) this.seen.clear();
    this.seen.add(event.id);
    this.inbox.push(event);
    if (this.catchingUp.size === 0) this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.draining || this.inbox.length === 0) return;
    this.draining = true;
    setImmediate(() => void this.drain());
  }

  /** Applies received events in batches: in created_at order, each batch stored in one transaction. */
  /** Applies received events in created_at order, each chunk stored in one transaction; progress shown for a backlog. */
  private async drain(): Promise<void> {
    let done = 0;
    let lastProgress = 0;
    try {
      while (this.inbox.length > 0 && !this.closed) {
        // Stable: events of the same second keep their arrival order (a sender's messages arrive in the order sent).
        const pending = this.inbox.splice(0).sort((a, b) => a.created_at - b.created_at);
        for (let start = 0; start < pending.length && !this.closed; start += INBOX_BATCH) {
          const batch = pending.slice(start, start + INBOX_BATCH);
          const writes: Array<() => void> = [];
          await this.mls.run(async () => {
            for (const [index, event] of batch.entries()) {
              if (this.closed) return;
              done += 1;
              const total = done + (pending.length - start - index - 1) + this.inbox.length;
              if (total >= SYNC_PROGRESS_FROM && Date.now() - lastProgress >= SYNC_PROGRESS_EVERY_MS) {
                lastProgress = Date.now();
                this.ctx.update((s) => {
                  s.sync = { done, total };
                });
                // Crypto here rarely waits on I/O: give the event loop a turn so the progress is pushed.
                await new Promise((resolve) => setImmediate(resolve));
              }
              if (this.ctx.store.isProcessed(event.id)) continue;
              try {
                await this.apply(copyEvent(event), writes);
              } catch (error) {
                this.ctx.log({ event: "event_rejected", kind: event.kind, id: event.id.slice(0, 12), error: describeError(error) });
                this.countInput("rejected");
                writes.push(() => this.ctx.store.markProcessed(event.id, event.kind, this.now()));
              }
            }
          });
          if (this.closed) return;
          const inserts = this.inserts.splice(0).sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1] || a.order[2] - b.order[2]);
          const states = [...this.dirtyStates].flatMap((id) => {
            const group = this.groups.get(id);
            return group ? [{ id, bytes: serializeGroupState(group.state), epoch: Number(group.state.groupContext.epoch) }] : [];
          });
          this.dirtyStates.clear();
          this.cursors.clear();
          this.ctx.store.transaction(() => {
            for (const write of writes) write();
            for (const insert of inserts) insert.write();
            for (const state of states) this.ctx.store.updateGroupState(state.id, state.bytes, state.epoch);
            this.storeCursors();
          });
          this.fetchRefusedAgain();
          // Told only after the batch is stored: a listener never sees something a crash could lose.
          const announced = this.announce.splice(0);
          for (const event of announced) this.ctx.emit(event);
          this.notify(announced);
          this.refresh();
        }
      }
    } finally {
      this.draining = false;
      // A fetch-again whose catch-up has been applied is done: what was refused again is "waiting" anew.
      if (this.catchingUp.size === 0) {
        for (const [groupId, refused] of this.refused) if (refused.state === "issued") this.refused.delete(groupId);
      }
      if (this.ctx.state().sync) {
        this.ctx.update((s) => {
          s.sync = null;
        });
      }
      if (!this.closed) this.commitPendingProposals();
    }
  }

  /** Subscription cursors move with the batch: noted per event, stored once in the batch's transaction. */
  private noteCursor(key: string, createdAt: number): void {
    // The sender chose created_at: a cursor never moves past our own clock plus a small skew.
    const at = Math.min(createdAt, this.now() + this.ctx.timings.futureSkewSec);
    this.cursors.set(key, Math.max(at, this.cursors.get(key) ?? 0));
  }

  /** Where a received item sorts (chat list, messages, invites): its sender's time, but never later than now. */
  private receivedAt(createdAt: number): number {
    return Math.min(createdAt, this.now());
  }

  private storeCursors(): void {
    for (const [key, createdAt] of this.cursors) {
      if (createdAt > (this.ctx.store.getMeta<number>(key) ?? 0)) this.ctx.store.setMeta(key, createdAt);
    }
    this.cursors.clear();
    // A group cursor never passes input still waiting for its commit, so a restart fetches it again.
    for (const groupId of new Set([...this.held.keys(), ...this.refused.keys()])) {
      const floor = this.inputFloor(groupId);
      const key = groupCursorKey(groupId);
      if (floor !== null && floor < (this.ctx.store.getMeta<number>(key) ?? 0)) this.ctx.store.setMeta(key, floor);
    }
  }

  /** The newest message from someone else in an unmuted chat becomes the desktop notification. */
  private notify(announced: CoreEvent[]): void {
    const flags = this.flags();
    const last = announced.filter((e) => e.type === "message_received" && !e.message.mine && e.message.kind === CHAT_MESSAGE_KIND && !flags[e.chat_id]?.muted).at(-1);
    if (!last || last.type !== "message_received") return;
    const group = this.groups.get(last.chat_id);
    if (!group) return;
    const senderRow = this.ctx.store.getProfiles([last.message.sender]).get(last.message.sender);
    const sender = senderRow?.name ?? shortNpub(npubFromHex(last.message.sender));
    const title = group.row.kind === "direct" ? sender : group.row.name || "Group chat";
    const body = group.row.kind === "direct" ? last.message.text : `${sender}: ${last.message.text}`;
    this.ctx.update((s) => {
      s.notification = { seq: (s.notification?.seq ?? 0) + 1, chat_id: last.chat_id, title, body: body.slice(0, 200) };
    });
  }

  private async apply(event: Event, writes: Array<() => void>): Promise<void> {
    switch (event.kind) {
      case GIFT_WRAP_KIND:
        return this.applyGiftWrap(event, writes);
      case GROUP_EVENT_KIND:
        return this.applyGroupEvent(event, writes, true);
      case PROFILE_KIND:
        return this.applyProfile(event, writes);
    }
  }

  private async applyGiftWrap(event: Event, writes: Array<() => void>): Promise<void> {
    const advanceCursor = () => {
      this.noteCursor(GIFT_WRAP_CURSOR, event.created_at);
      this.ctx.store.markProcessed(event.id, event.kind, this.now());
    };
    const received = readWelcome(event, this.ctx.keys.secret);
    const joined = await this.joinWelcome(received.welcome, received.keyPackageEventId ?? "", received.sender);
    if (!joined) throw new MarmotError("invalid_welcome", "Welcome for a key package we do not have");
    const groupId = nostrGroupIdHex(joined.groupData);
    if (this.groups.has(groupId) && !this.isNewMembership(groupId, joined.state)) {
      // We are in this group already, or this Welcome is older than where we stopped: nothing to join.
      writes.push(advanceCursor);
      return;
    }
    const members = groupMembers(joined.state);
    const name = joined.groupData.name || (members.length === 2 ? "Direct chat" : "Group chat");
    const keyPackageEventId = received.keyPackageEventId ?? "";
    const receivedAt = this.receivedAt(received.rumor.created_at);
    writes.push(() => {
      const saved = this.ctx.store.saveInvite({
        id: received.rumor.id,
        from_pubkey: received.sender,
        group_name: name,
        welcome: new TextEncoder().encode(serializeRumor(received.rumor)),
        key_package_event_id: keyPackageEventId,
        relays: received.relays,
        received_at: receivedAt,
      });
      advanceCursor();
      if (saved) {
        this.announce.push({
          type: "invite_received",
          invite: { id: received.rumor.id, from: received.sender, group_name: name, received_at: receivedAt },
        });
      }
    });
    this.ctx.pool.refresh("profiles");
  }

  private async applyGroupEvent(event: Event, writes: Array<() => void>, mayHold: boolean): Promise<void> {
    const groupId = groupEventGroupId(event);
    const group = this.groups.get(groupId);
    if (!group) return;
    if (this.flags()[groupId]?.left) {
      // We left or were removed: the group is history, nothing new is read into it.
      writes.push(() => this.ctx.store.markProcessed(event.id, event.kind, this.now()));
      return;
    }
    let message: MlsMessage;
    let keyEpoch: bigint;
    try {
      ({ message, keyEpoch } = unwrapGroupEvent(event, group.keys));
    } catch (error) {
      if (mayHold && error instanceof MarmotError && error.code === "undecryptable") return this.hold(groupId, event, writes);
      throw error;
    }
    const before = group.state;
    let result: Awaited<ReturnType<typeof processGroupMessage>>;
    try {
      result = await processGroupMessage(group.state, message);
    } catch (error) {
      if (mayHold && error instanceof MarmotError && error.code === "future_epoch") return this.hold(groupId, event, writes);
      throw error;
    }
    if (result.kind === "skipped" && group.branch && keyEpoch === group.branch.epoch && compareCommitEvents(event, group.branch.commit) < 0) {
      // Two commits for one epoch: the earliest (then the smallest id) wins, so our branch is rolled back.
      const lost = group.branch;
      const replay = await processGroupMessage(lost.before, message);
      if (replay.kind === "commit") {
        this.ctx.log({ event: "commit_race_rolled_back", chat: groupId.slice(0, 8), lost: lost.commit.id.slice(0, 12), won: event.id.slice(0, 12) });
        group.branch = { epoch: lost.epoch, before: lost.before, commit: event, ours: false };
        if (lost.ours) this.ctx.toast("info", "Another admin changed the group at the same moment; your change was undone. Try it again.");
        return this.applyCommit(groupId, event, replay, readGroupData(lost.before), writes);
      }
    }
    if (result.kind === "commit") {
      group.branch = { epoch: before.groupContext.epoch, before, commit: event, ours: false };
      return this.applyCommit(groupId, event, result, readGroupData(before), writes);
    }
    group.state = result.state;
    // The group's state is serialized and stored once per batch (see drain), not once per message.
    this.dirtyStates.add(groupId);
    const advance = () => {
      this.ctx.store.markProcessed(event.id, event.kind, this.now());
      this.noteCursor(groupCursorKey(groupId), event.created_at);
    };
    if (result.kind === "application") {
      const rumor = result.rumor;
      const mine = rumor.pubkey === this.ctx.keys.pubkey;
      writes.push(advance);
      // Stored after the rest of the batch, ordered by second, epoch and the sender's message number:
      // a backlog arrives shuffled within each second, but is shown in the order it was written.
      const at = this.receivedAt(rumor.created_at);
      this.inserts.push({ order: [at, Number(result.epoch), result.generation], write: () => {
        if (rumor.kind !== CHAT_MESSAGE_KIND && rumor.kind !== REACTION_KIND) return;
        const inserted = this.ctx.store.insertMessage({
          id: rumor.id,
          group_id: groupId,
          sender: rumor.pubkey,
          kind: rumor.kind,
          content: rumor.content,
          tags: rumor.tags,
          created_at: at,
          status: mine ? "sent" : "received",
        });
        if (inserted) {
          this.announce.push({
            type: "message_received",
            chat_id: groupId,
            message: { id: rumor.id, sender: rumor.pubkey, kind: rumor.kind, text: rumor.content, created_at: at, mine },
          });
        }
        if (inserted && rumor.kind === CHAT_MESSAGE_KIND) {
          this.ctx.store.touchGroup(groupId, at);
          if (this.openWindow?.chatId === groupId) this.ctx.store.markRead(groupId);
        }
      } });
      return;
    }
    if (result.kind === "proposal" && readGroupData(result.state).adminPubkeys.includes(this.ctx.keys.pubkey)) {
      // A member's own leave or update: admins commit it once this batch is stored.
      this.pendingCommits.add(groupId);
    }
    writes.push(advance);
  }

  /** Applies someone's commit: new epoch, members and data; system lines for what changed. */
  private async applyCommit(
    groupId: string,
    event: Event,
    result: Extract<Awaited<ReturnType<typeof processGroupMessage>>, { kind: "commit" }>,
    previous: MarmotGroupData,
    writes: Array<() => void>,
  ): Promise<void> {
    const group = this.loaded(groupId);
    if (result.pathless) {
      // A v1 client on unpatched ts-mls: applied (refusing would fork us out of the group), but with
      // no fresh entropy a member this commit removed can still compute the new epoch.
      this.ctx.log({ event: "commit_without_path", chat: groupId.slice(0, 8), sender: result.sender.slice(0, 12), epoch: Number(result.epoch), removed: result.removed.length });
    }
    if (result.removedUs) {
      // Removed: keep the last state we had as history; nothing after this commit is ours to read.
      this.setFlags(groupId, { left: true, removed_by: result.sender });
      writes.push(() => {
        this.ctx.store.markProcessed(event.id, event.kind, this.now());
        this.systemLine(groupId, event, { type: "removed", actor: result.sender, targets: [this.ctx.keys.pubkey] });
      });
      return;
    }
    const key = await group.keys.remember(result.state);
    group.state = result.state;
    group.row = {
      ...group.row,
      members: groupMembers(result.state),
      admins: result.groupData.adminPubkeys,
      name: result.groupData.name,
      description: result.groupData.description,
    };
    const row = group.row;
    const stateBytes = serializeGroupState(result.state);
    const epoch = Number(result.state.groupContext.epoch);
    const lines: SystemLineData[] = [];
    if (result.added.length > 0) lines.push({ type: "added", actor: result.sender, targets: result.added });
    const removedByAdmin = result.removed.filter((m) => !result.left.includes(m));
    if (removedByAdmin.length > 0) lines.push({ type: "removed", actor: result.sender, targets: removedByAdmin });
    if (result.left.length > 0) lines.push({ type: "left", actor: result.sender, targets: result.left });
    if (result.groupData.name !== previous.name) lines.push({ type: "renamed", actor: result.sender, name: result.groupData.name });
    writes.push(() => {
      this.ctx.store.markProcessed(event.id, event.kind, this.now());
      this.noteCursor(groupCursorKey(groupId), event.created_at);
      this.ctx.store.putEpochKey(groupId, Number(key.epoch), encodeEpochKey(key));
      this.ctx.store.pruneEpochKeys(groupId, RETAINED_EPOCHS);
      this.ctx.store.upsertGroup({ ...row, state: stateBytes, epoch });
      lines.forEach((line, index) => this.systemLine(groupId, { id: index === 0 ? event.id : systemLineId(event.id, index), created_at: event.created_at }, line));
    });
    this.ctx.pool.refresh("profiles");
    await this.retryHeld(groupId, writes);
  }

  /** Admins commit members' pending proposals (leaves) after each received batch. */
  private commitPendingProposals(): void {
    const groups = [...this.pendingCommits];
    this.pendingCommits.clear();
    for (const groupId of groups) {
      void this.mls
        .run(async () => {
          const group = this.groups.get(groupId);
          if (!group || this.closed) return;
          const outcome = await commitPending(group.state);
          const after = new Set(groupMembers(outcome.state));
          const gone = groupMembers(group.state).filter((m) => !after.has(m));
          // The pending proposals are members' own leaves: they left, we only committed it.
          await this.adoptOwnCommit(groupId, outcome, { type: "left", targets: gone });
        })
        .catch((error: unknown) => this.ctx.log({ event: "commit_pending_failed", chat: groupId.slice(0, 8), error: describeError(error) }));
    }
  }

  /**
   * A kind 445 that opens under no key we have: a real message of an epoch whose commit has not arrived
   * yet looks exactly like junk anyone can publish for the group's public `h` tag. So it is held, bounded
   * per group; past the bound it is refused (not "seen") and fetched again after the group's next commit;
   * once several commits have passed and it still opens under no key, it is dropped as undecryptable.
   */
  private hold(groupId: string, event: Event, writes: Array<() => void>): void {
    const group = this.loaded(groupId);
    const epoch = group.state.groupContext.epoch;
    const first = this.firstFailed.get(event.id) ?? epoch;
    if (!this.firstFailed.has(event.id)) {
      if (this.firstFailed.size >= MAX_FAILED_TRACKED) this.firstFailed.delete(this.firstFailed.keys().next().value as string);
      this.firstFailed.set(event.id, epoch);
    }
    if (epoch - first >= BigInt(this.ctx.timings.heldCommitsBeforeDrop)) {
      this.firstFailed.delete(event.id);
      this.countInput("dropped_undecryptable");
      writes.push(() => this.ctx.store.markProcessed(event.id, event.kind, this.now()));
      return;
    }
    const held = this.held.get(groupId) ?? [];
    this.held.set(groupId, held);
    if (held.length < this.ctx.timings.maxHeldEventsPerGroup) {
      held.push(event);
      this.countInput("held");
      return;
    }
    this.seen.delete(event.id);
    const refused = this.refused.get(groupId);
    this.refused.set(groupId, { oldest: Math.min(refused?.oldest ?? event.created_at, event.created_at), state: "waiting" });
    this.countInput("refused");
  }

  /** After a commit: held events are tried again under the new epoch, and refused ones are due to be fetched again. */
  private async retryHeld(groupId: string, writes: Array<() => void>): Promise<void> {
    const refused = this.refused.get(groupId);
    if (refused?.state === "waiting") refused.state = "due";
    const held = this.held.get(groupId);
    if (!held || held.length === 0) return;
    this.held.delete(groupId);
    for (const event of held) {
      try {
        await this.applyGroupEvent(event, writes, true);
      } catch (error) {
        this.ctx.log({ event: "event_rejected", kind: event.kind, id: event.id.slice(0, 12), error: describeError(error) });
        this.countInput("rejected");
      }
    }
  }

  /** Refused input of groups that got a commit is fetched again: one resubscription, from the oldest refused. */
  private fetchRefusedAgain(): void {
    if ([...this.refused.values()].some((r) => r.state === "due")) this.ctx.pool.refresh("groups");
  }

  /** Dropped, refused and undecryptable input is never silent: counted, and logged at most once per interval. */
  private countInput(what: keyof Account["inputCounts"]): void {
    this.inputCounts[what] += 1;
    this.inputReport.dirty = true;
    if (this.inputReport.timer) return;
    const wait = Math.max(0, this.inputReport.last + this.ctx.timings.inputReportEveryMs - Date.now());
    this.inputReport.timer = setTimeout(() => {
      this.inputReport.timer = null;
      if (this.closed || !this.inputReport.dirty) return;
      this.inputReport.last = Date.now();
      this.inputReport.dirty = false;
      const heldNow = [...this.held.values()].reduce((sum, list) => sum + list.length, 0);
      this.ctx.log({ event: "group_input_report", ...this.inputCounts, held_now: heldNow, groups_refused: this.refused.size });
    }, wait);
    this.inputReport.timer.unref?.();
  }

  /** Totals since login of held, refused, dropped and rejected input (also in the log). */
  inputStats(): Readonly<Account["inputCounts"]> {
    return { ...this.inputCounts };
  }

  private async applyProfile(event: Event, writes: Array<() => void>): Promise<void> {
    if (!verifySignature(event)) throw new Error("bad profile signature");
    let profile: Record<string, unknown>;
    try {
      profile = JSON.parse(event.content) as Record<string, unknown>;
    } catch {
      throw new Error("profile content is not JSON");
    }
    const text = (value: unknown, max: number): string | null => (typeof value === "string" && value.trim() !== "" ? value.trim().slice(0, max) : null);
    const name = text(profile["display_name"], 100) ?? text(profile["name"], 100);
    const pictureText = text(profile["picture"], 1000);
    const picture = pictureText && /^https:\/\//.test(pictureText) ? pictureText : null;
    writes.push(() => {
      this.ctx.store.upsertProfile({ pubkey: event.pubkey, name, picture, created_at: Math.min(event.created_at, this.now() + this.ctx.timings.futureSkewSec) });
      this.ctx.store.markProcessed(event.id, event.kind, this.now());
      this.noteCursor(PROFILE_CURSOR, event.created_at);
    });
  }

  // ---- Projections into AppState ----

  private openChat(chatId: string): DispatchReply {
    if (!this.groups.has(chatId)) return this.refuse("That chat does not exist.");
    this.openWindow = { chatId, limit: this.ctx.timings.messagePageSize };
    this.ctx.store.markRead(chatId);
    this.refresh();
    return { ok: true };
  }

  /** Re-reads the chat list, invites and the open chat's window from the store, once per tick. */
  private refresh(): void {
    if (this.refreshScheduled || this.closed) return;
    this.refreshScheduled = true;
    setImmediate(() => {
      this.refreshScheduled = false;
      if (!this.closed && this.ctx.live()) this.project();
    });
  }

  private project(): void {
    const store = this.ctx.store;
    const summaries = store.listChatSummaries();
    const invites = store.listPendingInvites();
    const people = new Set<string>([this.ctx.keys.pubkey]);
    for (const s of summaries) for (const m of s.members) people.add(m);
    for (const i of invites) people.add(i.from_pubkey);
    const window = this.openWindow;
    const group = window ? this.groups.get(window.chatId) : undefined;
    const page = window && group ? store.listMessages(window.chatId, { limit: window.limit }) : null;
    const systemLines = new Map<string, SystemLineData>();
    for (const m of page?.messages ?? []) {
      people.add(m.sender);
      if (m.kind !== SYSTEM_KIND) continue;
      try {
        const line = JSON.parse(m.content) as SystemLineData;
        systemLines.set(m.id, line);
        for (const target of line.targets ?? []) people.add(target);
      } catch {
        // an unreadable line is shown as it is stored
      }
    }
    const reactions = new Map<string, MessageRow[]>();
    if (page && window) {
      const shown = new Set(page.messages.map((m) => m.id));
      for (const reaction of store.listReactions(window.chatId)) {
        const target = reaction.tags.filter((t) => t[0] === "e").at(-1)?.[1];
        if (target && shown.has(target)) reactions.set(target, [...(reactions.get(target) ?? []), reaction]);
      }
    }
    const profiles = store.getProfiles([...people]);
    const profile = (pubkey: string): ProfileView => {
      const row = profiles.get(pubkey);
      return { pubkey, npub: npubFromHex(pubkey), name: row?.name ?? null, picture: row?.picture ?? null };
    };
    const title = (kind: string, name: string, peer: string | null): string => {
      if (kind === "direct" && peer) {
        const p = profile(peer);
        return p.name ?? shortNpub(p.npub);
      }
      return name || "Unnamed group";
    };
    const flags = this.flags();
    const agents = store.getMeta<{ current: string | null; past: string[] }>(AGENTS_KEY) ?? { current: null, past: [] };
    const agentMark = (peer: string | null): ChatSummary["agent"] => (peer && peer === agents.current ? "current" : peer && agents.past.includes(peer) ? "past" : null);
    const chats: ChatSummary[] = summaries.map((s) => ({
      id: s.id,
      kind: s.kind,
      title: title(s.kind, s.name, s.peer),
      members: s.members.filter((m) => m !== this.ctx.keys.pubkey).map(npubFromHex),
      peer: s.peer ? profile(s.peer) : null,
      last_message: s.last_message,
      last_message_at: s.last_message_at,
      unread: window?.chatId === s.id ? 0 : s.unread,
      updated_at: s.updated_at,
      agent: s.kind === "direct" ? agentMark(s.peer) : null,
      muted: flags[s.id]?.muted === true,
      left: flags[s.id]?.left === true,
    }));
    const nameOf = (pubkey: string | undefined): string => {
      if (!pubkey) return "Someone";
      if (pubkey === this.ctx.keys.pubkey) return "You";
      const p = profile(pubkey);
      return p.name ?? shortNpub(p.npub);
    };
    const systemText = (line: SystemLineData): string => {
      const actor = nameOf(line.actor);
      const targets = (line.targets ?? []).map((t) => (t === this.ctx.keys.pubkey ? "you" : nameOf(t))).join(", ");
      switch (line.type) {
        case "created":
          return `${actor} created the group${line.name ? ` “${line.name}”` : ""}${targets ? ` with ${targets}` : ""}`;
        case "added":
          return `${actor} added ${targets}`;
        case "removed":
          if (line.targets?.length === 1 && line.targets[0] === line.actor) return `${actor} left`;
          if (line.targets?.length === 1 && line.targets[0] === this.ctx.keys.pubkey) return `You were removed by ${nameOf(line.actor)}`;
          return `${actor} removed ${targets}`;
        case "renamed":
          return `${actor} renamed the group to “${line.name ?? ""}”`;
        case "left": {
          // Who left is the target; the actor only committed their leave (lines stored before had no targets).
          const leavers = line.targets && line.targets.length > 0 ? line.targets : line.actor ? [line.actor] : [];
          if (leavers.length === 1 && leavers[0] === this.ctx.keys.pubkey) return "You left the group";
          return `${leavers.map((t) => nameOf(t)).join(", ") || "Someone"} left`;
        }
      }
    };
    const reactionViews = (id: string): MessageView["reactions"] => {
      const byEmoji = new Map<string, { count: number; mine: boolean; senders: Set<string> }>();
      for (const r of reactions.get(id) ?? []) {
        const entry = byEmoji.get(r.content) ?? { count: 0, mine: false, senders: new Set<string>() };
        if (entry.senders.has(r.sender)) continue;
        entry.senders.add(r.sender);
        entry.count += 1;
        entry.mine ||= r.sender === this.ctx.keys.pubkey;
        byEmoji.set(r.content, entry);
      }
      return [...byEmoji].map(([emoji, e]) => ({ emoji, count: e.count, mine: e.mine }));
    };
    const toView = (m: MessageRow): MessageView => {
      const line = m.kind === SYSTEM_KIND ? systemLines.get(m.id) : undefined;
      return {
        id: m.id,
        kind: m.kind === SYSTEM_KIND ? "system" : "text",
        sender: profile(m.sender),
        mine: m.sender === this.ctx.keys.pubkey,
        text: line ? systemText(line) : m.content,
        created_at: m.created_at,
        status: m.status,
        error: m.error,
        reactions: m.kind === SYSTEM_KIND ? [] : reactionViews(m.id),
      };
    };
    this.ctx.update((s) => {
      s.chats = chats;
      s.invites = invites.map((i) => ({ id: i.id, from: profile(i.from_pubkey), group_name: i.group_name, received_at: i.received_at }));
      s.open_chat =
        window && group && page
          ? {
              chat_id: window.chatId,
              kind: group.row.kind,
              title: title(group.row.kind, group.row.name, group.row.peer),
              description: group.row.description,
              // Once we left or were removed we are no member: the count is of those still in it.
              members: (flags[window.chatId]?.left ? group.row.members.filter((m) => m !== this.ctx.keys.pubkey) : group.row.members).map(profile),
              admins: group.row.admins,
              am_admin: group.row.admins.includes(this.ctx.keys.pubkey),
              muted: flags[window.chatId]?.muted === true,
              left: flags[window.chatId]?.left === true,
              removed_by: flags[window.chatId]?.left && flags[window.chatId]?.removed_by ? profile(flags[window.chatId]!.removed_by!) : null,
              messages: page.messages.filter((m) => m.kind === CHAT_MESSAGE_KIND || m.kind === SYSTEM_KIND).map(toView),
              has_older: page.has_older,
              loading_older: false,
            }
          : null;
    });
  }

  // ---- Helpers ----

  private loadGroup(row: GroupRow): void {
    try {
      const keys = new EpochKeyCache(RETAINED_EPOCHS);
      for (const stored of this.ctx.store.listEpochKeys(row.id, RETAINED_EPOCHS).reverse()) {
        for (const key of EpochKeyCache.deserialize(stored.key, 1).list()) keys.put(key);
      }
      this.groups.set(row.id, { row, state: deserializeGroupState(row.state), keys });
    } catch (error) {
      this.ctx.log({ event: "group_unreadable", chat: row.id.slice(0, 8), error: describeError(error) });
      this.ctx.toast("error", `A chat could not be loaded from storage: ${describeError(error)}`);
    }
  }

  /** Unix seconds on this core's clock. */
  private now(): number {
    return unixSeconds(this.ctx.clock);
  }

  private current(token: EffectToken<EffectKind>): boolean {
    return !this.closed && this.ctx.live() && this.ctx.tokens.isCurrent(token);
  }

  /** Refused: toasted, or, for a form's request, put in its outcome (the form shows it inline). */
  private refuse(message: string, requestId?: number): DispatchReply {
    if (requestId === undefined) this.ctx.toast("error", message);
    else this.outcome(requestId, message);
    return { ok: false, error: message };
  }

  private outcome(requestId: number | undefined, error: string | null): void {
    if (requestId === undefined) return;
    this.ctx.update((s) => {
      s.outcomes = [...s.outcomes.filter((o) => o.request_id !== requestId), { request_id: requestId, error }].slice(-MAX_OUTCOMES);
    });
  }
}

