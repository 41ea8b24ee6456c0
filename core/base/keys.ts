import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { generateSecretKey, getPublicKey, nip19 } from "nostr-tools";

export interface LocalKeys {
  secretHex: string;
  pubkey: string;
  npub: string;
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

function fromSecret(secret: Uint8Array): LocalKeys {
  const pubkey = getPublicKey(secret);
  return { secretHex: bytesToHex(secret), pubkey, npub: nip19.npubEncode(pubkey) };
}

export function generateKeys(): LocalKeys {
  return fromSecret(generateSecretKey());
}

/** Parses an `nsec1…` or 64-hex private key; null when it is not a valid secp256k1 secret key. */
export function parsePrivateKey(input: string): LocalKeys | null {
  const text = input.trim();
  let secret: Uint8Array;
  try {
    if (text.startsWith("nsec1")) {
      const decoded = nip19.decode(text);
      if (decoded.type !== "nsec") return null;
      secret = decoded.data;
    } else if (HEX_KEY.test(text)) {
      secret = hexToBytes(text.toLowerCase());
    } else {
      return null;
    }
    return fromSecret(secret);
  } catch {
    return null;
  }
}

export function encodeNsec(secretHex: string): string {
  return nip19.nsecEncode(hexToBytes(secretHex));
}
