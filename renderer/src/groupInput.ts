// Checks on what users type into the group forms, before anything is dispatched.
import { parsePubkeyInput, type PubkeyInput } from "../../shared/pubkeys.js";
import { MAX_REQUEST_ID } from "../../shared/actions.js";
import type { RequestOutcome } from "../../shared/state.js";

/**
 * A member's npub or hex key, refused when it is our own key or already among `existing` (hex
 * pubkeys); `duplicate` says where it already is ("Already in the list", "Already in this group").
 */
export function parseMemberInput(input: string, me: string, existing: readonly string[], duplicate: string): PubkeyInput {
  const parsed = parsePubkeyInput(input);
  if (!parsed.ok) return parsed;
  if (parsed.pubkey === me) return { ok: false, error: "That is your own key. Enter another member's npub" };
  if (existing.includes(parsed.pubkey)) return { ok: false, error: duplicate };
  return parsed;
}

/** A form's request id: random, so requests from several windows on one core do not collide. */
export const newRequestId = (): number => 1 + Math.floor(Math.random() * (MAX_REQUEST_ID - 1));

/** The core's answer to our own request (its error is not toasted: the form shows it). */
export const outcomeOf = (outcomes: RequestOutcome[], requestId: number | undefined): RequestOutcome | undefined =>
  requestId === undefined ? undefined : outcomes.find((outcome) => outcome.request_id === requestId);
