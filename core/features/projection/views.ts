// How stored rows read in the state: names, system lines, reactions, edits, deletions and reply quotes.
import { shortNpub } from "../../../shared/pubkeys.js";
import type { MessageView, ProfileView, ReplyQuote } from "../../../shared/state.js";
import type { SystemLineData } from "../../chats/systemLines.js";
import { DELETION_KIND, EDIT_KIND, changeTarget, replyTarget, replyText } from "../../marmot/index.js";
import type { MessageRow } from "../../storage/accountStore.js";

/** A person's name for lines and titles: "You" for us, their profile name, else their short npub. */
export function nameOf(profile: (pubkey: string) => ProfileView, me: string, pubkey: string | undefined): string {
  if (!pubkey) return "Someone";
  if (pubkey === me) return "You";
  const p = profile(pubkey);
  return p.name ?? shortNpub(p.npub);
}

export function systemText(line: SystemLineData, me: string, name: (pubkey: string | undefined) => string): string {
  const actor = name(line.actor);
  const targets = (line.targets ?? []).map((t) => (t === me ? "you" : name(t))).join(", ");
  switch (line.type) {
    case "created":
      return `${actor} created the group${line.name ? ` “${line.name}”` : ""}${targets ? ` with ${targets}` : ""}`;
    case "added":
      return `${actor} added ${targets}`;
    case "removed":
      if (line.targets?.length === 1 && line.targets[0] === line.actor) return `${actor} left`;
      if (line.targets?.length === 1 && line.targets[0] === me) return `You were removed by ${name(line.actor)}`;
      return `${actor} removed ${targets}`;
    case "renamed":
      return `${actor} renamed the group to “${line.name ?? ""}”`;
    case "left": {
      // Who left is the target; the actor only committed their leave (lines stored before had no targets).
      const leavers = line.targets && line.targets.length > 0 ? line.targets : line.actor ? [line.actor] : [];
      if (leavers.length === 1 && leavers[0] === me) return "You left the group";
      return `${leavers.map((t) => name(t)).join(", ") || "Someone"} left`;
    }
  }
}

/** Reactions to one message, one per sender and emoji. */
export function reactionViews(reactions: MessageRow[], me: string): MessageView["reactions"] {
  const byEmoji = new Map<string, { count: number; mine: boolean; senders: Set<string> }>();
  for (const r of reactions) {
    const entry = byEmoji.get(r.content) ?? { count: 0, mine: false, senders: new Set<string>() };
    if (entry.senders.has(r.sender)) continue;
    entry.senders.add(r.sender);
    entry.count += 1;
    entry.mine ||= r.sender === me;
    byEmoji.set(r.content, entry);
  }
  return [...byEmoji].map(([emoji, e]) => ({ emoji, count: e.count, mine: e.mine }));
}

const EXCERPT_LENGTH = 120;

/** Edits and deletions of a chat, honoured only from the author of the message they name. */
export interface MessageChanges {
  /** The newest text the author gave the message, or null when never edited. */
  editedText(message: MessageRow): string | null;
  deleted(message: MessageRow): boolean;
}

export function messageChanges(changes: MessageRow[]): MessageChanges {
  // Oldest first, so the last edit seen is the newest (by created_at, then arrival).
  const edits = new Map<string, string>();
  const deletions = new Set<string>();
  for (const change of changes) {
    const target = changeTarget(change.tags);
    if (!target) continue;
    const key = `${target}:${change.sender}`;
    if (change.kind === DELETION_KIND) deletions.add(key);
    else if (change.kind === EDIT_KIND) edits.set(key, change.content);
  }
  return {
    editedText: (m) => edits.get(`${m.id}:${m.sender}`) ?? null,
    deleted: (m) => deletions.has(`${m.id}:${m.sender}`),
  };
}

/** What a chat message reads as: blank once deleted, the newest edit, else its text without a reply's reference line. */
export function messageText(m: MessageRow, changes: MessageChanges): string {
  if (changes.deleted(m)) return "";
  return changes.editedText(m) ?? (replyTarget(m.tags) ? replyText(m.content) : m.content);
}

/** The quote above a reply; `parent` is null when it is not stored here (or not of this chat). */
export function replyQuote(id: string, parent: MessageRow | null, changes: MessageChanges, profile: (pubkey: string) => ProfileView): ReplyQuote {
  if (!parent) return { id, sender: null, excerpt: "", state: "not_loaded" };
  if (changes.deleted(parent)) return { id, sender: profile(parent.sender), excerpt: "", state: "deleted" };
  const text = messageText(parent, changes);
  const excerpt = text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH)}…` : text;
  return { id, sender: profile(parent.sender), excerpt, state: "shown" };
}
