// The one path every change of a group we make takes: find the members' KeyPackages, make the commit,
// publish it (wrapped with the epoch it was made in), adopt it once a relay took it, then send the
// new members their Welcomes. A new group, direct or not, takes the same path.
import type { Event } from "nostr-tools/core";
import type { CoreErrorCode } from "../../shared/errors.js";
import { npubFromHex, shortNpub } from "../../shared/pubkeys.js";
import { CoreError, userText } from "../base/errors.js";
import {
  ADDRESSABLE_KEY_PACKAGE_KIND,
  EpochKeyCache,
  GROUP_EVENT_KIND,
  KEY_PACKAGE_KIND,
  KEY_PACKAGE_RELAY_LIST_KIND,
  copyEvent,
  createGroup,
  giftWrap,
  keyPackageRelayListRelays,
  selectKeyPackage,
  welcomeRumor,
  wrapCommit,
  type CommitOutcome,
} from "../marmot/index.js";
import type { AccountContext } from "../state/context.js";
import { RETAINED_EPOCHS, type ChatRegistry } from "./registry.js";
import { insertSystemLine, type SystemLineData } from "./systemLines.js";

export type ChosenKeyPackage = Awaited<ReturnType<typeof selectKeyPackage>>;

/** What a commit of ours adds: the commit, the state before and after it, and the Welcome for new members. */
type OwnCommit = Pick<CommitOutcome, "state" | "previousState" | "welcome"> & { commit: CommitOutcome["commit"] };

export interface NewGroup {
  members: ChosenKeyPackage[];
  kind: "direct" | "group";
  name: string;
  description?: string;
  admins: string[];
  /** The other member of a direct chat. */
  peer: string | null;
  /** The system line stored with it ("A created the group with B"); none for a direct chat. */
  line?: SystemLineData;
  /** What to say when no relay takes the creation. */
  notAccepted: CoreErrorCode;
}

export interface Undelivered {
  pubkey: string;
  reason: string;
}

export class Commits {
  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
  ) {}

  /**
   * Finds the peer's newest verifying KeyPackage: on our relays, then on the relays of their kind 10051
   * list. When there is none it says why: no relay answered, the peer is our own agent, or they have none.
   */
  async fetchKeyPackage(peer: string): Promise<ChosenKeyPackage> {
    const { pool, timings } = this.ctx;
    const answers = await pool.queryEach([{ kinds: [KEY_PACKAGE_KIND, ADDRESSABLE_KEY_PACKAGE_KIND, KEY_PACKAGE_RELAY_LIST_KIND], authors: [peer] }], timings.keyPackageFetchMs);
    const found = answers.events;
    let answered = answers.answered.length;
    let packages = found.filter((e) => e.kind !== KEY_PACKAGE_RELAY_LIST_KIND);
    const ours = new Set(pool.urls);
    const elsewhere = keyPackageRelayListRelays(found).filter((url) => !ours.has(url));
    if (packages.length === 0 && elsewhere.length > 0) {
      const more = await pool.queryEach([{ kinds: [KEY_PACKAGE_KIND, ADDRESSABLE_KEY_PACKAGE_KIND], authors: [peer] }], timings.keyPackageFetchMs, elsewhere);
      packages = more.events;
      answered += more.answered.length;
    }
    const who = shortNpub(npubFromHex(peer));
    if (packages.length === 0) {
      if (answered === 0) {
        this.ctx.log({ event: "key_package_query_unanswered", relays: pool.urls.length + elsewhere.length });
        throw new CoreError("no_relay_answered", who);
      }
      const agents = this.registry.agents();
      if (agents.current === peer || agents.past.includes(peer)) throw new CoreError("own_agent_no_key_package", who);
      throw new CoreError("key_package_not_found", who);
    }
    try {
      return await selectKeyPackage(packages.map(copyEvent));
    } catch (error) {
      throw new CoreError("key_package_unusable", `${who} (${userText(error)})`);
    }
  }

  /** A new group with its first members: published, stored, then their Welcomes sent. Runs inside the MLS queue. */
  async createGroup(input: NewGroup): Promise<{ groupId: string; undelivered: Undelivered[] }> {
    const relays = this.ctx.pool.urls;
    const created = await createGroup({
      creatorPubkey: this.ctx.keys.pubkey,
      members: input.members.map((m) => m.keyPackage),
      name: input.name,
      ...(input.description !== undefined ? { description: input.description } : {}),
      relays,
      adminPubkeys: input.admins,
    });
    if (!created.commit || !created.welcome) throw new Error("the group was created without its members");
    const keys = new EpochKeyCache(RETAINED_EPOCHS);
    const commit = { ...created, commit: created.commit };
    const event = await this.publishCommit(commit, keys, relays, input.notAccepted);
    const line = input.line;
    const groupId = await this.registry.add({
      state: created.state,
      kind: input.kind,
      peer: input.peer,
      relays,
      createdAt: this.ctx.now(),
      keys,
      ...(line ? { alsoStore: (id: string) => insertSystemLine(this.ctx, id, event, { ...line, actor: this.ctx.keys.pubkey }) } : {}),
    });
    const undelivered = await this.sendWelcomes(created.welcome, input.members, relays);
    return { groupId, undelivered };
  }

  /** Our commit to the group: published, then adopted and stored with its system line. Runs inside the MLS queue. */
  async commit(groupId: string, outcome: OwnCommit, line: SystemLineData): Promise<void> {
    const group = this.registry.require(groupId);
    const event = await this.publishCommit(outcome, group.keys, this.registry.publishRelays(group.row), "change_not_accepted");
    group.branch = { epoch: outcome.previousState.groupContext.epoch, before: outcome.previousState, commit: event, ours: true };
    const store = await this.registry.adopt(groupId, outcome.state);
    this.ctx.store.transaction(() => {
      store();
      insertSystemLine(this.ctx, groupId, event, { ...line, actor: this.ctx.keys.pubkey });
    });
  }

  /** Gift-wraps the Welcome to each new member; returns those no relay took it for. */
  async sendWelcomes(welcome: NonNullable<CommitOutcome["welcome"]>, members: ChosenKeyPackage[], relays: string[]): Promise<Undelivered[]> {
    const undelivered: Undelivered[] = [];
    await Promise.all(
      members.map(async (member) => {
        const rumor = welcomeRumor(welcome, { senderPubkey: this.ctx.keys.pubkey, keyPackageEventId: member.event.id, relays, createdAt: this.ctx.now() });
        const outcome = await this.ctx.pool.publish(giftWrap(rumor, this.ctx.keys.secret, member.pubkey, this.ctx.now()), [...relays, ...member.relays]);
        if (outcome.accepted.length === 0) undelivered.push({ pubkey: member.pubkey, reason: outcome.failed[0]?.reason ?? "no relay" });
      }),
    );
    return undelivered;
  }

  /** Publishes our commit, wrapped with the key of the epoch it was made in; throws when no relay took it. */
  private async publishCommit(outcome: OwnCommit, keys: EpochKeyCache, relays: string[], notAccepted: CoreErrorCode): Promise<Event> {
    const event = await wrapCommit(outcome, keys, this.ctx.now());
    this.ctx.store.markProcessed(event.id, GROUP_EVENT_KIND, this.ctx.now());
    const published = await this.ctx.pool.publish(event, relays);
    if (published.accepted.length === 0) throw new CoreError(notAccepted, published.failed[0]?.reason ?? "no relays");
    return event;
  }
}

