// The per-account SQLite store: groups and their MLS state, messages, key packages, invites,
// profiles, processed-event ids and settings. One file per account, opened by one core.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type {
  ChatSummaryRow,
  EpochKeyRow,
  GroupInput,
  GroupRow,
  InviteInput,
  InviteRow,
  InviteStatus,
  KeyPackageRow,
  MessageCursor,
  MessageInput,
  MessagePage,
  MessageRow,
  MessageStatus,
  NewKeyPackage,
  ProfileRow,
} from "./accountRows.js";
import { prepareStatements, type RawEpochKey, type RawGroup, type RawInvite, type RawKeyPackage, type RawMessage } from "./accountStatements.js";
import { MessageSearch } from "./messageSearch.js";
import { runMigrations } from "./migrations.js";

// Callers take the row types from the store that returns them.
export type {
  ChatSummaryRow,
  EpochKeyRow,
  GroupInput,
  GroupKind,
  GroupRow,
  InviteInput,
  InviteRow,
  InviteStatus,
  KeyPackageRow,
  MessageCursor,
  MessageInput,
  MessagePage,
  MessageRow,
  MessageStatus,
  NewKeyPackage,
  ProfileRow,
} from "./accountRows.js";

const HEX_PUBKEY = /^[0-9a-f]{64}$/;
const BUSY_TIMEOUT_MS = 5_000;

export function accountDatabasePath(dataDir: string, pubkey: string): string {
  if (!HEX_PUBKEY.test(pubkey)) throw new TypeError("an account's pubkey must be 64 lowercase hex characters");
  return join(dataDir, "accounts", pubkey, "burrow.sqlite");
}

/** A plain Uint8Array over the Buffer's bytes, so callers never meet Buffer's differing methods. */
const bytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

const toKeyPackage = (raw: RawKeyPackage): KeyPackageRow => ({ ...raw, private: bytes(raw.private), public: bytes(raw.public) });

const toGroup = (raw: RawGroup): GroupRow => ({
  ...raw,
  admins: JSON.parse(raw.admins) as string[],
  relays: JSON.parse(raw.relays) as string[],
  members: JSON.parse(raw.members) as string[],
  state: bytes(raw.state),
});

const toEpochKey = (raw: RawEpochKey): EpochKeyRow => ({ ...raw, key: bytes(raw.key) });

const toMessage = (raw: RawMessage): MessageRow => ({ ...raw, tags: JSON.parse(raw.tags) as string[][] });

const toInvite = (raw: RawInvite): InviteRow => ({ ...raw, welcome: bytes(raw.welcome), relays: JSON.parse(raw.relays) as string[] });

/** Written since the projection last looked (a write that rolled back is listed too: it is only read again). */
export interface StoreChanges {
  /** Groups whose row, messages or read marker were written. */
  chats: Set<string>;
  /** Pubkeys whose profile was written. */
  people: Set<string>;
  /** Picture URLs whose data was written. */
  pictures: Set<string>;
  /** A message's status changed. */
  messages: boolean;
}

const noChanges = (): StoreChanges => ({ chats: new Set(), people: new Set(), pictures: new Set(), messages: false });

export interface StoredPicture {
  /** A data: URL; null: the fetch failed at `at` (unix seconds). */
  data: string | null;
  at: number;
}

/**
 * Methods that change one row are atomic on their own; anything that must change several rows
 * together (a message and the group state that decrypted it) goes inside transaction(), so a
 * kill at any moment leaves the store as it was before or after the whole change.
 */
export class AccountStore {
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly runInTransaction: (fn: () => unknown) => unknown;
  /** Full-text search over the chat messages. */
  readonly messageSearch: MessageSearch;
  /** A message's text was erased: the WAL still holds it until the next checkpoint. */
  private erased = false;
  private changes = noChanges();

  private constructor(
    private readonly db: Database.Database,
    /** The account's own pubkey: its messages never count as unread. */
    readonly pubkey: string,
  ) {
    this.statements = prepareStatements(db);
    this.messageSearch = new MessageSearch(db);
    // IMMEDIATE takes the write lock up front, so busy_timeout applies instead of a deadlock error.
    this.runInTransaction = db.transaction((fn: () => unknown) => fn()).immediate;
  }

