// Full-text search over the stored chat messages (the messages_fts index of migration 2), and where
// a message stands in its chat's window.
import type Database from "better-sqlite3";

/** Around each matched term in a snippet; control characters, so no message text is taken for markup. */
export const SNIPPET_OPEN = "\u0002";
export const SNIPPET_CLOSE = "\u0003";
/** Tokens around the match in a snippet. */
const SNIPPET_TOKENS = 16;

export interface SearchHit {
  seq: number;
  id: string;
  group_id: string;
  sender: string;
  created_at: number;
  /** A piece of the text around the match, matched terms between SNIPPET_OPEN and SNIPPET_CLOSE. */
  snippet: string;
}

export interface SearchPage {
  hits: SearchHit[];
  has_more: boolean;
}

/** A term the tokenizer keeps something of: a letter, a digit or a private-use character. */
const WORDY = /[\p{L}\p{N}\p{Co}]/u;

/**
 * The user's text as an FTS5 query that matches it as text: every whitespace-separated term quoted
 * (so `"`, `*`, `AND`, `NEAR(`… are words, never syntax), all terms required, the last one also as a
 * prefix (search while typing). Null when no term has anything to search for.
 */
export function ftsQuery(input: string): string | null {
  const terms = input.split(/\s+/u).filter((term) => WORDY.test(term));
  if (terms.length === 0) return null;
  return terms.map((term, i) => `"${term.replaceAll('"', '""')}"${i === terms.length - 1 ? "*" : ""}`).join(" ");
}

type SearchParams = { match: string; group: string | null; limit: number };

export class MessageSearch {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      search: db.prepare<[SearchParams], SearchHit>(
        `SELECT m.seq, m.id, m.group_id, m.sender, m.created_at,
           snippet(messages_fts, 0, char(2), char(3), '…', ${SNIPPET_TOKENS}) AS snippet
         FROM messages_fts JOIN messages AS m ON m.seq = messages_fts.rowid
         WHERE messages_fts MATCH @match
           AND (@group IS NULL OR m.group_id = @group)
         ORDER BY m.created_at DESC, m.seq DESC LIMIT @limit`,
      ),
    };
  }

  /** The `limit` newest chat messages matching `query` as text, in `groupId` only when given. */
  search(query: string, options: { groupId?: string; limit: number }): SearchPage {
    const { groupId, limit } = options;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError("limit must be a positive integer");
    const match = ftsQuery(query);
    if (match === null) return { hits: [], has_more: false };
    const hits = this.statements.search.all({ match, group: groupId ?? null, limit: limit + 1 });
    return { hits: hits.slice(0, limit), has_more: hits.length > limit };
  }

}
