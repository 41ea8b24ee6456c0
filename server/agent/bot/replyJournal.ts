// The bot's record of which owner messages still need a reply, kept beside the core's data so a
// restart answers what an interrupted run had not, and never answers the same message twice.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "../../../core/index.js";

/** An owner message the bot has taken on and not yet answered. */
export interface PendingReply {
  /** Id of the message's rumor (kind 9). */
  id: string;
  chat_id: string;
  text: string;
  /** Unix seconds. */
  created_at: number;
}

interface JournalFile {
  version: 1;
  pending: PendingReply[];
  /** Ids answered (or given up on) lately, oldest first: a message seen again is not answered again. */
  done: string[];
}

/** How many answered ids are remembered. The core announces each stored message once; this is the second guard. */
export const DONE_IDS_KEPT = 1_000;

const isPending = (value: unknown): value is PendingReply => {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return typeof entry["id"] === "string" && typeof entry["chat_id"] === "string" && typeof entry["text"] === "string" && typeof entry["created_at"] === "number";
};

function parseJournal(text: string): JournalFile | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const { version, pending, done } = raw as Record<string, unknown>;
  if (version !== 1 || !Array.isArray(pending) || !Array.isArray(done)) return null;
  if (!pending.every(isPending) || !done.every((id): id is string => typeof id === "string")) return null;
  return { version, pending, done };
}

/**
 * A small JSON file, rewritten whole (temp file, fsync, rename) on every change, so a kill leaves
 * the old or the new version. Writes are synchronous: an entry is on disk before the caller goes on.
 */
export class ReplyJournal {
  private readonly pendingById = new Map<string, PendingReply>();
  private readonly done: string[];
  private readonly doneIds: Set<string>;

  private constructor(
    private readonly path: string,
    file: JournalFile,
  ) {
    for (const entry of file.pending) this.pendingById.set(entry.id, entry);
    this.done = file.done.slice(-DONE_IDS_KEPT);
    this.doneIds = new Set(this.done);
  }

  /** Reads the journal at `path`; a missing one is empty, a damaged one is set aside (and logged) and starts empty. */
  static open(path: string, log: Logger): ReplyJournal {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let text: string | null = null;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (text === null) return new ReplyJournal(path, { version: 1, pending: [], done: [] });
    const file = parseJournal(text);
    if (file) return new ReplyJournal(path, file);
    const aside = `${path}.damaged-${Date.now()}`;
    renameSync(path, aside);
    log({ event: "reply_journal_damaged", moved_to: aside });
    return new ReplyJournal(path, { version: 1, pending: [], done: [] });
  }

  /** Whether this message was taken on before (pending or answered). */
  has(id: string): boolean {
    return this.pendingById.has(id) || this.doneIds.has(id);
  }

  /** Messages still to answer, oldest first. */
  pending(): PendingReply[] {
    return [...this.pendingById.values()].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
  }

  /** Takes a message on; false (and nothing written) when it was taken on before. */
  add(entry: PendingReply): boolean {
    if (this.has(entry.id)) return false;
    this.pendingById.set(entry.id, entry);
    this.write();
    return true;
  }

  /** Marks a message answered. Called before the reply is sent, so a crash can lose a reply but never repeat one. */
  complete(id: string): void {
    this.pendingById.delete(id);
    if (!this.doneIds.has(id)) {
      this.done.push(id);
      this.doneIds.add(id);
      while (this.done.length > DONE_IDS_KEPT) this.doneIds.delete(this.done.shift() as string);
    }
    this.write();
  }

  private write(): void {
    const file: JournalFile = { version: 1, pending: this.pending(), done: this.done };
    const temp = `${this.path}.${process.pid}.tmp`;
    const fd = openSync(temp, "w", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(file)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.path);
  }
}
