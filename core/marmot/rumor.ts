/**
 * Rumors: unsigned Nostr events with their id (NIP-59). Marmot carries them as
 * MLS application payloads (kind 9 chat, kind 7 reaction) and as the kind 444
 * Welcome inside a gift wrap.
 */
import { getEventHash } from "nostr-tools/pure";
import { MarmotError } from "./errors.js";

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

const HEX32 = /^[0-9a-f]{64}$/;

export interface RumorInput {
  pubkey: string;
  kind: number;
  content: string;
  tags?: string[][];
  /** Unix seconds; default now. */
  createdAt?: number;
}

/** A rumor with its id computed by nostr-tools' getEventHash. */
export function createRumor(input: RumorInput): Rumor {
  const draft = {
    pubkey: input.pubkey,
    created_at: input.createdAt ?? Math.floor(Date.now() / 1000),
    kind: input.kind,
    tags: (input.tags ?? []).map((tag) => [...tag]),
    content: input.content,
  };
  return { id: getEventHash(draft), ...draft };
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
  if (getEventHash(rumor) !== id) throw new MarmotError("invalid_event", "Rumor id is not the hash of its fields");
  return rumor;
}

export function serializeRumor(rumor: Rumor): string {
  const { id, pubkey, created_at, kind, tags, content } = rumor;
  return JSON.stringify({ id, pubkey, created_at, kind, tags, content });
}
