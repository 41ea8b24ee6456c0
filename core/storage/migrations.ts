// Schema versions of the per-account database, tracked in PRAGMA user_version.
import type Database from "better-sqlite3";

export interface Migration {
  /** user_version after this migration; versions start at 1 and have no gaps. */
  readonly version: number;
  readonly up: (db: Database.Database) => void;
}

export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`this database has schema version ${found}, newer than ${supported}, the newest this build of Burrow knows`);
    this.name = "SchemaTooNewError";
  }
}

// Persisted enum values (kind, status) are part of the schema: changing them needs a migration.
// Timestamps are unix seconds, like Nostr's created_at. JSON columns hold arrays as TEXT.
const V1 = `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE key_packages (
  ref TEXT PRIMARY KEY,
  private BLOB NOT NULL,
  public BLOB NOT NULL,
  event_443_id TEXT,
  event_30443_id TEXT,
  d_tag TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  published_at INTEGER,
  used_at INTEGER,
  deleted_at INTEGER
) STRICT;
CREATE UNIQUE INDEX key_packages_event_443 ON key_packages (event_443_id) WHERE event_443_id IS NOT NULL;
CREATE UNIQUE INDEX key_packages_event_30443 ON key_packages (event_30443_id) WHERE event_30443_id IS NOT NULL;

CREATE TABLE groups (
  id TEXT PRIMARY KEY,
  mls_group_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  admins TEXT NOT NULL,
  relays TEXT NOT NULL,
  members TEXT NOT NULL,
  peer TEXT,
  state BLOB NOT NULL,
  epoch INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_read_at INTEGER NOT NULL DEFAULT 0,
  -- Messages with a larger seq are unread: seq, unlike created_at (seconds), orders messages of the same second.
  last_read_seq INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX groups_by_activity ON groups (updated_at DESC);
CREATE INDEX groups_direct_by_peer ON groups (peer, updated_at DESC) WHERE kind = 'direct';

CREATE TABLE epoch_keys (
  group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  key BLOB NOT NULL,
  PRIMARY KEY (group_id, epoch)
) STRICT, WITHOUT ROWID;

CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  sender TEXT NOT NULL,
  kind INTEGER NOT NULL,
  content TEXT NOT NULL,
  tags TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'received')),
  error TEXT,
  event_json TEXT
) STRICT;
CREATE INDEX messages_by_time ON messages (group_id, created_at, seq);
-- Covers the unread count of the chat summaries without reading the rows.
CREATE INDEX messages_by_kind ON messages (group_id, kind, created_at, sender);
CREATE INDEX messages_unsent ON messages (seq) WHERE status IN ('pending', 'failed');

CREATE TABLE processed_events (
  event_id TEXT PRIMARY KEY,
  kind INTEGER NOT NULL,
  seen_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX processed_events_by_time ON processed_events (seen_at);

CREATE TABLE invites (
  id TEXT PRIMARY KEY,
  from_pubkey TEXT NOT NULL,
  group_name TEXT NOT NULL,
  welcome BLOB NOT NULL,
  key_package_event_id TEXT NOT NULL,
  relays TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined'))
) STRICT;
CREATE INDEX invites_pending ON invites (received_at) WHERE status = 'pending';

CREATE TABLE profiles (
  pubkey TEXT PRIMARY KEY,
  name TEXT,
  picture TEXT,
  created_at INTEGER NOT NULL
) STRICT;
`;

// Full-text index over chat messages (kind 9; not system lines, not reactions), an external-content
// FTS5 table over messages.content kept in step by triggers, so every writer of messages (insert,
// edit, delete, the cascade of a deleted group) updates it. secure-delete removes a deleted
// message's tokens from the index at once instead of leaving them until a merge.
const V2 = `
CREATE VIRTUAL TABLE messages_fts USING fts5 (content, content = 'messages', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts (rowid, content) SELECT seq, content FROM messages WHERE kind = 9;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.kind = 9 BEGIN
  INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.kind = 9 BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, kind ON messages WHEN old.kind = 9 OR new.kind = 9 BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) SELECT 'delete', old.seq, old.content WHERE old.kind = 9;
  INSERT INTO messages_fts (rowid, content) SELECT new.seq, new.content WHERE new.kind = 9;
END;
`;

/**
 * Append only: a released migration never changes. Each runs in its own transaction, so
 * PRAGMA foreign_keys (a no-op inside one) cannot be toggled by a migration; a table rebuild
 * must keep its references valid instead.
 */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, up: (db) => db.exec(V1) },
  { version: 2, up: (db) => db.exec(V2) },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function userVersion(db: Database.Database): number {
  return Number(db.pragma("user_version", { simple: true }));
}

/**
 * Brings the database to the newest version of `migrations`. A migration and its user_version
 * bump commit together, so a crash leaves the database at the last completed version and the
 * next open resumes from there.
 */
export function runMigrations(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`migration ${index + 1} is numbered ${migration.version}`);
  });
  const from = userVersion(db);
  if (from > migrations.length) throw new SchemaTooNewError(from, migrations.length);
  for (const migration of migrations.slice(from)) {
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return { from, to: migrations.length };
}
