// The account's chats in memory: each group's MLS state, epoch keys and row, its flags (muted, left),
// the account's agents, and the one queue every MLS operation of the account runs in.
import type { Event } from "nostr-tools/core";
import { toUserMessage } from "../../shared/errors.js";
import { CoreError, userText } from "../base/errors.js";
import { SerialQueue } from "../base/serialQueue.js";
import {
  EpochKeyCache,
  deserializeGroupState,
  epochKeyFor,
  groupMembers,
  nostrGroupIdHex,
  readGroupData,
  serializeGroupState,
  type GroupEventKey,
} from "../marmot/index.js";
import { describeError } from "../marmot/errors.js";
import type { GroupInput, GroupRow } from "../storage/accountStore.js";
import type { AccountContext } from "../state/context.js";

export type ClientState = Awaited<ReturnType<typeof deserializeGroupState>>;

export interface LoadedGroup {
  row: GroupRow;
  state: ClientState;
  keys: EpochKeyCache;
  /** The last commit applied and the state before it: a rival commit of that epoch may still win (MIP-03). */
  branch?: { epoch: bigint; before: ClientState; commit: Pick<Event, "id" | "created_at">; ours: boolean };
}

export interface ChatFlags {
  muted?: boolean;
  left?: boolean;
  /** Who removed us (hex), when we did not leave ourselves. */
  removed_by?: string | undefined;
}

/** The account's agent and the ones it replaced (kept as history: "past agent"). */
export interface KnownAgents {
  current: string | null;
  past: string[];
}

/** Epoch keys kept per group: events of the last few epochs still open after a commit. */
export const RETAINED_EPOCHS = 5;
const FLAGS_KEY = "chat_flags";
const AGENTS_KEY = "agents";

export const groupCursorKey = (groupId: string): string => `cursor:445:${groupId}`;

/** One epoch's key as stored: a one-entry EpochKeyCache, so the format has one owner. */
function encodeEpochKey(key: GroupEventKey): Uint8Array {
  const cache = new EpochKeyCache(1);
  cache.put(key);
  return cache.serialize();
}

export class ChatRegistry {
  /** Every MLS operation of the account, one at a time (a group's state changes with each). */
  readonly mls = new SerialQueue();
  private readonly groups = new Map<string, LoadedGroup>();
  private chatFlags: Record<string, ChatFlags> | null = null;

  constructor(
    private readonly ctx: AccountContext,
    /** What is shown changed (flags, agents, a new chat): the projection refreshes. */
    private readonly changed: () => void,
  ) {}

  /** Loads every stored chat; one that cannot be read is reported and left out. */
  loadAll(): void {
    for (const row of this.ctx.store.listGroups()) {
      try {
        const keys = new EpochKeyCache(RETAINED_EPOCHS);
        for (const stored of this.ctx.store.listEpochKeys(row.id, RETAINED_EPOCHS).reverse()) {
          for (const key of EpochKeyCache.deserialize(stored.key, 1).list()) keys.put(key);
        }
        this.groups.set(row.id, { row, state: deserializeGroupState(row.state), keys });
      } catch (error) {
        this.ctx.log({ event: "group_unreadable", chat: row.id.slice(0, 8), error: describeError(error) });
        this.ctx.toast("error", toUserMessage("chat_unreadable", userText(error)));
      }
    }
  }

