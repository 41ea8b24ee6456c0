import assert from "node:assert/strict";
import { test } from "node:test";
import { EffectTokens } from "./tokens.js";

test("newer_token_of_a_kind_makes_the_older_stale", () => {
  const tokens = new EffectTokens<"probe" | "flow">();
  const first = tokens.issue("probe");
  const flow = tokens.issue("flow");
  const second = tokens.issue("probe");
  assert.equal(tokens.isCurrent(first), false);
  assert.equal(tokens.isCurrent(second), true);
  assert.equal(tokens.isCurrent(flow), true);
});

test("reset_all_makes_every_token_stale_even_if_reissued_kind_matches", () => {
  const tokens = new EffectTokens<"probe">();
  const old = tokens.issue("probe");
  tokens.resetAll();
  assert.equal(tokens.isCurrent(old), false);
  const fresh = tokens.issue("probe");
  assert.equal(tokens.isCurrent(fresh), true);
  assert.equal(tokens.isCurrent(old), false);
});

test("invalidate_only_affects_its_kind", () => {
  const tokens = new EffectTokens<"a" | "b">();
  const a = tokens.issue("a");
  const b = tokens.issue("b");
  tokens.invalidate("a");
  assert.equal(tokens.isCurrent(a), false);
  assert.equal(tokens.isCurrent(b), true);
});
