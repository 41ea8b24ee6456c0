/**
 * Tag cardinality of received Marmot events (transports/nostr.md, "Event identity and tag
 * cardinality"): a required singleton is exactly one tag with exactly one value, a list tag is
 * exactly one tag with at least one value. Missing, repeated or extra-valued tags make the event
 * malformed; nothing here reads only the first match.
 */
import type { MarmotError } from "./errors.js";

/** Builds the error for a malformed tag, naming the event it came from. */
export type TagFailure = (reason: string) => MarmotError;

function named(tags: readonly string[][], name: string): string[][] {
  return tags.filter((tag) => Array.isArray(tag) && tag[0] === name);
}

/** The one value of singleton tag `name`; undefined when absent and optional. */
export function singletonTag(tags: readonly string[][], name: string, fail: TagFailure, required: true): string;
export function singletonTag(tags: readonly string[][], name: string, fail: TagFailure, required: false): string | undefined;
export function singletonTag(tags: readonly string[][], name: string, fail: TagFailure, required: boolean): string | undefined {
  const found = named(tags, name);
  if (found.length === 0) {
    if (required) throw fail(`missing ${name} tag`);
    return undefined;
  }
  if (found.length > 1) throw fail(`${found.length} ${name} tags (exactly one allowed)`);
  const values = (found[0] ?? []).slice(1);
  if (values.length !== 1 || values[0] === "") throw fail(`${name} tag must have exactly one non-empty value, has ${values.length}`);
  return values[0];
}

/** The values of list tag `name`: exactly one tag, at least one value. */
export function listTag(tags: readonly string[][], name: string, fail: TagFailure): string[] {
  const found = named(tags, name);
  if (found.length === 0) throw fail(`missing ${name} tag`);
  if (found.length > 1) throw fail(`${found.length} ${name} tags (exactly one allowed; list every value in one tag)`);
  const values = (found[0] ?? []).slice(1);
  if (values.length === 0) throw fail(`${name} tag has no value`);
  return values;
}
