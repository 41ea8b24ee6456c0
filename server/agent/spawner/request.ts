// Checks a CreateVmRequest before anything is spawned: from the HTTP service it is untrusted JSON.
import { hexToBytes } from "@noble/hashes/utils.js";
import { getPublicKey } from "nostr-tools/pure";
import { SpawnerError } from "../types.js";
import type { CreateVmRequest } from "../types.js";

const HEX_32 = /^[0-9a-fA-F]{64}$/;
export const MAX_RELAYS = 16;
const MAX_RELAY_URL_LENGTH = 512;

function invalid(message: string): never {
  throw new SpawnerError("invalid_request", message);
}

function hex32(value: unknown, field: string): string {
  if (typeof value !== "string" || !HEX_32.test(value)) invalid(`${field} must be 64 hex characters`);
  return value.toLowerCase();
}

/** The request with lowercase hex and only the known fields; throws SpawnerError invalid_request. */
export function validateCreateVmRequest(value: unknown): CreateVmRequest {
  if (typeof value !== "object" || value === null || Array.isArray(value)) invalid("the request must be an object");
  const input = value as Record<string, unknown>;
  const agent_secret_hex = hex32(input["agent_secret_hex"], "agent_secret_hex");
  const agent_pubkey = hex32(input["agent_pubkey"], "agent_pubkey");
  const owner_pubkey = hex32(input["owner_pubkey"], "owner_pubkey");
  let derived: string;
  try {
    derived = getPublicKey(hexToBytes(agent_secret_hex));
  } catch {
    invalid("agent_secret_hex is not a valid secp256k1 secret key");
  }
  // A mismatch would start a bot under another identity than the one the server records.
  if (derived !== agent_pubkey) invalid("agent_pubkey is not the public key of agent_secret_hex");
  const relays = input["relays"];
  if (!Array.isArray(relays) || relays.length === 0 || relays.length > MAX_RELAYS) invalid(`relays must be a list of 1..${MAX_RELAYS} URLs`);
  for (const relay of relays) {
    if (typeof relay !== "string" || relay.length > MAX_RELAY_URL_LENGTH || !URL.canParse(relay)) invalid("each relay must be a ws:// or wss:// URL");
    const { protocol } = new URL(relay);
    if (protocol !== "ws:" && protocol !== "wss:") invalid(`relay ${relay} is not a ws:// or wss:// URL`);
  }
  return { agent_secret_hex, agent_pubkey, owner_pubkey, relays: [...(relays as string[])] };
}
