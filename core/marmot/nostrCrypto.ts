/**
 * Schnorr signing and verification of Nostr events, through libsecp256k1 in
 * WebAssembly when it loads and pure JS (nostr-tools/pure) otherwise: signing
 * with nostr-wasm, verifying with tiny-secp256k1 (a build with the full
 * precomputed tables; with the id hashed by node:crypto, ~30% faster than
 * nostr-wasm's verify). Every kind 445 event is signed by a fresh key and every
 * received one is verified, so this is the largest per-message cost: ~0.2 ms in
 * wasm vs ~2 ms in JS.
 */
import { createHash } from "node:crypto";
import * as pure from "nostr-tools/pure";
import type { EventTemplate, NostrEvent } from "nostr-tools/pure";

export type { EventTemplate, NostrEvent } from "nostr-tools/pure";

export type NostrCryptoBackend = "wasm" | "js";

interface Backend {
  readonly name: NostrCryptoBackend;
  generateSecretKey(): Uint8Array;
  getPublicKey(secretKey: Uint8Array): string;
  finalizeEvent(template: EventTemplate, secretKey: Uint8Array): NostrEvent;
  verifyEvent(event: NostrEvent): boolean;
}

const jsBackend: Backend = {
  name: "js",
  generateSecretKey: pure.generateSecretKey,
  getPublicKey: pure.getPublicKey,
  finalizeEvent: pure.finalizeEvent,
  verifyEvent: pure.verifyEvent,
};

let backend: Backend = jsBackend;
let initialising: Promise<NostrCryptoBackend> | undefined;

/**
 * Loads the wasm backend once; later calls return the same promise. Never
 * rejects: when wasm cannot load, the pure-JS backend stays in use. Signing and
 * verifying work before (and without) this call, only slower.
 */
export function initNostrCrypto(): Promise<NostrCryptoBackend> {
  initialising ??= loadWasm();
  return initialising;
}

const HEX64_BYTES = /^[0-9a-f]{128}$/;

type SchnorrVerify = (hash: Uint8Array, xOnlyPubkey: Uint8Array, signature: Uint8Array) => boolean;

function eventHashBytes(event: Pick<NostrEvent, "pubkey" | "created_at" | "kind" | "tags" | "content">): Buffer {
  return createHash("sha256").update(JSON.stringify([0, event.pubkey, event.created_at, event.kind, event.tags, event.content])).digest();
}

/** NIP-01 event id: hex SHA-256 of the serialized event (nostr-tools' getEventHash, on node:crypto). */
export function eventHash(event: Pick<NostrEvent, "pubkey" | "created_at" | "kind" | "tags" | "content">): string {
  return eventHashBytes(event).toString("hex");
}

/** NIP-01: the id is the SHA-256 of the serialized event, the signature BIP-340 over the id. */
function eventVerifier(verifySchnorr: SchnorrVerify): (event: NostrEvent) => boolean {
  return (event) => {
    if (!HEX64_BYTES.test(event.sig)) return false;
    const hash = eventHashBytes(event);
    if (hash.toString("hex") !== event.id) return false;
    try {
      return verifySchnorr(hash, Buffer.from(event.pubkey, "hex"), Buffer.from(event.sig, "hex"));
    } catch {
      return false;
    }
  };
}

/** tiny-secp256k1's verifier, or nostr-wasm's where it does not load. */
async function loadVerifier(fallback: (event: NostrEvent) => boolean): Promise<(event: NostrEvent) => boolean> {
  try {
    const { verifySchnorr } = await import("tiny-secp256k1");
    return eventVerifier(verifySchnorr);
  } catch {
    return fallback;
  }
}

async function loadWasm(): Promise<NostrCryptoBackend> {
  try {
    const [{ initNostrWasm }, wasm] = await Promise.all([import("nostr-wasm"), import("nostr-tools/wasm")]);
    wasm.setNostrWasm(await initNostrWasm());
    const candidate: Backend = {
      name: "wasm",
      generateSecretKey: wasm.generateSecretKey,
      getPublicKey: wasm.getPublicKey,
      finalizeEvent: wasm.finalizeEvent,
      verifyEvent: await loadVerifier(wasm.verifyEvent),
    };
    if (!selfTest(candidate)) return backend.name;
    backend = candidate;
  } catch {
    // The JS backend keeps working; the only loss is speed.
  }
  return backend.name;
}

/** A wasm build that signs but disagrees with the JS verifier, or accepts a forged event, must not be used. */
function selfTest(candidate: Backend): boolean {
  const secretKey = candidate.generateSecretKey();
  const event = candidate.finalizeEvent({ kind: 1, created_at: 1, tags: [], content: "self-test" }, secretKey);
  const forged = { ...copyEvent(event), content: "forged" };
  return (
    event.pubkey === pure.getPublicKey(secretKey) &&
    pure.verifyEvent(copyEvent(event)) &&
    candidate.verifyEvent(copyEvent(event)) &&
    !candidate.verifyEvent(forged) &&
    !candidate.verifyEvent({ ...forged, id: pure.getEventHash(forged) })
  );
}

export function nostrCryptoBackend(): NostrCryptoBackend {
  return backend.name;
}

export function generateSecretKey(): Uint8Array {
  return backend.generateSecretKey();
}

export function getPublicKey(secretKey: Uint8Array): string {
  return backend.getPublicKey(secretKey);
}

/** Signs a copy of `template` (the template is not mutated) and returns a plain event object. */
export function signEvent(template: EventTemplate, secretKey: Uint8Array): NostrEvent {
  const draft: EventTemplate = {
    kind: template.kind,
    created_at: template.created_at,
    tags: template.tags.map((tag) => [...tag]),
    content: template.content,
  };
  return copyEvent(backend.finalizeEvent(draft, secretKey));
}

/**
 * Checks an event's id and signature. Verifies a fresh copy: nostr-tools caches
 * its verdict on the object it is given (and marks events it signed), so
 * verifying the received object could return a stale `true`. Never throws.
 */
export function verifySignature(event: NostrEvent): boolean {
  if (!pure.validateEvent(event)) return false;
  if (typeof event.id !== "string" || typeof event.sig !== "string") return false;
  try {
    return backend.verifyEvent(copyEvent(event));
  } catch {
    return false;
  }
}

/** A structural copy without any cached verification mark. */
export function copyEvent(event: NostrEvent): NostrEvent {
  return {
    id: event.id,
    pubkey: event.pubkey,
    created_at: event.created_at,
    kind: event.kind,
    tags: event.tags.map((tag) => [...tag]),
    content: event.content,
    sig: event.sig,
  };
}
