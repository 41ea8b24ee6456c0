// One logged-in account, composed: its context, chats, receive batch and features, wired to each
// other here and nowhere else. Created at login, closed at logout.
import type { DispatchReply } from "../../shared/actions.js";
import type { AgentResponse } from "../agentApi/client.js";
import { Commits } from "../chats/commits.js";
import { Receiver } from "../chats/receiveBatch.js";
import { ChatRegistry } from "../chats/registry.js";
import { Agent } from "../features/agent/agentFlow.js";
import { DirectChats } from "../features/directChats/directChats.js";
import { GroupInbox } from "../features/groupInbox/groupInbox.js";
import { Groups } from "../features/groups/groups.js";
import { Inbox } from "../features/inbox/inbox.js";
import { Invites } from "../features/invites/invites.js";
import { KeyPackages } from "../features/keyPackages/keyPackages.js";
import { Messages } from "../features/messages/messages.js";
import { Network } from "../features/network/network.js";
import { PROFILE_KIND, Profiles } from "../features/profiles/profiles.js";
import { Projection } from "../features/projection/projection.js";
import { Search } from "../features/search/search.js";
import { GIFT_WRAP_KIND, GROUP_EVENT_KIND } from "../marmot/index.js";
import { AccountContext, type AccountBase } from "../state/context.js";

/** Kept per account: "pending" once the account was created here, "dismissed" once the prompt was answered. */
const KEY_BACKUP_KEY = "key_backup";
/** Kept per account: the key-storage notice was closed on the main screen. */
const STORAGE_NOTICE_KEY = "storage_notice_dismissed";

export class Account {
  readonly ctx: AccountContext;
  readonly registry: ChatRegistry;
  readonly projection: Projection;
  readonly messages: Messages;
  readonly directChats: DirectChats;
  readonly groups: Groups;
  readonly invites: Invites;
  readonly network: Network;
  readonly agent: Agent;
  readonly search: Search;
  private readonly keyPackages: KeyPackages;
  private readonly receiver: Receiver;
  private readonly groupInbox: GroupInbox;
  private readonly inbox: Inbox;
  readonly profiles: Profiles;

  constructor(base: AccountBase) {
    const ctx = (this.ctx = new AccountContext(base));
    const changed = (): void => {
      this.projection.refresh();
      this.search.refresh();
    };
    const openChat = (chatId: string): DispatchReply => this.projection.open(chatId);
    const registry = (this.registry = new ChatRegistry(ctx, changed));
    const commits = new Commits(ctx, registry);
    const receiver = (this.receiver = new Receiver(ctx, registry));
    this.projection = new Projection(ctx, registry);
    this.search = new Search(ctx, registry);
    this.keyPackages = new KeyPackages(ctx, () => this.network.relayConnected());
    const keyPackageReady = (): Promise<void> => this.keyPackages.ready();
    this.messages = new Messages(ctx, registry, changed);
    this.directChats = new DirectChats(ctx, registry, commits, { keyPackageReady, openChat, changed });
    this.groups = new Groups(ctx, registry, commits, { keyPackageReady, openChat, changed });
    this.groupInbox = new GroupInbox(ctx, registry, { proposalReceived: (id) => this.groups.proposalReceived(id), openChatId: () => this.projection.openChatId() }, (id) => receiver.forget(id));
    this.invites = new Invites(ctx, registry, receiver, {
      openChat,
      changed,
      rotateKeyPackage: (ref) => this.keyPackages.rotate(ref),
      checkKeyPackage: () => this.keyPackages.check(),
      membershipReplaced: (id) => this.groupInbox.held.clear(id),
    });
    this.inbox = new Inbox(ctx, registry);
    this.profiles = new Profiles(ctx, registry, changed);
    this.agent = new Agent(ctx, {
      openOrCreateDirectChat: (peer, step) => this.directChats.openOrCreate(peer, step),
      openChat,
      setCurrentAgent: (pubkey) => registry.setCurrentAgent(pubkey),
    });
    this.network = new Network(ctx, {
      checkKeyPackage: () => this.keyPackages.check(),
      relaysChanged: () => this.keyPackages.relaysChanged(),
      retryFailed: () => this.messages.retryFailed(),
      probeAgent: (onlyIfUnknown) => this.agent.probeAgain(onlyIfUnknown),
    });
    receiver.connect({
      handlers: {
        [GIFT_WRAP_KIND]: (event, batch) => this.inbox.apply(event, batch),
        [GROUP_EVENT_KIND]: (event, batch) => this.groupInbox.apply(event, batch),
        [PROFILE_KIND]: (event, batch) => this.profiles.apply(event, batch),
      },
      cursorFloors: () => this.groupInbox.cursorFloors(),
      stored: (announced) => {
        // Refused input of groups that got a commit is fetched again: one resubscription, from the oldest refused.
        if (this.groupInbox.held.fetchDue()) ctx.pool.refresh("groups");
        for (const event of announced) ctx.emit(event);
        this.projection.notify(announced);
        changed();
      },
      drained: () => {
        if (receiver.idle()) this.groupInbox.held.fetchesApplied();
        this.groups.commitPendingProposals();
      },
      rejected: () => this.groupInbox.held.count("rejected"),
    });
  }

