/**
 * Rumors: unsigned Nostr events with their id (NIP-59). Marmot carries them as
 * MLS application payloads (kind 9 chat, kind 7 reaction, kind 1009 edit, kind 5
 * deletion) and as the kind 444 Welcome inside a gift wrap.
 */
import { neventEncode } from "nostr-tools/nip19";
import { MarmotError } from "./errors.js";
import { eventHash } from "./nostrCrypto.js";

export interface Rumor {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string[][];
  content: string;
}

export const CHAT_MESSAGE_KIND = 9;
export const REACTION_KIND = 7;
/** An in-place replacement of a chat message's text (Marmot application messages). */
export const EDIT_KIND = 1009;
/** An author's retraction of their own message (NIP-09), sent inside the group. */
export const DELETION_KIND = 5;

const HEX32 = /^[0-9a-f]{64}$/;

export interface RumorInput {
  pubkey: string;
  kind: number;
  content: string;
  tags?: string[][];
  /** Unix seconds; default now. */
  createdAt?: number;
}

/** A rumor with its id (NIP-01 event hash). */
export function createRumor(input: RumorInput): Rumor {
  const draft = {
    pubkey: input.pubkey,
    created_at: input.createdAt ?? Math.floor(Date.now() / 1000),
    kind: input.kind,
    tags: (input.tags ?? []).map((tag) => [...tag]),
    content: input.content,
  };
  return { id: eventHash(draft), ...draft };
}

/** Kind 9 chat message; `tags` may carry `e` (reply) and `p` tags as in Nostr. */
export function chatMessageRumor(pubkey: string, text: string, tags: string[][] = [], createdAt?: number): Rumor {
  return createRumor({ pubkey, kind: CHAT_MESSAGE_KIND, content: text, tags, createdAt });
}

/** Kind 7 reaction (NIP-25) to `target`, a rumor of the same group. */
export function reactionRumor(pubkey: string, target: Pick<Rumor, "id" | "pubkey" | "kind">, reaction: string, createdAt?: number): Rumor {
  return createRumor({
    pubkey,
    kind: REACTION_KIND,
    content: reaction,
    tags: [
      ["e", target.id],
      ["p", target.pubkey],
      ["k", String(target.kind)],
    ],
    createdAt,
  });
}

/**
 * Kind 9 reply (NIP-C7, as marmots-web-chat sends it): a `q` tag naming the parent, and the
 * parent's nevent on the content's first line, so clients without quote support still show a reference.
 */
export function replyRumor(pubkey: string, parent: Pick<Rumor, "id" | "pubkey">, text: string, createdAt?: number): Rumor {
  const reference = `nostr:${neventEncode({ id: parent.id, author: parent.pubkey })}`;
  return chatMessageRumor(pubkey, `${reference}\n${text}`, [["q", parent.id, "", parent.pubkey]], createdAt);
}

/** Kind 1009 edit of `targetId`: the replacement text, one `e` tag. */
export function editRumor(pubkey: string, targetId: string, text: string, createdAt?: number): Rumor {
  return createRumor({ pubkey, kind: EDIT_KIND, content: text, tags: [["e", targetId]], createdAt });
}

/** Kind 5 deletion (NIP-09) of one message of the group: an `e` tag and the target's kind. */
export function deletionRumor(pubkey: string, target: Pick<Rumor, "id" | "kind">, createdAt?: number): Rumor {
  return createRumor({ pubkey, kind: DELETION_KIND, content: "", tags: [["e", target.id], ["k", String(target.kind)]], createdAt });
}

/** The parent a kind 9 replies to: the id of its one `q` tag naming an event id, else null. */
export function replyTarget(tags: readonly string[][]): string | null {
  const quotes = tags.filter((t) => t[0] === "q" && HEX32.test(t[1] ?? ""));
  return quotes.length === 1 ? (quotes[0]?.[1] ?? null) : null;
}

/** The message an edit or deletion names: its one `e` tag, else null (ignored). */
export function changeTarget(tags: readonly string[][]): string | null {
  const targets = tags.filter((t) => t[0] === "e");
  const id = targets.length === 1 ? targets[0]?.[1] : undefined;
  return id !== undefined && HEX32.test(id) ? id : null;
}

/** A reply's text without the parent's nevent line that NIP-C7 puts first. */
export function replyText(content: string): string {
  return content.replace(/^nostr:nevent1[02-9ac-hj-np-z]+\n/, "");
}

/**
 * Parses rumor JSON: the six fields with their types, a hex pubkey and an id
 * equal to the event hash. Any `sig` is dropped (rumors stay unsigned).
 */
export function parseRumor(json: string): Rumor {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new MarmotError("invalid_event", "Rumor is not JSON", { cause: error });
  }
  if (typeof value !== "object" || value === null) throw new MarmotError("invalid_event", "Rumor is not an object");
  const record = value as Record<string, unknown>;
  const { id, pubkey, created_at: createdAt, kind, tags, content } = record;
  if (typeof id !== "string" || typeof pubkey !== "string" || typeof content !== "string") {
    throw new MarmotError("invalid_event", "Rumor id, pubkey or content is not a string");
  }
  if (typeof createdAt !== "number" || !Number.isSafeInteger(createdAt) || typeof kind !== "number" || !Number.isSafeInteger(kind)) {
    throw new MarmotError("invalid_event", "Rumor created_at or kind is not an integer");
  }
  if (!Array.isArray(tags) || !tags.every((tag): tag is string[] => Array.isArray(tag) && tag.every((item) => typeof item === "string"))) {
    throw new MarmotError("invalid_event", "Rumor tags are not arrays of strings");
  }
  if (!HEX32.test(pubkey)) throw new MarmotError("invalid_event", "Rumor pubkey is not 64 lowercase hex characters");
  const rumor: Rumor = { id, pubkey, created_at: createdAt, kind, tags, content };
  if (eventHash(rumor) !== id) throw new MarmotError("invalid_event", "Rumor id is not the hash of its fields");
  return rumor;
}

export function serializeRumor(rumor: Rumor): string {
  const { id, pubkey, created_at, kind, tags, content } = rumor;
  return JSON.stringify({ id, pubkey, created_at, kind, tags, content });
}
