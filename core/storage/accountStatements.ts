// The per-account store's SQL: the rows as SQLite returns them, and every prepared statement.
import type Database from "better-sqlite3";
import type {
  ChatSummaryRow,
  EpochKeyRow,
  GroupRow,
  InviteRow,
  InviteStatus,
  KeyPackageRow,
  MessageRow,
  MessageStatus,
  NewKeyPackage,
  ProfileRow,
} from "./accountRows.js";

// Rows as SQLite returns them: JSON as text, BLOBs as Buffers.
export type RawKeyPackage = Omit<KeyPackageRow, "private" | "public"> & { private: Buffer; public: Buffer };
export type RawGroup = Omit<GroupRow, "admins" | "relays" | "members" | "state"> & {
  admins: string;
  relays: string;
  members: string;
  state: Buffer;
};
export type RawEpochKey = Omit<EpochKeyRow, "key"> & { key: Buffer };
export type RawMessage = Omit<MessageRow, "tags"> & { tags: string };
export type RawChatSummary = Omit<ChatSummaryRow, "members"> & { members: string };
export type RawInvite = Omit<InviteRow, "welcome" | "relays"> & { welcome: Buffer; relays: string };

/** One row per group: its last chat message and unread count (the `?` is our pubkey). */
const CHAT_SUMMARY_SELECT = `SELECT g.id, g.kind, g.name, g.peer, g.members, g.updated_at, g.last_read_at,
         last.content AS last_message, last.created_at AS last_message_at, last.sender AS last_message_sender, last.id AS last_message_id,
         (SELECT count(*) FROM messages AS u
           WHERE u.group_id = g.id AND u.kind = 9 AND u.seq > g.last_read_seq AND u.sender <> ?) AS unread
       FROM groups AS g
       LEFT JOIN messages AS last ON last.seq =
         (SELECT m.seq FROM messages AS m WHERE m.group_id = g.id AND m.kind = 9 ORDER BY m.created_at DESC, m.seq DESC LIMIT 1)`;

const KEY_PACKAGE_COLUMNS = "ref, private, public, event_443_id, event_30443_id, d_tag, created_at, published_at, used_at, deleted_at";
const GROUP_COLUMNS =
  "id, mls_group_id, kind, name, description, admins, relays, members, peer, state, epoch, created_at, updated_at, last_read_at";
const MESSAGE_COLUMNS = "seq, id, group_id, sender, kind, content, tags, created_at, status, error, event_json";
// Reactions, edits and deletions change other messages: they are no rows of a chat's window.
const CHANGE_KINDS = "5, 7, 1009";
const INVITE_COLUMNS = "id, from_pubkey, group_name, welcome, key_package_event_id, relays, received_at, status";

