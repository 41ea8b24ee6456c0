/**
 * Read-only NIP-44 v2 for binary plaintexts: the legacy kind 445 envelope held
 * a TLS-serialized MLSMessage, which nostr-tools' string API would corrupt by
 * UTF-8 decoding. Same wire format and key schedule as NIP-44 v2.
 */
import { chacha20 } from "@noble/ciphers/chacha.js";
import { equalBytes } from "@noble/ciphers/utils.js";
import { expand } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import * as nip44 from "nostr-tools/nip44";
import { getPublicKey } from "./nostrCrypto.js";

/** The legacy conversation key: NIP-44 between the exporter-derived secret key and its own public key. */
export function legacyConversationKey(secret: Uint8Array): Uint8Array {
  return nip44.getConversationKey(secret, getPublicKey(secret));
}

/** Decrypts a NIP-44 v2 payload to bytes; throws on any malformed or unauthentic input. */
export function decryptNip44Bytes(payload: string, conversationKey: Uint8Array): Uint8Array {
  if (payload.length < 132 || payload.startsWith("#")) throw new Error("Not a NIP-44 v2 payload");
  const data = base64.decode(payload);
  if (data.length < 99 || data[0] !== 2) throw new Error("Not a NIP-44 v2 payload");
  const nonce = data.subarray(1, 33);
  const ciphertext = data.subarray(33, data.length - 32);
  const mac = data.subarray(data.length - 32);
  const keys = expand(sha256, conversationKey, nonce, 76);
  if (!equalBytes(hmac(sha256, keys.subarray(44, 76), concatBytes(nonce, ciphertext)), mac)) throw new Error("Invalid NIP-44 MAC");
  const padded = chacha20(keys.subarray(0, 32), keys.subarray(32, 44), ciphertext);
  const length = ((padded[0] ?? 0) << 8) | (padded[1] ?? 0);
  if (length === 0 || padded.length !== 2 + nip44.v2.utils.calcPaddedLen(length)) throw new Error("Invalid NIP-44 padding");
  return padded.slice(2, 2 + length);
}