  /** Opens (creating if needed) `<dataDir>/accounts/<pubkey>/burrow.sqlite` and migrates it. */
  static open(dataDir: string, pubkey: string): AccountStore {
    const path = accountDatabasePath(dataDir, pubkey);
    mkdirSync(join(dataDir, "accounts", pubkey), { recursive: true, mode: 0o700 });
    const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    try {
      db.pragma("journal_mode = WAL");
      // In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits.
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      // Freed space is zeroed, so an erased message's text leaves no trace in the file.
      db.pragma("secure_delete = ON");
      runMigrations(db);
      return new AccountStore(db, pubkey);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  close(): void {
    if (!this.db.open) return;
    this.db.pragma("optimize");
    this.db.close();
  }

  /**
   * Runs fn in one transaction: all of its writes commit together or, if fn throws, none do.
   * fn must be synchronous. Nested calls become savepoints of the outer transaction.
   */
  transaction<T>(fn: () => T): T {
    const result = this.runInTransaction(fn) as T;
    this.checkpointIfErased();
    return result;
  }

  /** After an erase commits, the WAL (which holds the old pages) is written back and emptied. */
  private checkpointIfErased(): void {
    if (!this.erased || this.db.inTransaction) return;
    this.erased = false;
    this.db.pragma("wal_checkpoint(TRUNCATE)");
  }

  // ── meta: settings and subscription cursors, stored as JSON ──

  /** The caller names the type it stored under this key; nothing checks it. */
  getMeta<T>(key: string): T | null {
    const row = this.statements.getMeta.get(key);
    return row === undefined ? null : (JSON.parse(row.value) as T);
  }

  setMeta<T>(key: string, value: T): void {
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined) throw new TypeError(`meta ${key}: the value is not JSON`);
    this.statements.setMeta.run(key, json);
  }

  deleteMeta(key: string): void {
    this.statements.deleteMeta.run(key);
  }

  // ── key packages ──

  /** False when a key package with this ref is already stored (it is left unchanged). */
  saveKeyPackage(keyPackage: NewKeyPackage): boolean {
    return this.statements.saveKeyPackage.run(keyPackage).changes > 0;
  }

  getKeyPackage(ref: string): KeyPackageRow | null {
    const raw = this.statements.getKeyPackage.get(ref);
    return raw === undefined ? null : toKeyPackage(raw);
  }

  /** The key package published as this kind-443 or kind-30443 event. */
  findKeyPackageByEventId(eventId: string): KeyPackageRow | null {
    const raw = this.statements.findKeyPackageByEvent.get(eventId, eventId);
    return raw === undefined ? null : toKeyPackage(raw);
  }

  /** Not deleted, oldest first. */
  listActiveKeyPackages(): KeyPackageRow[] {
    return this.statements.listActiveKeyPackages.all().map(toKeyPackage);
  }

  /** A null event id keeps the stored one. */
  markKeyPackagePublished(
    ref: string,
    events: { event_443_id?: string | null; event_30443_id?: string | null },
    at: number,
  ): boolean {
    return (
      this.statements.markKeyPackagePublished.run({
        ref,
        event_443_id: events.event_443_id ?? null,
        event_30443_id: events.event_30443_id ?? null,
        at,
      }).changes > 0
    );
  }

  /** Keeps the first use time. False when no such key package. */
  markKeyPackageUsed(ref: string, at: number): boolean {
    return this.statements.markKeyPackageUsed.run(at, ref).changes > 0;
  }

  /** Keeps the first deletion time. False when no such key package. */
  markKeyPackageDeleted(ref: string, at: number): boolean {
    return this.statements.markKeyPackageDeleted.run(at, ref).changes > 0;
  }

  // ── groups ──

  /** Inserts or replaces the group; keeps created_at and last_read_at, and updated_at never moves back. */
  upsertGroup(group: GroupInput): void {
    this.changes.chats.add(group.id);
    this.statements.upsertGroup.run({
      ...group,
      admins: JSON.stringify(group.admins),
      relays: JSON.stringify(group.relays),
      members: JSON.stringify(group.members),
    });
  }

  getGroup(id: string): GroupRow | null {
    const raw = this.statements.getGroup.get(id);
    return raw === undefined ? null : toGroup(raw);
  }

  /** Newest activity first. */
  listGroups(): GroupRow[] {
    return this.statements.listGroups.all().map(toGroup);
  }

  updateGroupState(id: string, state: Uint8Array, epoch: number): boolean {
    return this.statements.updateGroupState.run(state, epoch, id).changes > 0;
  }

  /** Moves updated_at forward to `at` (never back). */
  touchGroup(id: string, at: number): boolean {
    this.changes.chats.add(id);
    return this.statements.touchGroup.run(at, id).changes > 0;
  }

  /** Moves last_read_at forward to `at` (never back). */
  setLastReadAt(id: string, at: number): boolean {
    this.changes.chats.add(id);
    return this.statements.setLastReadAt.run(at, id).changes > 0;
  }

  /** Marks every message stored so far in the group as read. */
  markRead(id: string): boolean {
    this.changes.chats.add(id);
    return this.statements.markRead.run(id, id).changes > 0;
  }

  /** The direct chat with `peer`; when there are several (both sides created one), the most active. */
  findDirectGroup(peer: string): GroupRow | null {
    const raw = this.statements.findDirectGroup.get(peer);
    return raw === undefined ? null : toGroup(raw);
  }

  /** Deletes the group with its epoch keys and messages. */
  deleteGroup(id: string): boolean {
    this.changes.chats.add(id);
    return this.statements.deleteGroup.run(id).changes > 0;
  }

  // ── epoch keys ──

  putEpochKey(groupId: string, epoch: number, key: Uint8Array): void {
    this.statements.putEpochKey.run(groupId, epoch, key);
  }

  /** The `limit` newest epochs' keys, newest first. */
  listEpochKeys(groupId: string, limit: number): EpochKeyRow[] {
    return this.statements.listEpochKeys.all(groupId, limit).map(toEpochKey);
  }

  /** Keeps the `keep` newest epochs' keys of the group; returns how many were deleted. */
  pruneEpochKeys(groupId: string, keep: number): number {
    return this.statements.pruneEpochKeys.run(groupId, groupId, keep).changes;
  }

  // ── messages ──

  /** False when a message with this id is already stored (it is left unchanged). */
  insertMessage(message: MessageInput): boolean {
    this.changes.chats.add(message.group_id);
    return (
      this.statements.insertMessage.run({
        id: message.id,
        group_id: message.group_id,
        sender: message.sender,
        kind: message.kind,
        content: message.content,
        tags: JSON.stringify(message.tags),
        created_at: message.created_at,
        status: message.status,
        error: message.error ?? null,
        event_json: message.event_json ?? null,
      }).changes > 0
    );
  }

  updateMessageStatus(id: string, status: MessageStatus, error: string | null = null): boolean {
    this.changes.messages = true;
    return this.statements.updateMessageStatus.run(status, error, id).changes > 0;
  }

  setMessageEventJson(id: string, eventJson: string): boolean {
    return this.statements.setMessageEventJson.run(eventJson, id).changes > 0;
  }

  getMessage(id: string): MessageRow | null {
    const raw = this.statements.getMessage.get(id);
    return raw === undefined ? null : toMessage(raw);
  }

  /**
   * The newest `limit` messages (reactions, edits and deletions aside) of the group older than `before` (all when absent), oldest first.
   * The next older page is `{ before: page.messages[0] }`.
   */
  listMessages(groupId: string, options: { before?: MessageCursor; limit: number }): MessagePage {
    const { before, limit } = options;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError("limit must be a positive integer");
    const raws =
      before === undefined
        ? this.statements.newestMessages.all(groupId, limit + 1)
        : this.statements.messagesBefore.all(groupId, before.created_at, before.seq, limit + 1);
    const has_older = raws.length > limit;
    const messages = raws.slice(0, limit).reverse().map(toMessage);
    return { messages, has_older };
  }

  /**
   * The oldest unread message and how many are unread (as the chat summaries count them), and
   * how many messages of listMessages' pages run from it to the newest: a window of that limit shows it.
   */
  firstUnread(groupId: string): { id: string; unread: number; window: number } | null {
    const first = this.statements.firstUnread.get(groupId, this.pubkey, groupId);
    if (first === undefined) return null;
    return {
      id: first.id,
      unread: this.statements.unreadCount.get(groupId, this.pubkey, groupId)?.count ?? 0,
      window: this.statements.countFrom.get(groupId, first.created_at, first.seq)?.count ?? 0,
    };
  }

  /** The group's reactions (kind 7), oldest first; pages of listMessages leave them out. */
  listReactions(groupId: string): MessageRow[] {
    return this.statements.reactions.all(groupId).map(toMessage);
  }

  /** The group's edits (kind 1009) and deletions (kind 5), oldest first; pages of listMessages leave them out. */
  listMessageChanges(groupId: string): MessageRow[] {
    return this.statements.messageChanges.all(groupId).map(toMessage);
  }

  /** How many messages of the window's kinds are at or after `from`: the window that reaches back to it. */
  countMessagesSince(groupId: string, from: MessageCursor): number {
    return this.statements.messagesSince.get(groupId, from.created_at, from.seq)?.count ?? 0;
  }

  /** Whether `sender` deleted message `id` of the group (a kind 5 naming it). */
  isDeleted(groupId: string, id: string, sender: string): boolean {
    return this.statements.isDeleted.get(groupId, sender, id) !== undefined;
  }

  /** The text of `sender`'s newest edit of message `id`, or null (the chat list shows it for the last message). */
  latestEditText(groupId: string, id: string, sender: string): string | null {
    return this.statements.latestEdit.get(groupId, sender, id)?.content ?? null;
  }

  /**
   * Blanks the text of `sender`'s message `id` and of their edits of it. With secure_delete and the
   * checkpoint after the commit, neither the database file nor its WAL keeps the old text.
   */
  eraseMessage(groupId: string, id: string, sender: string): boolean {
    this.changes.chats.add(groupId);
    const changed = this.statements.eraseMessage.run({ group_id: groupId, sender, id }).changes > 0;
    this.erased ||= changed;
    this.checkpointIfErased();
    return changed;
  }

  /** Our messages not yet accepted by a relay (pending or failed), oldest first. */
  listUnsentMessages(): MessageRow[] {
    return this.statements.listUnsentMessages.all().map(toMessage);
  }

  /** One row per group, newest activity first. */
  listChatSummaries(): ChatSummaryRow[] {
    return this.statements.chatSummaries
      .all(this.pubkey)
      .map((raw) => ({ ...raw, members: JSON.parse(raw.members) as string[] }));
  }

  /** The group's row of `listChatSummaries`; null when there is no such group. */
  chatSummary(id: string): ChatSummaryRow | null {
    const raw = this.statements.chatSummary.get(this.pubkey, id);
    return raw === undefined ? null : { ...raw, members: JSON.parse(raw.members) as string[] };
  }

  /** What may show differently since the last call: the projection reads only that again. */
  takeChanges(): StoreChanges {
    const changes = this.changes;
    this.changes = noChanges();
    return changes;
  }

  // ── processed events ──

  /** False when the event was already marked: the caller has handled it before. */
  markProcessed(eventId: string, kind: number, at: number): boolean {
    return this.statements.markProcessed.run(eventId, kind, at).changes > 0;
  }

  isProcessed(eventId: string): boolean {
    return this.statements.isProcessed.get(eventId) !== undefined;
  }

  /** Forgets events seen before `before`; returns how many. */
  pruneProcessed(before: number): number {
    return this.statements.pruneProcessed.run(before).changes;
  }

  /** Unmarks one event, so it is handled again when it next arrives. */
  forgetProcessed(eventId: string): boolean {
    return this.statements.forgetProcessed.run(eventId).changes > 0;
  }

  // ── invites ──

  /** Stored as pending. False when an invite with this id is already stored (it is left unchanged). */
  saveInvite(invite: InviteInput): boolean {
    return this.statements.saveInvite.run({ ...invite, relays: JSON.stringify(invite.relays) }).changes > 0;
  }

  getInvite(id: string): InviteRow | null {
    const raw = this.statements.getInvite.get(id);
    return raw === undefined ? null : toInvite(raw);
  }

  /** Newest first. */
  listPendingInvites(): InviteRow[] {
    return this.statements.listPendingInvites.all().map(toInvite);
  }

  setInviteStatus(id: string, status: InviteStatus): boolean {
    return this.statements.setInviteStatus.run(status, id).changes > 0;
  }

  // ── profiles ──

  /** Stores the profile unless one from a kind-0 event at least as new is stored; returns whether it was. */
  upsertProfile(profile: ProfileRow): boolean {
    this.changes.people.add(profile.pubkey);
    return this.statements.upsertProfile.run(profile).changes > 0;
  }

  /** A fetched profile picture as a data: URL, null when fetching it failed; kept under meta `picture:<url>`. */
  savePicture(url: string, data: string | null, at: number): void {
    this.changes.pictures.add(url);
    this.setMeta<StoredPicture>(`picture:${url}`, { data, at });
  }

  getPicture(url: string): StoredPicture | null {
    return this.getMeta<StoredPicture>(`picture:${url}`);
  }

  /** The stored profiles among `pubkeys`, by pubkey. */
  getProfiles(pubkeys: readonly string[]): Map<string, ProfileRow> {
    const rows = this.statements.getProfiles.all(JSON.stringify(pubkeys));
    return new Map(rows.map((row) => [row.pubkey, row]));
  }
}
