// NIP-98 HTTP auth for the agent API: every check of PROTOCOL.md, and a replay refused through the
// database so several server processes share one view of the event ids already used.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Event } from "nostr-tools/core";
import { HTTP_AUTH_KIND, verifySignature } from "../../../core/marmot/index.js";
import type { AgentStore } from "../store/agentStore.js";

/** Accepted distance between an auth event's created_at and our clock, either way. */
export const MAX_CLOCK_SKEW_SEC = 60;
const MAX_HEADER_BYTES = 8 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

export type AuthResult = { ok: true; pubkey: string; eventId: string } | { ok: false; reason: string };

const tag = (event: Event, name: string): string | undefined => event.tags.find((t) => t[0] === name)?.[1];

function parseEvent(header: string | undefined): Event | string {
  if (!header) return "missing Authorization header";
  if (header.length > MAX_HEADER_BYTES) return "Authorization header too large";
  const match = /^Nostr ([A-Za-z0-9+/=_-]+)$/.exec(header.trim());
  if (!match?.[1]) return "Authorization scheme must be Nostr";
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(match[1], "base64").toString("utf8"));
  } catch {
    return "Authorization token is not base64 JSON";
  }
  if (typeof value !== "object" || value === null) return "Authorization token is not an event";
  const e = value as Record<string, unknown>;
  const valid =
    typeof e["id"] === "string" && HEX64.test(e["id"]) &&
    typeof e["pubkey"] === "string" && HEX64.test(e["pubkey"]) &&
    typeof e["sig"] === "string" && HEX128.test(e["sig"]) &&
    typeof e["kind"] === "number" &&
    typeof e["created_at"] === "number" && Number.isInteger(e["created_at"]) &&
    typeof e["content"] === "string" &&
    Array.isArray(e["tags"]) && e["tags"].every((t) => Array.isArray(t) && t.every((v) => typeof v === "string"));
  if (!valid) return "Authorization token is not a well-formed event";
  return value as Event;
}

/**
 * Checks the request's NIP-98 header: signature, kind 27235, `u` equal to the full URL the server
 * is reachable at, `method`, created_at within 60 s, the body's sha256 when a `payload` tag is
 * present, and an event id never used before.
 */
export async function verifyHttpAuth(input: {
  header: string | undefined;
  url: string;
  method: string;
  body: Uint8Array;
  store: AgentStore;
  nowSec?: number;
}): Promise<AuthResult> {
  const parsed = parseEvent(input.header);
  if (typeof parsed === "string") return { ok: false, reason: parsed };
  const event = parsed;
  if (event.kind !== HTTP_AUTH_KIND) return { ok: false, reason: `event kind must be ${HTTP_AUTH_KIND}` };
  if (!verifySignature(event)) return { ok: false, reason: "signature does not verify" };
  const now = input.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - event.created_at) > MAX_CLOCK_SKEW_SEC) return { ok: false, reason: "created_at is more than 60 s away from now" };
  if (tag(event, "u") !== input.url) return { ok: false, reason: "u tag does not match the request URL" };
  if (tag(event, "method")?.toUpperCase() !== input.method.toUpperCase()) return { ok: false, reason: "method tag does not match" };
  const payload = tag(event, "payload");
  if (payload !== undefined && payload.toLowerCase() !== bytesToHex(sha256(input.body))) {
    return { ok: false, reason: "payload tag does not match the body" };
  }
  if (!(await input.store.rememberAuthEvent(event.id, now * 1000))) return { ok: false, reason: "auth event was already used" };
  return { ok: true, pubkey: event.pubkey, eventId: event.id };
}
