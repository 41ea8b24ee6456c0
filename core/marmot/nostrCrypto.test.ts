import assert from "node:assert/strict";
import { test } from "node:test";
import * as pure from "nostr-tools/pure";
import { copyEvent, eventHash, generateSecretKey, getPublicKey, initNostrCrypto, nostrCryptoBackend, signEvent, verifySignature } from "./nostrCrypto.js";

const template = { kind: 1, created_at: 1_700_000_000, tags: [["t", "burrow"]], content: "hello" };

test("signing_works_before_wasm_is_loaded_and_agrees_with_nostr_tools", () => {
  const secretKey = pure.generateSecretKey();
  const event = signEvent(template, secretKey);
  assert.equal(event.pubkey, pure.getPublicKey(secretKey));
  assert.equal(event.id, pure.getEventHash(event));
  assert.ok(pure.verifyEvent(copyEvent(event)));
  assert.ok(verifySignature(event));
});

test("wasm_backend_loads_and_its_signatures_verify_in_pure_js", async () => {
  const backend = await initNostrCrypto();
  assert.equal(backend, "wasm");
  assert.equal(nostrCryptoBackend(), "wasm");
  const secretKey = generateSecretKey();
  const event = signEvent(template, secretKey);
  assert.equal(event.pubkey, getPublicKey(secretKey));
  assert.ok(pure.verifyEvent(copyEvent(event)));
  assert.ok(verifySignature(event));
});

test("sign_event_does_not_mutate_the_template", () => {
  const draft = { ...template, tags: [["t", "x"]] };
  signEvent(draft, generateSecretKey());
  assert.deepEqual(Object.keys(draft).sort(), ["content", "created_at", "kind", "tags"]);
});

test("verify_rejects_a_tampered_event_even_after_the_object_was_marked_verified", async () => {
  await initNostrCrypto();
  const event = pure.finalizeEvent({ ...template }, pure.generateSecretKey());
  // nostr-tools marked this object as verified when it signed it; a mutation must still be caught.
  event.content = "changed";
  assert.equal(verifySignature(event), false);
  assert.equal(verifySignature({ ...copyEvent(event), sig: "zz" }), false);
  assert.equal(verifySignature({ ...copyEvent(event), pubkey: "nothex" }), false);
});

test("verify_refuses_malformed_fields_without_throwing_and_agrees_with_nostr_tools", async () => {
  await initNostrCrypto();
  const event = signEvent(template, generateSecretKey());
  const flip = (hex: string, at: number): string => `${hex.slice(0, at)}${hex[at] === "0" ? "1" : "0"}${hex.slice(at + 1)}`;
  // x = 5 is not the x of any point of secp256k1.
  const offCurve = `${"0".repeat(63)}5`;
  const cases: Array<[string, ReturnType<typeof copyEvent>]> = [
    ["as signed", copyEvent(event)],
    ["sig one byte short", { ...copyEvent(event), sig: event.sig.slice(2) }],
    ["sig of another event", { ...copyEvent(event), sig: signEvent({ ...template, content: "other" }, generateSecretKey()).sig }],
    ["last sig digit changed", { ...copyEvent(event), sig: flip(event.sig, 127) }],
    ["id of other content", { ...copyEvent(event), id: flip(event.id, 0) }],
    ["tag changed", { ...copyEvent(event), tags: [["t", "other"]] }],
    ["pubkey off the curve", { ...copyEvent(event), pubkey: offCurve }],
    ["created_at changed", { ...copyEvent(event), created_at: event.created_at + 1 }],
  ];
  for (const [what, candidate] of cases) {
    const expected = what === "as signed";
    assert.equal(verifySignature(candidate), expected, what);
    assert.equal(pure.verifyEvent(copyEvent(candidate)), expected, `nostr-tools agrees: ${what}`);
  }
  // NIP-01 signatures are lowercase hex; nostr-tools also reads upper case.
  assert.equal(verifySignature({ ...copyEvent(event), sig: event.sig.toUpperCase() }), false);
});

test("event_hash_is_nostr_tools_get_event_hash", () => {
  const pubkey = getPublicKey(generateSecretKey());
  for (const content of ["", "hello", "line\nbreak \"quoted\" \\ tab\t", "ünïcødé 🦫 \u2028 \u0000"]) {
    const event = { pubkey, created_at: 1_700_000_000, kind: 9, tags: [["e", "ab".repeat(32)], ["q", "x", "", "é"]], content };
    assert.equal(eventHash(event), pure.getEventHash(event), JSON.stringify(content));
  }
});

test("prints_sign_and_verify_speed_per_backend", async () => {
  await initNostrCrypto();
  const rounds = 300;
  const secretKeys = Array.from({ length: rounds }, () => generateSecretKey());
  let started = performance.now();
  const events = secretKeys.map((secretKey, index) => signEvent({ ...template, content: `m${index}` }, secretKey));
  const wasmSign = (performance.now() - started) / rounds;
  started = performance.now();
  for (const event of events) assert.ok(verifySignature(event));
  const wasmVerify = (performance.now() - started) / rounds;

  started = performance.now();
  for (let index = 0; index < 50; index++) pure.finalizeEvent({ ...template, content: `m${index}` }, pure.generateSecretKey());
  const jsSign = (performance.now() - started) / 50;
  started = performance.now();
  for (const event of events.slice(0, 50)) assert.ok(pure.verifyEvent(copyEvent(event)));
  const jsVerify = (performance.now() - started) / 50;
  console.log(
    `nostr schnorr (fresh key per event): wasm sign ${wasmSign.toFixed(3)} ms, verify ${wasmVerify.toFixed(3)} ms; ` +
      `pure JS sign ${jsSign.toFixed(3)} ms, verify ${jsVerify.toFixed(3)} ms`,
  );
});
