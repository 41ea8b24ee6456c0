// One logged-in account: its store, relays, KeyPackages and Marmot chats. Created at login,
// closed at logout; everything it reports goes through the core's `update`.
import type { Event } from "nostr-tools/core";
import type { Filter } from "nostr-tools/filter";
import type { MlsMessage } from "ts-mls";
import type { ChatAction, DispatchReply } from "../../shared/actions.js";
import { npubFromHex, parsePubkeyInput } from "../../shared/pubkeys.js";
import type { ChatSummary, MessageView, ProfileView } from "../../shared/state.js";
import type { AccountContext } from "./accountContext.js";
import type { CoreEvent } from "./events.js";
import { AgentManager } from "./agent/agentFlow.js";
import { KeyPackageManager, type KeyPackagePublished } from "./keyPackages.js";
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
  type GroupEventKey,
  type Rumor,
  type MarmotGroupData,
} from "./marmot/index.js";
import { MarmotError, describeError } from "./marmot/errors.js";
import { serializeRumor } from "./marmot/rumor.js";
import { SerialQueue } from "./serialQueue.js";
import type { GroupInput, GroupRow, MessageRow } from "./storage/accountStore.js";
import type { EffectToken } from "./tokens.js";
import type { EffectKind } from "./accountContext.js";

type ClientState = Awaited<ReturnType<typeof deserializeGroupState>>;

interface LoadedGroup {
  row: GroupRow;
  state: ClientState;
  keys: EpochKeyCache;
}

const PROFILE_KIND = 0;
const RETAINED_EPOCHS = 5;
const MAX_HELD_EVENTS = 2_000;
const INBOX_BATCH = 500;

const now = (): number => Math.floor(Date.now() / 1000);
const shortNpub = (npub: string): string => `${npub.slice(0, 12)}…${npub.slice(-6)}`;
const groupCursorKey = (groupId: string): string => `cursor:445:${groupId}`;
const GIFT_WRAP_CURSOR = "cursor:1059";
const AGENT_API_KEY = "agent_api_url";
const AGENTS_KEY = "agents";
const PROFILE_CURSOR = "cursor:0";