  /** `defaultRelays` / `defaultAgentApiUrl`: those of an account that has not chosen its own (the host's, e.g. the local stack's). */
  start(defaultRelays: string[], defaultAgentApiUrl: string): void {
    const { ctx } = this;
    const relays = this.network.relaysAtStart(defaultRelays);
    this.registry.loadAll();
    ctx.update((s) => {
      s.settings.relays = relays;
      s.key_backup_prompt = ctx.store.getMeta<string>(KEY_BACKUP_KEY) === "pending";
      s.secret_storage.notice_dismissed = ctx.store.getMeta<boolean>(STORAGE_NOTICE_KEY) === true;
    });
    this.agent.start(defaultAgentApiUrl);
    this.profiles.start();
    ctx.pool.setRelays(relays);
    // The gift-wrap subscription is issued once per connection, so its EOSE means a relay (re)connected:
    // one that came back empty, or was down at the last check, gets our KeyPackage again.
    this.receiver.follow("gift_wraps", () => this.inbox.filters(), () => this.keyPackages.check());
    this.receiver.follow("groups", () => this.groupInbox.filters());
    this.receiver.follow("profiles", () => this.profiles.filters());
    this.projection.refresh();
    this.keyPackages.check();
    this.agent.probe();
  }

  /** A new account: its key exists only here, so it is offered for backup once (until dismissed). */
  offerKeyBackup(): void {
    if (this.ctx.store.getMeta<string>(KEY_BACKUP_KEY) === null) this.ctx.store.setMeta(KEY_BACKUP_KEY, "pending");
  }

  dismissKeyBackup(): DispatchReply {
    this.ctx.store.setMeta(KEY_BACKUP_KEY, "dismissed");
    this.ctx.update((s) => {
      s.key_backup_prompt = false;
    });
    return { ok: true };
  }

  dismissStorageNotice(): DispatchReply {
    this.ctx.store.setMeta(STORAGE_NOTICE_KEY, true);
    this.ctx.update((s) => {
      s.secret_storage.notice_dismissed = true;
    });
    return { ok: true };
  }

  agentRequest(request: "me" | "ensure" | "recover"): Promise<AgentResponse> {
    return this.agent.call(request);
  }

  /** Totals since login of held, refused, dropped and rejected group input (also in the log). */
  inputStats(): ReturnType<GroupInbox["held"]["stats"]> {
    return this.groupInbox.held.stats();
  }

  close(): void {
    this.ctx.close();
    this.keyPackages.close();
    this.ctx.pool.close();
    this.ctx.store.close();
  }
}
