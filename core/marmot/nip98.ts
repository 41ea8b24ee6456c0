// NIP-98 Authorization headers for the agent API, signed with the account's local key.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { signEvent } from "./nostrCrypto.js";

export const HTTP_AUTH_KIND = 27235;

/**
 * `Nostr <base64 event>` for one request. A random `nonce` tag makes every auth event unique, so two
 * requests to the same URL in the same second are not refused as replays (PROTOCOL.md).
 */
export function nip98Header(url: string, method: string, secretKey: Uint8Array, body?: Uint8Array, createdAt = Math.floor(Date.now() / 1000)): string {
  const tags = [
    ["u", url],
    ["method", method.toUpperCase()],
    ["nonce", bytesToHex(randomBytes(16))],
  ];
  if (body && body.length > 0) tags.push(["payload", bytesToHex(sha256(body))]);
  const event = signEvent({ kind: HTTP_AUTH_KIND, created_at: createdAt, tags, content: "" }, secretKey);
  return `Nostr ${Buffer.from(JSON.stringify(event)).toString("base64")}`;
}