class UserError extends Error {}

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
  /** Events of epochs we have not reached yet, per group: tried again after each commit. */
  private readonly held = new Map<string, Event[]>();
  private readonly seen = new Set<string>();
  private readonly announce: CoreEvent[] = [];
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

  start(relays: string[], defaultAgentApiUrl: string): void {
    this.defaultAgentApiUrl = defaultAgentApiUrl;
    for (const row of this.ctx.store.listGroups()) this.loadGroup(row);
    const chosenAgentApi = this.ctx.store.getMeta<string>(AGENT_API_KEY);
    this.ctx.update((s) => {
      s.settings.relays = relays;
      s.settings.agent_api_url = chosenAgentApi;
      s.agent.api_url = this.agentApiUrl();
    });
    this.ctx.pool.setRelays(relays);
    this.ctx.pool.subscribe("gift_wraps", { filters: () => this.giftWrapFilters(), onEvent: (e) => this.receive(e) });
    this.ctx.pool.subscribe("groups", { filters: () => this.groupFilters(), onEvent: (e) => this.receive(e) });
    this.ctx.pool.subscribe("profiles", { filters: () => this.profileFilters(), onEvent: (e) => this.receive(e) });
    this.refresh();
    void this.keyPackages.ensurePublished().catch((error: unknown) => this.ctx.log({ event: "key_package_check_failed", error: describeError(error) }));
    this.agent.probe();
  }

  /** The network came back: relays are online again, and agent access may be knowable now. */
  networkBack(): void {
    this.relayConnected();
    if (this.ctx.state().agent.access === "unknown") this.agent.probe();
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
    this.ctx.store.setMeta("relays", relays);
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
        return this.createChat(action.peer);
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
    }
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

  private createChat(peerInput: string): DispatchReply {
    const parsed = parsePubkeyInput(peerInput);
    if (!parsed.ok) return this.refuse(parsed.error);
    if (parsed.pubkey === this.ctx.keys.pubkey) return this.refuse("That is your own key. Enter someone else's npub.");
    const existing = this.ctx.store.findDirectGroup(parsed.pubkey);
    if (existing) return this.openChat(existing.id);
    if (this.ctx.state().busy.creating_chat) return this.refuse("A chat is already being created. Try again in a moment.");
    const token = this.ctx.tokens.issue("create_chat");
    this.ctx.update((s) => {
      s.busy.creating_chat = true;
    });
    this.openOrCreateDirectChat(parsed.pubkey, token).then(
      (chatId) => {
        if (chatId === null || !this.current(token)) return;
        this.ctx.update((s) => {
          s.busy.creating_chat = false;
        });
        this.openChat(chatId);
      },
      (error: unknown) => {
        if (!this.current(token)) return;
        this.ctx.update((s) => {
          s.busy.creating_chat = false;
        });
        this.ctx.toast("error", error instanceof UserError ? error.message : `Could not create the chat: ${describeError(error)}`);
      },
    );
    return { ok: true };
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

  /** Finds the peer's newest verifying KeyPackage: on our relays, then on the relays of their kind 10051 list. */
  private async fetchKeyPackage(peer: string): Promise<Awaited<ReturnType<typeof selectKeyPackage>>> {
    const timeout = this.ctx.timings.keyPackageFetchMs;
    const found = await this.ctx.pool.query([{ kinds: [KEY_PACKAGE_KIND, ADDRESSABLE_KEY_PACKAGE_KIND, KEY_PACKAGE_RELAY_LIST_KIND], authors: [peer] }], timeout);
    let packages = found.filter((e) => e.kind !== KEY_PACKAGE_RELAY_LIST_KIND);
    const relayList = found.filter((e) => e.kind === KEY_PACKAGE_RELAY_LIST_KIND).sort((a, b) => b.created_at - a.created_at)[0];
    const theirRelays = (relayList?.tags ?? []).filter((t) => t[0] === "relay" && t[1]).map((t) => t[1] as string);
    const elsewhere = theirRelays.filter((url) => !this.ctx.pool.urls.includes(url));
    if (packages.length === 0 && elsewhere.length > 0) {
      packages = await this.ctx.pool.query([{ kinds: [KEY_PACKAGE_KIND, ADDRESSABLE_KEY_PACKAGE_KIND], authors: [peer] }], timeout, elsewhere);
    }
    if (packages.length === 0) {
      throw new UserError(`No key package found for ${shortNpub(npubFromHex(peer))}. They need to open Burrow or another Marmot app first.`);
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
      const commitEvent = wrapGroupMessage(created.commit, await deriveGroupEventKey(created.previousState));
      this.ctx.store.markProcessed(commitEvent.id, GROUP_EVENT_KIND, now());
      const commitOutcome = await this.ctx.pool.publish(commitEvent, relays);
      if (commitOutcome.accepted.length === 0) {
        throw new UserError(`Could not create the chat: no relay accepted it (${commitOutcome.failed[0]?.reason ?? "no relays"})`);
      }
      if (!this.current(token)) return null;
      const keys = new EpochKeyCache(RETAINED_EPOCHS);
      const key = await keys.remember(created.state);
      const createdAt = now();
      const row: GroupInput = {
        id: groupId,
        mls_group_id: Buffer.from(created.state.groupContext.groupId).toString("hex"),
        kind: "direct",
        name: created.groupData.name,
        description: created.groupData.description,
        admins: created.groupData.adminPubkeys,
        relays,
        members: groupMembers(created.state),
        peer,
        state: serializeGroupState(created.state),
        epoch: Number(created.state.groupContext.epoch),
        created_at: createdAt,
        updated_at: createdAt,
      };
      this.ctx.store.transaction(() => {
        this.ctx.store.upsertGroup(row);
        this.ctx.store.putEpochKey(groupId, Number(key.epoch), encodeEpochKey(key));
        this.ctx.store.setMeta(groupCursorKey(groupId), createdAt);
      });
      this.groups.set(groupId, { row: { ...row, last_read_at: 0 }, state: created.state, keys });
      this.ctx.pool.refresh("groups");
      this.ctx.pool.refresh("profiles");

      // The Welcome goes out only after a relay accepted the commit that adds the peer.
      const rumor = welcomeRumor(created.welcome, { senderPubkey: this.ctx.keys.pubkey, keyPackageEventId: chosen.event.id, relays });
      const wrap = giftWrap(rumor, this.ctx.keys.secret, peer);
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
        if (!joined) throw new UserError("This invitation was made for a key package this device no longer has.");
        const groupId = nostrGroupIdHex(joined.groupData);
        if (!this.groups.has(groupId)) await this.saveJoinedGroup(joined.state, joined.groupData, invite.from_pubkey, invite.received_at);
        this.ctx.store.setInviteStatus(inviteId, "accepted");
        if (this.closed) return groupId;
        void this.keyPackages.rotate(joined.ref).catch((error: unknown) => this.ctx.log({ event: "key_package_rotate_failed", error: describeError(error) }));
        return groupId;
      });
      if (this.closed) return;
      this.openChat(chatId);
    } catch (error) {
      if (this.closed) return;
      this.ctx.toast("error", error instanceof UserError ? error.message : `Could not join the chat: ${describeError(error)}`);
    }
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
    const groupId = nostrGroupIdHex(groupData);
    const members = groupMembers(state);
    const others = members.filter((m) => m !== this.ctx.keys.pubkey);
    const direct = members.length === 2 && groupData.name === "";
    const keys = new EpochKeyCache(RETAINED_EPOCHS);
    const key = await keys.remember(state);
    const row: GroupInput = {
      id: groupId,
      mls_group_id: Buffer.from(state.groupContext.groupId).toString("hex"),
      kind: direct ? "direct" : "group",
      name: groupData.name,
      description: groupData.description,
      admins: groupData.adminPubkeys,
      relays: groupData.relays,
      members,
      peer: direct ? (others[0] ?? inviter) : null,
      state: serializeGroupState(state),
      epoch: Number(state.groupContext.epoch),
      created_at: joinedAt,
      updated_at: now(),
    };
    this.ctx.store.transaction(() => {
      this.ctx.store.upsertGroup(row);
      this.ctx.store.putEpochKey(groupId, Number(key.epoch), encodeEpochKey(key));
      this.ctx.store.setMeta(groupCursorKey(groupId), joinedAt);
    });
    this.groups.set(groupId, { row: { ...row, last_read_at: 0 }, state, keys });
    this.ctx.pool.refresh("groups");
    this.ctx.pool.refresh("profiles");
  }

  // ---- Messages ----

  private sendMessage(chatId: string, text: string): DispatchReply {
    const group = this.groups.get(chatId);
    if (!group) return this.refuse("That chat does not exist.");
    const rumor = chatMessageRumor(this.ctx.keys.pubkey, text);
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
        const event = wrapGroupMessage(encrypted.message, key);
        loaded.state = encrypted.state;
        this.ctx.store.transaction(() => {
          this.ctx.store.markProcessed(event.id, GROUP_EVENT_KIND, now());
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
    const outcome = await this.ctx.pool.publish(event, this.publishRelays(group?.row));
    if (this.closed) return;
    if (outcome.accepted.length > 0) {
      this.ctx.store.updateMessageStatus(messageId, "sent");
      this.refresh();
    } else {
      this.markFailed(messageId, outcome.failed[0]?.reason ?? "no relay accepted it");
    }
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
    if (cursor !== null) filter.since = Math.max(0, cursor - this.ctx.timings.giftWrapBackdateSec - this.ctx.timings.resumeMarginSec);
    return [filter];
  }

  private groupFilters(): Filter[] {
    return [...this.groups.keys()].map((groupId) => {
      const cursor = this.ctx.store.getMeta<number>(groupCursorKey(groupId)) ?? 0;
      return { kinds: [GROUP_EVENT_KIND], "#h": [groupId], since: Math.max(0, cursor - this.ctx.timings.resumeMarginSec) };
    });
  }

  private profileFilters(): Filter[] {
    const people = new Set<string>();
    for (const { row } of this.groups.values()) for (const member of row.members) people.add(member);
    for (const invite of this.ctx.store.listPendingInvites()) people.add(invite.from_pubkey);
    people.delete(this.ctx.keys.pubkey);
    if (people.size === 0) return [];
    const cursor = this.ctx.store.getMeta<number>(PROFILE_CURSOR);
    return [{ kinds: [PROFILE_KIND], authors: [...people], ...(cursor !== null ? { since: Math.max(0, cursor - this.ctx.timings.resumeMarginSec) } : {}) }];
  }

  private receive(event: Event): void {
    if (this.closed || this.seen.has(event.id)) return;
    this.seen.add(event.id);
    this.inbox.push(event);
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => void this.drain());
    }
  }

  /** Applies received events in batches: in created_at order, each batch stored in one transaction. */
  private async drain(): Promise<void> {
    try {
      while (this.inbox.length > 0 && !this.closed) {
        // Stable: events of the same second keep their arrival order (a sender's messages arrive in the order sent).
        const batch = this.inbox.splice(0, INBOX_BATCH).sort((a, b) => a.created_at - b.created_at);
        const writes: Array<() => void> = [];
        await this.mls.run(async () => {
          for (const event of batch) {
            if (this.closed) return;
            if (this.ctx.store.isProcessed(event.id)) continue;
            try {
              await this.apply(copyEvent(event), writes);
            } catch (error) {
              this.ctx.log({ event: "event_rejected", kind: event.kind, id: event.id.slice(0, 12), error: describeError(error) });
              writes.push(() => this.ctx.store.markProcessed(event.id, event.kind, now()));
            }
          }
        });
        if (this.closed) return;
        this.ctx.store.transaction(() => {
          for (const write of writes) write();
        });
        // Told only after the batch is stored: a listener never sees something a crash could lose.
        const announced = this.announce.splice(0);
        for (const event of announced) this.ctx.emit(event);
        this.refresh();
      }
    } finally {
      this.draining = false;
    }
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
      const cursor = this.ctx.store.getMeta<number>(GIFT_WRAP_CURSOR) ?? 0;
      if (event.created_at > cursor) this.ctx.store.setMeta(GIFT_WRAP_CURSOR, event.created_at);
      this.ctx.store.markProcessed(event.id, event.kind, now());
    };
    const received = readWelcome(event, this.ctx.keys.secret);
    const joined = await this.joinWelcome(received.welcome, received.keyPackageEventId ?? "", received.sender);
    if (!joined) throw new MarmotError("invalid_welcome", "Welcome for a key package we do not have");
    const groupId = nostrGroupIdHex(joined.groupData);
    if (this.groups.has(groupId)) {
      writes.push(advanceCursor);
      return;
    }
    const members = groupMembers(joined.state);
    const name = joined.groupData.name || (members.length === 2 ? "Direct chat" : "Group chat");
    const keyPackageEventId = received.keyPackageEventId ?? "";
    writes.push(() => {
      const saved = this.ctx.store.saveInvite({
        id: received.rumor.id,
        from_pubkey: received.sender,
        group_name: name,
        welcome: new TextEncoder().encode(serializeRumor(received.rumor)),
        key_package_event_id: keyPackageEventId,
        relays: received.relays,
        received_at: received.rumor.created_at,
      });
      advanceCursor();
      if (saved) {
        this.announce.push({
          type: "invite_received",
          invite: { id: received.rumor.id, from: received.sender, group_name: name, received_at: received.rumor.created_at },
        });
      }
    });
    this.ctx.pool.refresh("profiles");
  }

  private async applyGroupEvent(event: Event, writes: Array<() => void>, mayHold: boolean): Promise<void> {
    const groupId = event.tags.find((t) => t[0] === "h")?.[1] ?? "";
    const group = this.groups.get(groupId);
    if (!group) return;
    let message: MlsMessage;
    try {
      message = unwrapGroupEvent(event, group.keys).message;
    } catch (error) {
      if (mayHold && error instanceof MarmotError && error.code === "undecryptable") return this.hold(groupId, event);
      throw error;
    }
    let result: Awaited<ReturnType<typeof processGroupMessage>>;
    try {
      result = await processGroupMessage(group.state, message);
    } catch (error) {
      if (mayHold && error instanceof MarmotError && error.code === "future_epoch") return this.hold(groupId, event);
      throw error;
    }
    group.state = result.state;
    const stateBytes = serializeGroupState(result.state);
    const epoch = Number(result.state.groupContext.epoch);
    const advance = () => {
      this.ctx.store.markProcessed(event.id, event.kind, now());
      this.ctx.store.updateGroupState(groupId, stateBytes, epoch);
      const cursor = this.ctx.store.getMeta<number>(groupCursorKey(groupId)) ?? 0;
      if (event.created_at > cursor) this.ctx.store.setMeta(groupCursorKey(groupId), event.created_at);
    };
    if (result.kind === "application") {
      const rumor = result.rumor;
      const mine = rumor.pubkey === this.ctx.keys.pubkey;
      writes.push(() => {
        advance();
        if (rumor.kind !== CHAT_MESSAGE_KIND && rumor.kind !== 7) return;
        const inserted = this.ctx.store.insertMessage({
          id: rumor.id,
          group_id: groupId,
          sender: rumor.pubkey,
          kind: rumor.kind,
          content: rumor.content,
          tags: rumor.tags,
          created_at: rumor.created_at,
          status: mine ? "sent" : "received",
        });
        if (inserted) {
          this.announce.push({
            type: "message_received",
            chat_id: groupId,
            message: { id: rumor.id, sender: rumor.pubkey, kind: rumor.kind, text: rumor.content, created_at: rumor.created_at, mine },
          });
        }
        if (inserted && rumor.kind === CHAT_MESSAGE_KIND) {
          this.ctx.store.touchGroup(groupId, rumor.created_at);
          if (this.openWindow?.chatId === groupId) this.ctx.store.markRead(groupId);
        }
      });
      return;
    }
    if (result.kind === "commit") {
      const key = await group.keys.remember(result.state);
      group.row = { ...group.row, members: groupMembers(result.state), admins: result.groupData.adminPubkeys, name: result.groupData.name };
      const row = group.row;
      writes.push(() => {
        advance();
        this.ctx.store.putEpochKey(groupId, Number(key.epoch), encodeEpochKey(key));
        this.ctx.store.pruneEpochKeys(groupId, RETAINED_EPOCHS);
        this.ctx.store.upsertGroup({ ...row, state: stateBytes, epoch });
      });
      await this.retryHeld(groupId, writes);
      return;
    }
    writes.push(advance);
  }

  private hold(groupId: string, event: Event): void {
    const held = this.held.get(groupId) ?? [];
    if (held.length < MAX_HELD_EVENTS) held.push(event);
    this.held.set(groupId, held);
  }

  private async retryHeld(groupId: string, writes: Array<() => void>): Promise<void> {
    const held = this.held.get(groupId);
    if (!held || held.length === 0) return;
    this.held.delete(groupId);
    for (const event of held) {
      try {
        await this.applyGroupEvent(event, writes, true);
      } catch (error) {
        this.ctx.log({ event: "event_rejected", kind: event.kind, id: event.id.slice(0, 12), error: describeError(error) });
      }
    }
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
      this.ctx.store.upsertProfile({ pubkey: event.pubkey, name, picture, created_at: event.created_at });
      this.ctx.store.markProcessed(event.id, event.kind, now());
      const cursor = this.ctx.store.getMeta<number>(PROFILE_CURSOR) ?? 0;
      if (event.created_at > cursor) this.ctx.store.setMeta(PROFILE_CURSOR, event.created_at);
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
    for (const m of page?.messages ?? []) people.add(m.sender);
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
    }));
    const toView = (m: MessageRow): MessageView => ({
      id: m.id,
      sender: profile(m.sender),
      mine: m.sender === this.ctx.keys.pubkey,
      text: m.content,
      created_at: m.created_at,
      status: m.status,
      error: m.error,
    });
    this.ctx.update((s) => {
      s.chats = chats;
      s.invites = invites.map((i) => ({ id: i.id, from: profile(i.from_pubkey), group_name: i.group_name, received_at: i.received_at }));
      s.open_chat =
        window && group && page
          ? {
              chat_id: window.chatId,
              kind: group.row.kind,
              title: title(group.row.kind, group.row.name, group.row.peer),
              members: group.row.members.map(profile),
              messages: page.messages.filter((m) => m.kind === CHAT_MESSAGE_KIND).map(toView),
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

  private current(token: EffectToken<EffectKind>): boolean {
    return !this.closed && this.ctx.live() && this.ctx.tokens.isCurrent(token);
  }

  private refuse(message: string): DispatchReply {
    this.ctx.toast("error", message);
    return { ok: false, error: message };
  }
}

