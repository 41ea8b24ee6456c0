// Checks on what users type into the group forms, before anything is dispatched.
import { parsePubkeyInput, type PubkeyInput } from "../../shared/pubkeys";
import type { Toast } from "../../shared/state";

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

export const lastToastId = (toasts: Toast[]): number => toasts.reduce((max, toast) => Math.max(max, toast.id), 0);

/**
 * The newest error toast after `afterId`. A modal dialog makes the page (and its toasts) inert,
 * so a dialog repeats the core's errors about its own request.
 */
export const errorToastAfter = (toasts: Toast[], afterId: number): Toast | undefined =>
  toasts.filter((toast) => toast.kind === "error" && toast.id > afterId).at(-1);
