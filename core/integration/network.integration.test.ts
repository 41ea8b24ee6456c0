// Real cores against real embedded relays whose set or URL changes: our KeyPackage and relay list
// follow to every relay, a saved list follows the local relay to its new URL, and a chat that cannot
// start says why.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { npubEncode } from "nostr-tools/nip19";
import type { Event } from "nostr-tools/core";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import { toUserMessage } from "../../shared/errors.js";
import { keyPackageRelayListRelays } from "../marmot/keyPackage.js";
import { RelayPool } from "../relays/pool.js";
import { AccountStore } from "../storage/accountStore.js";
import { coreIn, tempDir, waitForState } from "../testing.js";
import type { AppCore } from "../app/appCore.js";

describe("integration: relays that change", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const relays: RunningRelay[] = [];
  const pool = new RelayPool();

  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    pool.close();
    await Promise.all(relays.map((relay) => relay.close().catch(() => undefined)));
    await dir.remove();
  });

  async function relay(name: string, port = 0): Promise<RunningRelay> {
    const started = await startRelay({ port, dbPath: `${dir.path}/${name}.sqlite` });
    relays.push(started);
    return started;
  }

  /** What `url` holds of `pubkey`'s KeyPackages (443/30443) and relay lists (10051), polled until `done` or 10 s. */
  async function onRelay(url: string, pubkey: string, done: (events: Event[]) => boolean): Promise<Event[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const events = await pool.query([{ kinds: [443, 30443, 10051], authors: [pubkey] }], 1000, [url]);
      if (done(events) || Date.now() > deadline) return events;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const hasPackageAndListOf = (urls: string[]) => (events: Event[]) =>
    events.some((e) => e.kind === 443) && events.some((e) => e.kind === 30443) && [...keyPackageRelayListRelays(events)].sort().join(" ") === [...urls].sort().join(" ");

  async function signUp(core: AppCore): Promise<string> {
    await core.dispatch({ type: "CreateAccount" });
    const { state } = await waitForState(core, (s) => s.auth.status === "logged_in" && s.key_package.published, 10_000);
    return state.auth.status === "logged_in" ? state.auth.pubkey : "";
  }

  test("integration: key_package_and_relay_list_reach_a_relay_added_later", async () => {
    const first = await relay("added-first");
    const later = await relay("added-later");
    const core = await coreIn(`${dir.path}/erin`, 5, [first.url]);
    try {
      const pubkey = await signUp(core);
      assert.equal((await pool.query([{ kinds: [443, 30443, 10051], authors: [pubkey] }], 1000, [later.url])).length, 0);
      await core.dispatch({ type: "SetRelays", relays: [first.url, later.url] });
      const both = [first.url, later.url];
      const there = await onRelay(later.url, pubkey, hasPackageAndListOf(both));
      assert.ok(hasPackageAndListOf(both)(there), `the added relay holds our KeyPackage and a relay list of both: ${JSON.stringify(there.map((e) => e.kind))}`);
      const here = await onRelay(first.url, pubkey, hasPackageAndListOf(both));
      assert.ok(hasPackageAndListOf(both)(here), "the first relay's relay list names both relays");
    } finally {
      await core.close();
    }
  });

  test("integration: a_relay_that_lost_our_key_package_gets_the_same_one_again", async () => {
    const kept = await relay("kept");
    const wiped = await relay("wiped");
    const port = Number(new URL(wiped.url).port);
    const core = await coreIn(`${dir.path}/fay`, 5, [kept.url, wiped.url]);
    try {
      const pubkey = await signUp(core);
      const before = await onRelay(kept.url, pubkey, hasPackageAndListOf([kept.url, wiped.url]));
      // The relay comes back empty on the same URL while the other stays online; the core reconnects by itself.
      await wiped.close();
      relays.push(await startRelay({ port, dbPath: `${dir.path}/wiped-again.sqlite` }));
      const again = await onRelay(wiped.url, pubkey, hasPackageAndListOf([kept.url, wiped.url]));
      assert.ok(hasPackageAndListOf([kept.url, wiped.url])(again), "the emptied relay has our KeyPackage and relay list again");
      const ids = (events: Event[]) => events.filter((e) => e.kind === 443).map((e) => e.id);
      assert.deepEqual(ids(again), ids(before), "the same KeyPackage, not a fresh one");
    } finally {
      await core.close();
    }
  });

  test("integration: a_saved_relay_list_follows_the_local_relay_to_its_new_url", async () => {
    const oldLocal = await relay("old-local");
    const chosen = await relay("chosen");
    const dataDir = `${dir.path}/gus`;
    let core = await coreIn(dataDir, 5, [oldLocal.url]);
    const pubkey = await signUp(core);
    await core.dispatch({ type: "SetRelays", relays: [oldLocal.url, chosen.url] });
    await core.close();
    await oldLocal.close();

    const newLocal = await relay("new-local");
    core = await coreIn(dataDir, 5, [newLocal.url]);
    try {
      const { state } = await waitForState(core, (s) => s.settings.relays.length > 0, 10_000);
      assert.deepEqual(state.settings.relays, [chosen.url, newLocal.url], "the old local relay is replaced, the chosen one kept");
      const there = await onRelay(newLocal.url, pubkey, hasPackageAndListOf([chosen.url, newLocal.url]));
      assert.ok(hasPackageAndListOf([chosen.url, newLocal.url])(there), "the new local relay has our KeyPackage and relay list");
    } finally {
      await core.close();
    }
  });

  test("integration: a_chat_that_cannot_start_says_whether_no_relay_answered_or_the_peer_has_no_key_package", async () => {
    const only = await relay("only");
    const core = await coreIn(`${dir.path}/hal`, 5, [only.url]);
    const stranger = getPublicKey(generateSecretKey());
    const short = (hex: string) => {
      const npub = npubEncode(hex);
      return `${npub.slice(0, 12)}…${npub.slice(-6)}`;
    };
    try {
      await signUp(core);
      await core.dispatch({ type: "CreateChat", peer: npubEncode(stranger) });
      const answeredEmpty = await waitForState(core, (s) => s.toasts.some((t) => t.message.includes("No key package found")), 10_000);
      assert.ok(answeredEmpty.state.toasts.some((t) => t.message === toUserMessage("key_package_not_found", short(stranger))), JSON.stringify(answeredEmpty.state.toasts));

      await only.close();
      await core.dispatch({ type: "CreateChat", peer: npubEncode(stranger) });
      const unanswered = await waitForState(core, (s) => s.toasts.some((t) => t.message.includes("No relay answered")), 15_000);
      assert.ok(unanswered.state.toasts.some((t) => t.message === toUserMessage("no_relay_answered", short(stranger))), JSON.stringify(unanswered.state.toasts));
    } finally {
      await core.close();
    }
  });

  test("integration: a_chat_with_our_own_agent_that_is_not_running_says_so", async () => {
    const only = await relay("agent-home");
    const dataDir = `${dir.path}/ida`;
    let core = await coreIn(dataDir, 5, [only.url]);
    const pubkey = await signUp(core);
    await core.close();
    // The account's record of its agent, as the New Agent flow leaves it; the agent itself is gone.
    const agent = getPublicKey(generateSecretKey());
    const store = AccountStore.open(dataDir, pubkey);
    store.setMeta("agents", { current: agent, past: [] });
    store.close();
    core = await coreIn(dataDir, 5, [only.url]);
    try {
      await waitForState(core, (s) => s.key_package.published, 10_000);
      await core.dispatch({ type: "CreateChat", peer: npubEncode(agent) });
      const { state } = await waitForState(core, (s) => s.toasts.some((t) => t.message.includes("is your agent")), 10_000);
      const npub = npubEncode(agent);
      assert.ok(state.toasts.some((t) => t.message === toUserMessage("own_agent_no_key_package", `${npub.slice(0, 12)}…${npub.slice(-6)}`)), JSON.stringify(state.toasts));
    } finally {
      await core.close();
    }
  });
});
