// Reading a public key typed by a user: npub1… (NIP-19) or 64 hex characters.
import { bech32 } from "@scure/base";

export type PubkeyInput = { ok: true; pubkey: string } | { ok: false; error: string };

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

const toHex = (bytes: ArrayLike<number>): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

export function parsePubkeyInput(input: string): PubkeyInput {
  const text = input.trim();
  if (text === "") return { ok: false, error: "Enter an npub or a hex public key" };
  if (HEX_KEY.test(text)) return { ok: true, pubkey: text.toLowerCase() };
  if (text.toLowerCase().startsWith("npub1")) {
    try {
      const decoded = bech32.decode(text.toLowerCase() as `${string}1${string}`, 5000);
      const bytes = bech32.fromWords(decoded.words);
      if (decoded.prefix === "npub" && bytes.length === 32) return { ok: true, pubkey: toHex(bytes) };
    } catch {
      return { ok: false, error: "This npub is not valid (check for typos)" };
    }
    return { ok: false, error: "This npub is not valid (check for typos)" };
  }
  if (text.startsWith("nsec1")) return { ok: false, error: "That is a private key. Enter the other person's npub instead" };
  return { ok: false, error: "Enter an npub (npub1…) or a 64-character hex public key" };
}

export function npubFromHex(pubkey: string): string {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(pubkey.slice(i * 2, i * 2 + 2), 16);
  return bech32.encode("npub", bech32.toWords(bytes), 5000);
}

/** How an npub is shortened wherever a name is missing (core and renderer alike): its first 12 and last 6 characters; one of 20 or fewer is shown whole. */
export function shortNpub(npub: string): string {
  return npub.length > 20 ? `${npub.slice(0, 12)}…${npub.slice(-6)}` : npub;
}