  has(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  get(groupId: string): LoadedGroup | undefined {
    return this.groups.get(groupId);
  }

  /** The chat, or a user-facing "That chat does not exist." */
  require(groupId: string): LoadedGroup {
    const group = this.groups.get(groupId);
    if (!group) throw new CoreError("chat_not_found");
    return group;
  }

  ids(): string[] {
    return [...this.groups.keys()];
  }

  all(): LoadedGroup[] {
    return [...this.groups.values()];
  }

  flags(): Readonly<Record<string, ChatFlags>> {
    this.chatFlags ??= this.ctx.store.getMeta<Record<string, ChatFlags>>(FLAGS_KEY) ?? {};
    return this.chatFlags;
  }

  setFlags(chatId: string, change: ChatFlags): void {
    const all = { ...this.flags(), [chatId]: { ...this.flags()[chatId], ...change } };
    this.ctx.store.setMeta(FLAGS_KEY, all);
    this.chatFlags = all;
    this.changed();
  }

  agents(): KnownAgents {
    return this.ctx.store.getMeta<KnownAgents>(AGENTS_KEY) ?? { current: null, past: [] };
  }

  setCurrentAgent(agentPubkey: string): void {
    const known = this.agents();
    if (known.current === agentPubkey) return;
    const past = known.current ? [...known.past.filter((p) => p !== agentPubkey), known.current] : known.past;
    this.ctx.store.setMeta(AGENTS_KEY, { current: agentPubkey, past });
    this.changed();
  }

  /** Our relays, plus the group's own ones that are in our pool. */
  publishRelays(row: GroupRow | undefined): string[] {
    const ours = this.ctx.pool.urls;
    return [...new Set([...ours, ...(row?.relays ?? []).filter((url) => ours.includes(url))])];
  }

  /**
   * Stores a group we just made or joined (row, epoch key, cursor, and whatever `alsoStore` writes in
   * the same transaction) and starts following it. `keys` may already hold the epoch's key.
   */
  async add(input: {
    state: ClientState;
    kind: GroupRow["kind"];
    peer: string | null;
    relays: string[];
    createdAt: number;
    keys?: EpochKeyCache;
    alsoStore?: (groupId: string) => void;
  }): Promise<string> {
    const data = readGroupData(input.state);
    const groupId = nostrGroupIdHex(data);
    const keys = input.keys ?? new EpochKeyCache(RETAINED_EPOCHS);
    const key = await epochKeyFor(input.state, keys);
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
      updated_at: this.ctx.now(),
    };
    this.ctx.store.transaction(() => {
      this.ctx.store.upsertGroup(row);
      this.ctx.store.putEpochKey(groupId, Number(key.epoch), encodeEpochKey(key));
      this.ctx.store.setMeta(groupCursorKey(groupId), input.createdAt);
      input.alsoStore?.(groupId);
    });
    this.groups.set(groupId, { row: { ...row, last_read_at: 0 }, state: input.state, keys });
    this.following();
    this.changed();
    return groupId;
  }

  /**
   * A new epoch of the group, in memory now: its state, members and data, and its epoch key. Returns
   * the write that stores it (row, key, older keys pruned), for the caller's transaction or batch.
   * `membership`: a new membership (re-added after leaving), whose keys replace the old ones.
   */
  async adopt(groupId: string, state: ClientState, options: { membership?: { relays: string[] } } = {}): Promise<() => void> {
    const group = this.require(groupId);
    if (options.membership) {
      group.keys = new EpochKeyCache(RETAINED_EPOCHS);
      delete group.branch;
    }
    const key = await epochKeyFor(state, group.keys);
    const data = readGroupData(state);
    group.state = state;
    group.row = {
      ...group.row,
      members: groupMembers(state),
      admins: data.adminPubkeys,
      name: data.name,
      description: data.description,
      ...(options.membership ? { relays: options.membership.relays } : {}),
    };
    const row = group.row;
    const bytes = serializeGroupState(state);
    const epoch = Number(state.groupContext.epoch);
    const keep = options.membership ? 1 : RETAINED_EPOCHS;
    this.ctx.pool.refresh("profiles");
    return () => {
      this.ctx.store.upsertGroup({ ...row, state: bytes, epoch });
      this.ctx.store.putEpochKey(groupId, Number(key.epoch), encodeEpochKey(key));
      this.ctx.store.pruneEpochKeys(groupId, keep);
    };
  }

  /** Members and profiles to follow changed: resubscribe both. */
  following(): void {
    this.ctx.pool.refresh("groups");
    this.ctx.pool.refresh("profiles");
  }
}