// The few rows of one kind in a chat (reactions, edits, deletions) are found through messages_by_kind,
// named: once ANALYZE has seen a chat of one sender and one kind, the planner would rather scan every
// message of the table, once per received message (a 10,000-message catch-up took seconds in it).
export function prepareStatements(db: Database.Database) {
  return {
    getMeta: db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
    setMeta: db.prepare<[string, string]>("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    deleteMeta: db.prepare<[string]>("DELETE FROM meta WHERE key = ?"),

    saveKeyPackage: db.prepare<[NewKeyPackage]>(
      `INSERT INTO key_packages (ref, private, public, d_tag, created_at) VALUES (@ref, @private, @public, @d_tag, @created_at)
       ON CONFLICT (ref) DO NOTHING`,
    ),
    getKeyPackage: db.prepare<[string], RawKeyPackage>(`SELECT ${KEY_PACKAGE_COLUMNS} FROM key_packages WHERE ref = ?`),
    findKeyPackageByEvent: db.prepare<[string, string], RawKeyPackage>(
      `SELECT ${KEY_PACKAGE_COLUMNS} FROM key_packages WHERE event_443_id = ? OR event_30443_id = ?`,
    ),
    listActiveKeyPackages: db.prepare<[], RawKeyPackage>(
      `SELECT ${KEY_PACKAGE_COLUMNS} FROM key_packages WHERE deleted_at IS NULL ORDER BY created_at, ref`,
    ),
    markKeyPackagePublished: db.prepare<[{ ref: string; event_443_id: string | null; event_30443_id: string | null; at: number }]>(
      `UPDATE key_packages SET event_443_id = coalesce(@event_443_id, event_443_id),
         event_30443_id = coalesce(@event_30443_id, event_30443_id), published_at = @at WHERE ref = @ref`,
    ),
    markKeyPackageUsed: db.prepare<[number, string]>("UPDATE key_packages SET used_at = coalesce(used_at, ?) WHERE ref = ?"),
    markKeyPackageDeleted: db.prepare<[number, string]>("UPDATE key_packages SET deleted_at = coalesce(deleted_at, ?) WHERE ref = ?"),

    upsertGroup: db.prepare<[Omit<RawGroup, "last_read_at" | "state"> & { state: Uint8Array }]>(
      `INSERT INTO groups (id, mls_group_id, kind, name, description, admins, relays, members, peer, state, epoch, created_at, updated_at)
       VALUES (@id, @mls_group_id, @kind, @name, @description, @admins, @relays, @members, @peer, @state, @epoch, @created_at, @updated_at)
       ON CONFLICT (id) DO UPDATE SET mls_group_id = excluded.mls_group_id, kind = excluded.kind, name = excluded.name,
         description = excluded.description, admins = excluded.admins, relays = excluded.relays, members = excluded.members,
         peer = excluded.peer, state = excluded.state, epoch = excluded.epoch, updated_at = max(updated_at, excluded.updated_at)`,
    ),
    getGroup: db.prepare<[string], RawGroup>(`SELECT ${GROUP_COLUMNS} FROM groups WHERE id = ?`),
    listGroups: db.prepare<[], RawGroup>(`SELECT ${GROUP_COLUMNS} FROM groups ORDER BY updated_at DESC, id`),
    updateGroupState: db.prepare<[Uint8Array, number, string]>("UPDATE groups SET state = ?, epoch = ? WHERE id = ?"),
    touchGroup: db.prepare<[number, string]>("UPDATE groups SET updated_at = max(updated_at, ?) WHERE id = ?"),
    setLastReadAt: db.prepare<[number, string]>("UPDATE groups SET last_read_at = max(last_read_at, ?) WHERE id = ?"),
    markRead: db.prepare<[string, string]>(
      "UPDATE groups SET last_read_seq = max(last_read_seq, coalesce((SELECT max(seq) FROM messages WHERE group_id = ?), 0)) WHERE id = ?",
    ),
    findDirectGroup: db.prepare<[string], RawGroup>(
      `SELECT ${GROUP_COLUMNS} FROM groups WHERE kind = 'direct' AND peer = ? ORDER BY updated_at DESC LIMIT 1`,
    ),
    deleteGroup: db.prepare<[string]>("DELETE FROM groups WHERE id = ?"),

    putEpochKey: db.prepare<[string, number, Uint8Array]>(
      "INSERT INTO epoch_keys (group_id, epoch, key) VALUES (?, ?, ?) ON CONFLICT (group_id, epoch) DO UPDATE SET key = excluded.key",
    ),
    listEpochKeys: db.prepare<[string, number], RawEpochKey>(
      "SELECT group_id, epoch, key FROM epoch_keys WHERE group_id = ? ORDER BY epoch DESC LIMIT ?",
    ),
    pruneEpochKeys: db.prepare<[string, string, number]>(
      `DELETE FROM epoch_keys WHERE group_id = ? AND epoch NOT IN
         (SELECT epoch FROM epoch_keys WHERE group_id = ? ORDER BY epoch DESC LIMIT ?)`,
    ),

    insertMessage: db.prepare<[Omit<RawMessage, "seq">]>(
      `INSERT INTO messages (id, group_id, sender, kind, content, tags, created_at, status, error, event_json)
       VALUES (@id, @group_id, @sender, @kind, @content, @tags, @created_at, @status, @error, @event_json)
       ON CONFLICT (id) DO NOTHING`,
    ),
    updateMessageStatus: db.prepare<[MessageStatus, string | null, string]>("UPDATE messages SET status = ?, error = ? WHERE id = ?"),
    setMessageEventJson: db.prepare<[string, string]>("UPDATE messages SET event_json = ? WHERE id = ?"),
    getMessage: db.prepare<[string], RawMessage>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`),
    newestMessages: db.prepare<[string, number], RawMessage>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE group_id = ? AND kind NOT IN (${CHANGE_KINDS}) ORDER BY created_at DESC, seq DESC LIMIT ?`,
    ),
    messagesBefore: db.prepare<[string, number, number, number], RawMessage>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE group_id = ? AND kind NOT IN (${CHANGE_KINDS}) AND (created_at, seq) < (?, ?)
       ORDER BY created_at DESC, seq DESC LIMIT ?`,
    ),
    firstUnread: db.prepare<[string, string, string], { id: string; created_at: number; seq: number }>(
      `SELECT id, created_at, seq FROM messages
       WHERE group_id = ? AND kind = 9 AND sender <> ? AND seq > (SELECT last_read_seq FROM groups WHERE id = ?)
       ORDER BY created_at, seq LIMIT 1`,
    ),
    unreadCount: db.prepare<[string, string, string], { count: number }>(
      `SELECT count(*) AS count FROM messages
       WHERE group_id = ? AND kind = 9 AND sender <> ? AND seq > (SELECT last_read_seq FROM groups WHERE id = ?)`,
    ),
    countFrom: db.prepare<[string, number, number], { count: number }>(
      "SELECT count(*) AS count FROM messages WHERE group_id = ? AND kind <> 7 AND (created_at, seq) >= (?, ?)",
    ),
    reactions: db.prepare<[string], RawMessage>(`SELECT ${MESSAGE_COLUMNS} FROM messages INDEXED BY messages_by_kind WHERE group_id = ? AND kind = 7 ORDER BY seq`),
    messageChanges: db.prepare<[string], RawMessage>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages INDEXED BY messages_by_kind WHERE group_id = ? AND kind IN (5, 1009) ORDER BY created_at, seq`,
    ),
    messagesSince: db.prepare<[string, number, number], { count: number }>(
      `SELECT count(*) AS count FROM messages WHERE group_id = ? AND kind NOT IN (${CHANGE_KINDS}) AND (created_at, seq) >= (?, ?)`,
    ),
    isDeleted: db.prepare<[string, string, string], { found: 1 }>(
      `SELECT 1 AS found FROM messages INDEXED BY messages_by_kind WHERE group_id = ? AND kind = 5 AND sender = ?
         AND EXISTS (SELECT 1 FROM json_each(messages.tags) AS t WHERE t.value ->> 0 = 'e' AND t.value ->> 1 = ?) LIMIT 1`,
    ),
    latestEdit: db.prepare<[string, string, string], { content: string }>(
      `SELECT content FROM messages INDEXED BY messages_by_kind WHERE group_id = ? AND kind = 1009 AND sender = ?
         AND EXISTS (SELECT 1 FROM json_each(messages.tags) AS t WHERE t.value ->> 0 = 'e' AND t.value ->> 1 = ?)
       ORDER BY created_at DESC, seq DESC LIMIT 1`,
    ),
    eraseMessage: db.prepare<{ group_id: string; sender: string; id: string }>(
      `UPDATE messages SET content = '', event_json = NULL WHERE group_id = @group_id AND sender = @sender AND (id = @id
         OR (kind = 1009 AND EXISTS (SELECT 1 FROM json_each(messages.tags) AS t WHERE t.value ->> 0 = 'e' AND t.value ->> 1 = @id)))`,
    ),
    listUnsentMessages: db.prepare<[], RawMessage>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE status IN ('pending', 'failed') ORDER BY seq`,
    ),
    chatSummaries: db.prepare<[string], RawChatSummary>(`${CHAT_SUMMARY_SELECT} ORDER BY g.updated_at DESC, g.id`),
    chatSummary: db.prepare<[string, string], RawChatSummary>(`${CHAT_SUMMARY_SELECT} WHERE g.id = ?`),

    markProcessed: db.prepare<[string, number, number]>(
      "INSERT INTO processed_events (event_id, kind, seen_at) VALUES (?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
    ),
    isProcessed: db.prepare<[string], { found: 1 }>("SELECT 1 AS found FROM processed_events WHERE event_id = ?"),
    pruneProcessed: db.prepare<[number]>("DELETE FROM processed_events WHERE seen_at < ?"),
    forgetProcessed: db.prepare<[string]>("DELETE FROM processed_events WHERE event_id = ?"),

    saveInvite: db.prepare<[Omit<RawInvite, "status" | "welcome"> & { welcome: Uint8Array }]>(
      `INSERT INTO invites (id, from_pubkey, group_name, welcome, key_package_event_id, relays, received_at)
       VALUES (@id, @from_pubkey, @group_name, @welcome, @key_package_event_id, @relays, @received_at)
       ON CONFLICT (id) DO NOTHING`,
    ),
    getInvite: db.prepare<[string], RawInvite>(`SELECT ${INVITE_COLUMNS} FROM invites WHERE id = ?`),
    listPendingInvites: db.prepare<[], RawInvite>(
      `SELECT ${INVITE_COLUMNS} FROM invites WHERE status = 'pending' ORDER BY received_at DESC, id`,
    ),
    setInviteStatus: db.prepare<[InviteStatus, string]>("UPDATE invites SET status = ? WHERE id = ?"),

    upsertProfile: db.prepare<[ProfileRow]>(
      `INSERT INTO profiles (pubkey, name, picture, created_at) VALUES (@pubkey, @name, @picture, @created_at)
       ON CONFLICT (pubkey) DO UPDATE SET name = excluded.name, picture = excluded.picture, created_at = excluded.created_at
       WHERE excluded.created_at > profiles.created_at`,
    ),
    getProfiles: db.prepare<[string], ProfileRow>(
      "SELECT pubkey, name, picture, created_at FROM profiles WHERE pubkey IN (SELECT value FROM json_each(?))",
    ),
  };
}
