// A real core publishing its KeyPackages to the embedded relay.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { nip19 } from "nostr-tools";
import { finalizeEvent } from "nostr-tools/pure";
import type { Event } from "nostr-tools/core";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import { parseKeyPackageEvent } from "../marmot/keyPackage.js";
import { RelayPool } from "../relays/pool.js";
import { AccountStore } from "../storage/accountStore.js";
import { coreIn, tempDir, waitForState } from "../testing.js";

describe("integration: KeyPackage publication", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let pool: RelayPool;

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0, dbPath: `${dir.path}/relay.sqlite` });
    pool = new RelayPool();
    pool.setRelays([relay.url]);
  });
  after(async () => {
    pool.close();
    await relay.close();
    await dir.remove();
  });

  async function published(pubkey: string, expected: number): Promise<Event[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const events = await pool.query([{ kinds: [443, 30443], authors: [pubkey] }], 1000);
      if (events.length >= expected || Date.now() > deadline) return events;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function account(name: string) {
    const core = await coreIn(`${dir.path}/${name}`, 5, [relay.url]);
    await core.dispatch({ type: "CreateAccount" });
    const { state } = await waitForState(core, (s) => s.auth.status === "logged_in" && s.key_package.published, 10_000);
    const pubkey = state.auth.status === "logged_in" ? state.auth.pubkey : "";
    return { core, pubkey };
  }

  test("published_key_packages_carry_their_key_package_ref_as_their_one_i_tag", async () => {
    const { core, pubkey } = await account("carol");
    try {
      const events = await published(pubkey, 2);
      assert.deepEqual(events.map((e) => e.kind).sort((a, b) => a - b), [443, 30443]);
      for (const event of events) {
        const refs = event.tags.filter((tag) => tag[0] === "i");
        assert.equal(refs.length, 1, `kind ${event.kind} has one i tag`);
        assert.equal(refs[0]?.length, 2);
        assert.equal(refs[0]?.[1], (await parseKeyPackageEvent(event)).ref);
      }
    } finally {
      await core.close();
    }
  });

  test("a_key_package_published_without_i_is_replaced_at_the_next_start", async () => {
    const { core, pubkey } = await account("dave");
    const reply = await core.dispatch({ type: "ExportSecretKey", confirmed: true });
    assert.ok(reply.ok && reply.nsec);
    const decoded = nip19.decode(reply.nsec);
    assert.equal(decoded.type, "nsec");
    const secretKey = decoded.data as Uint8Array;
    const originals = await published(pubkey, 2);
    await core.close();

    // What an older Burrow published: the same KeyPackages without `i`, and the store pointing at them.
    const [older443, older30443] = [443, 30443].map((kind) => {
      const original = originals.find((e) => e.kind === kind)!;
      return finalizeEvent({ kind, created_at: original.created_at + 1, content: original.content, tags: original.tags.filter((t) => t[0] !== "i") }, secretKey);
    });
    assert.ok(older443 && older30443);
    for (const event of [older443, older30443]) assert.equal((await pool.publish(event)).accepted.length, 1);
    const ref = (await parseKeyPackageEvent(older443)).ref;
    const store = AccountStore.open(`${dir.path}/dave`, pubkey);
    store.markKeyPackagePublished(ref, { event_443_id: older443.id, event_30443_id: older30443.id }, older443.created_at);
    store.close();

    const restarted = await coreIn(`${dir.path}/dave`, 5, [relay.url]);
    try {
      await waitForState(restarted, (s) => s.auth.status === "logged_in" && s.key_package.published, 10_000);
      const events = await published(pubkey, 4);
      const fresh = events.filter((e) => e.kind === 443 && e.id !== older443.id && !originals.some((o) => o.id === e.id));
      assert.equal(fresh.length, 1, "a fresh kind 443 was published");
      const freshRefs = fresh[0]!.tags.filter((t) => t[0] === "i");
      assert.equal(freshRefs.length, 1);
      assert.notEqual(freshRefs[0]?.[1], ref);
      assert.equal(freshRefs[0]?.[1], (await parseKeyPackageEvent(fresh[0]!)).ref);
    } finally {
      await restarted.close();
    }
  });
});
