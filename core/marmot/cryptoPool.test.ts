import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Worker } from "node:worker_threads";
import { verifiedSymbol } from "nostr-tools/pure";
import { CryptoPool, hasValidSignature } from "./cryptoPool.js";
import { generateSecretKey, initNostrCrypto, signEvent, verifySignature, type NostrEvent } from "./nostrCrypto.js";

await initNostrCrypto();

function events(count: number): NostrEvent[] {
  const key = generateSecretKey();
  return Array.from({ length: count }, (_, i) => {
    const event = signEvent({ kind: 445, created_at: 1_700_000_000 + i, tags: [["h", "ab".repeat(32)]], content: `message ${i}` }, key);
    // Every third event is tampered with in a different way: content, signature, id.
    if (i % 3 === 1) return { ...event, content: `${event.content}!` };
    if (i % 3 === 2) return { ...event, sig: event.sig.replace(/^./, (c) => (c === "0" ? "1" : "0")) };
    return event;
  });
}

const pools: CryptoPool[] = [];
function pool(options: ConstructorParameters<typeof CryptoPool>[0]): CryptoPool {
  const created = new CryptoPool(options);
  pools.push(created);
  return created;
}
after(() => Promise.all(pools.map((p) => p.close())));

test("verify answers each event in order, split over the workers, as verifySignature does", async () => {
  const batch = events(200);
  const expected = batch.map((event) => verifySignature(event));
  assert.equal(expected.filter(Boolean).length, 67);
  assert.deepEqual(await pool({ size: 2, minPart: 8 }).verify(batch), expected);
});

test("signFresh signs each template with a key of its own, in order, also where a worker dies", async () => {
  const templates = Array.from({ length: 48 }, (_, i) => ({ kind: 445, created_at: 1_700_000_000, tags: [["h", "ab".repeat(32)]], content: `m${i}` }));
  const dying = pool({ size: 2, minPart: 8, spawn: () => new Worker("process.exit(3)", { eval: true }) });
  for (const signer of [pool({ size: 2, minPart: 8 }), dying, pool({ size: 0 })]) {
    const signed = await signer.signFresh(templates);
    assert.deepEqual(signed.map((event) => event.content), templates.map((t) => t.content));
    assert.ok(signed.every((event) => verifySignature(event) && event.kind === 445 && event.tags[0]?.[1] === "ab".repeat(32)));
    assert.equal(new Set(signed.map((event) => event.pubkey)).size, templates.length, "no key signs twice");
  }
});

test("a worker that dies loses nothing: its jobs are answered on the calling thread", async () => {
  let spawned = 0;
  const dying = pool({
    size: 2,
    minPart: 8,
    spawn: () => {
      spawned += 1;
      return new Worker("process.exit(3)", { eval: true });
    },
  });
  const batch = events(64);
  assert.deepEqual(await dying.verify(batch), batch.map((event) => verifySignature(event)));
  assert.deepEqual(await dying.verify(batch.slice(0, 20)), batch.slice(0, 20).map((event) => verifySignature(event)));
  assert.ok(spawned >= 2);
});

test("where workers cannot start, or the pool has none, the work runs here", async () => {
  const batch = events(30);
  const expected = batch.map((event) => verifySignature(event));
  const refused = pool({ size: 2, spawn: () => { throw new Error("no threads"); } });
  assert.deepEqual(await refused.verify(batch), expected);
  assert.deepEqual(await pool({ size: 0 }).verify(batch), expected);
  const closed = pool({ size: 1 });
  await closed.close();
  assert.deepEqual(await closed.verify(batch), expected);
  assert.deepEqual(await closed.verify([]), []);
});

test("checkSignatures gives frozen copies of the good events, in order, and null for the others", async () => {
  const batch = events(60);
  const checked = await pool({ size: 2, minPart: 8 }).checkSignatures([...batch, { tags: "not a list" } as unknown as NostrEvent]);
  assert.equal(checked.length, 61);
  assert.equal(checked.at(-1), null);
  batch.forEach((event, i) => {
    const copy = checked[i];
    if (!verifySignature(event)) return assert.equal(copy, null, `event ${i} is refused`);
    assert.ok(copy, `event ${i} is good`);
    assert.notEqual(copy, event);
    assert.deepEqual(copy, event);
    assert.equal(hasValidSignature(copy), true);
    assert.throws(() => {
      (copy as { content: string }).content = "changed after the check";
    }, TypeError);
    assert.throws(() => copy.tags[0]!.push("x"), TypeError);
  });
});

test("only the pool's check marks an event good: a copy, or a mark a relay or library could set, is checked again", async () => {
  const [good] = await pool({ size: 1 }).checkSignatures(events(1));
  assert.ok(good);
  assert.equal(hasValidSignature({ ...good, content: `${good.content}!` }), false);
  const forged = { ...good, sig: `${good.sig[0] === "0" ? "1" : "0"}${good.sig.slice(1)}`, verified: true } as NostrEvent;
  (forged as unknown as Record<symbol, boolean>)[verifiedSymbol] = true;
  assert.equal(hasValidSignature(forged), false);
  assert.equal(hasValidSignature({ ...good, tags: good.tags.map((tag) => [...tag]) }), true, "an unmarked good event is checked, and passes");
});

test("warmUp starts every worker once, and the batches that follow use them", async () => {
  let spawned = 0;
  const spawn = (): Worker => {
    spawned += 1;
    return new Worker(new URL("./cryptoWorker.js", import.meta.url));
  };
  const warm = pool({ size: 2, minPart: 8, spawn });
  warm.warmUp();
  assert.equal(spawned, 2);
  warm.warmUp();
  const batch = events(40);
  assert.deepEqual(await warm.verify(batch), batch.map((event) => verifySignature(event)));
  assert.equal(spawned, 2);

  const closed = pool({ size: 2, spawn });
  await closed.close();
  closed.warmUp();
  assert.equal(spawned, 2);
});
