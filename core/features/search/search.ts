// Search: the messages stored on this device, of every chat or of one, newest first, paged; the
// results stay in step with what arrives, is edited or deleted while they are shown.
import type { DispatchReply } from "../../../shared/actions.js";
import { npubFromHex } from "../../../shared/pubkeys.js";
import type { SearchResult, SnippetPart } from "../../../shared/state.js";
import type { ChatRegistry } from "../../chats/registry.js";
import type { AccountContext } from "../../state/context.js";
import { refuseWith } from "../../state/requests.js";
import { SNIPPET_CLOSE, SNIPPET_OPEN, type SearchHit } from "../../storage/messageSearch.js";

/** Results per page. */
export const SEARCH_PAGE_SIZE = 50;

const MARKERS = new RegExp(`([${SNIPPET_OPEN}${SNIPPET_CLOSE}])`, "u");

/** A snippet's text is cut here: a sender's one very long word must not fill the state. */
export const MAX_SNIPPET_LENGTH = 300;

/** The snippet's pieces, at most MAX_SNIPPET_LENGTH characters; a marker character in the message itself only moves a highlight. */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let match = false;
  let room = MAX_SNIPPET_LENGTH;
  for (const piece of snippet.split(MARKERS)) {
    if (piece === SNIPPET_OPEN) match = true;
    else if (piece === SNIPPET_CLOSE) match = false;
    else if (piece !== "" && room > 0) {
      const text = piece.length > room ? `${piece.slice(0, room)}…` : piece;
      room -= piece.length;
      parts.push({ text, match });
    }
  }
  return parts;
}

export class Search {
  private current: { query: string; chatId: string | null; shown: number } | null = null;
  private scheduled = false;

  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
  ) {}

  search(query: string, chatId?: string): DispatchReply {
    if (chatId !== undefined && !this.registry.has(chatId)) return refuseWith(this.ctx, "chat_not_found");
    this.current = { query, chatId: chatId ?? null, shown: SEARCH_PAGE_SIZE };
    this.project();
    return { ok: true };
  }

  loadMore(): DispatchReply {
    if (this.current) {
      this.current.shown += SEARCH_PAGE_SIZE;
      this.project();
    }
    return { ok: true };
  }

  clear(): DispatchReply {
    this.current = null;
    this.ctx.update((s) => {
      s.search = null;
    });
    return { ok: true };
  }

  /** The store changed: the shown results are read again, once per tick. */
  refresh(): void {
    if (this.current === null || this.scheduled || !this.ctx.live()) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.ctx.live() && this.current) this.project();
    });
  }

  private project(): void {
    const current = this.current;
    if (!current) return;
    const page = this.ctx.store.messageSearch.search(current.query, {
      limit: current.shown,
      ...(current.chatId === null ? {} : { groupId: current.chatId }),
    });
    const results = this.toResults(page.hits);
    this.ctx.update((s) => {
      s.search = { query: current.query, scope: current.chatId ?? "all", results, has_more: page.has_more };
    });
  }

  private toResults(hits: SearchHit[]): SearchResult[] {
    const me = this.ctx.keys.pubkey;
    const profiles = this.ctx.store.getProfiles([...new Set(hits.map((hit) => hit.sender))]);
    return hits.map((hit) => {
      const profile = profiles.get(hit.sender);
      return {
        chat_id: hit.group_id,
        message_id: hit.id,
        sender: { pubkey: hit.sender, npub: npubFromHex(hit.sender), name: profile?.name ?? null, picture: profile?.picture ?? null },
        mine: hit.sender === me,
        created_at: hit.created_at,
        snippet: snippetParts(hit.snippet),
      };
    });
  }
}
