// Shared by the spawner's tests: requests with fresh keys, the fixture guest's path and records, polling.
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { nsecEncode } from "nostr-tools/nip19";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";
import type { CreateVmRequest } from "../types.js";

export const FIXTURE_GUEST = fileURLToPath(new URL("./fixtureGuest.fixture.js", import.meta.url));
export const SPAWNER_MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
export const RELAY = "ws://127.0.0.1:9";

export function vmRequest(relays: string[] = [RELAY]): CreateVmRequest {
  const secret = generateSecretKey();
  return {
    agent_secret_hex: bytesToHex(secret),
    agent_pubkey: getPublicKey(secret),
    owner_pubkey: getPublicKey(generateSecretKey()),
    relays,
  };
}

export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `burrow-${prefix}-`));
}

export interface GuestStart {
  argv: string[];
  pid: number;
  secret_in_argv: boolean;
  secret_in_env: boolean;
  spawner_token_in_env: boolean;
}

/** What the fixture guest of a VM recorded, one entry per start. */
export async function guestStarts(dataDir: string, vmId: string): Promise<GuestStart[]> {
  const text = await readFile(join(dataDir, "vms", vmId, "data", "starts.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as GuestStart);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed child of a process that does not reap it lingers as a zombie.
  return readFileSyncSafe(`/proc/${pid}/stat`)?.split(") ")[1]?.startsWith("Z") !== true;
}

function readFileSyncSafe(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** Polls `read` until `done` holds for its value; fails with the last value after `timeoutMs`. */
export async function waitFor<T>(read: () => Promise<T> | T, done: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether `bytes` hold the secret key `secretHex` in any form: hex (either case), nsec or the raw 32 bytes. */
export function holdsSecret(bytes: Buffer, secretHex: string): boolean {
  const forms = [secretHex.toLowerCase(), secretHex.toUpperCase(), nsecEncode(hexToBytes(secretHex))].map((text) => Buffer.from(text, "utf8"));
  forms.push(Buffer.from(hexToBytes(secretHex)));
  return forms.some((form) => bytes.includes(form));
}

/** Every file under `dir` (the whole tree, symlinks not followed) that holds the secret key `secretHex` (holdsSecret). Sorted paths. */
export async function filesHolding(dir: string, secretHex: string): Promise<string[]> {
  const found: string[] = [];
  const entries = existsSync(dir) ? await readdir(dir, { recursive: true, withFileTypes: true }) : [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    // A file removed meanwhile (a SQLite journal) held nothing we can find any more.
    const bytes = await readFile(path).catch(() => null);
    if (bytes && holdsSecret(bytes, secretHex)) found.push(path);
  }
  return found.sort();
}
