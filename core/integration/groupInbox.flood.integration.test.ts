// Integration: real cores, real MLS, the embedded relay. Anyone who knows a group's public `h` tag can
// publish junk kind 445 events for it; until its commit arrives, a real next-epoch message looks just
// like that junk. A flood must not push real messages out, also across a restart.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Event } from "nostr-tools/core";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { AppState } from "../../shared/state.js";
import type { AppCore, LogLine } from "../app/appCore.js";
import { generateSecretKey, signEvent } from "../marmot/index.js";
import { RelayPool } from "../relays/pool.js";
import { coreIn, skewedClock, tempDir, waitForState } from "../testing.js";

const JUNK = 5_000;
const REAL = 5;
// A short resume margin, so a cursor that passed held input would really lose it at a restart.
const TIMINGS = { inputReportEveryMs: 50, resumeMarginSec: 5 };

const auth = (state: AppState): { npub: string; pubkey: string } =>
  state.auth.status === "logged_in" ? { npub: state.auth.npub, pubkey: state.auth.pubkey } : { npub: "", pubkey: "" };

interface Reports {
  lines: LogLine[];
  last(): { held: number; refused: number; dropped_undecryptable: number; rejected: number } | null;
}

async function account(dir: string, relays: string[], reports: Reports, clock = skewedClock()): Promise<AppCore> {
  const log = (line: LogLine): void => {
    if (line.event === "group_input_report") reports.lines.push(line);
  };
  const core = await coreIn(dir, 5, relays, TIMINGS, undefined, { log, clock });
  if (core.snapshot().state.auth.status !== "logged_in") await core.dispatch({ type: "CreateAccount" });
  await waitForState(core, (s) => s.auth.status === "logged_in" && s.key_package.published && s.network.status === "online", 15_000);
  return core;
}

function reportsOf(): Reports {
  const lines: LogLine[] = [];
  return { lines, last: () => (lines.at(-1) as unknown as ReturnType<Reports["last"]>) ?? null };
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function publishAll(pool: RelayPool, events: Event[]): Promise<void> {
  for (let i = 0; i < events.length; i += 250) {
    const outcomes = await Promise.all(events.slice(i, i + 250).map((event) => pool.publish(event)));
    assert.ok(outcomes.every((o) => o.accepted.length === 1), "the relay accepts every event");
  }
}

/** Valid Nostr events for the group's `h` tag whose content opens under no key: what any stranger can send. */
function junkFor(groupId: string, count: number, createdAt: number): Event[] {
  return Array.from({ length: count }, () =>
    signEvent({ kind: 445, created_at: createdAt, tags: [["h", groupId]], content: randomBytes(640).toString("base64") }, generateSecretKey()),
  );
}

describe("integration: a junk flood does not push out real messages", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let shared: RunningRelay;
  const cores = new Set<AppCore>();

  before(async () => {
    dir = await tempDir("burrow-flood-");
    shared = await startRelay({ port: 0 });
  });
  after(async () => {
    for (const core of cores) await core.close();
    await shared.close();
    await dir.remove();
  });

  for (const restart of [false, true]) {
    test(restart ? "five_held_messages_arrive_after_5000_junk_events_and_a_restart_before_their_commit" : "five_held_messages_arrive_after_5000_junk_events", async () => {
      const name = restart ? "restart" : "live";
      const bobRelay = await startRelay({ port: 0, maxFutureSeconds: 3_600 });
      const relaysToClose = [bobRelay];
      const alicePool = new RelayPool();
      alicePool.setRelays([shared.url]);
      const bobPool = new RelayPool();
      bobPool.setRelays([bobRelay.url]);
      const reports = reportsOf();
      try {
        const alice = await account(`${dir.path}/${name}-alice`, [shared.url], reportsOf());
        cores.add(alice);
        let bob = await account(`${dir.path}/${name}-bob`, [shared.url], reports);
        cores.add(bob);
        // Carol's clock is a minute fast: her message, applied by Bob, moves his cursor past the held input.
        const carol = await account(`${dir.path}/${name}-carol`, [shared.url], reportsOf(), skewedClock(60_000));
        cores.add(carol);

        const members = [bob, carol].map((core) => auth(core.snapshot().state).npub);
        await alice.dispatch({ type: "CreateGroup", name: "Flooded", description: "", members });
        const created = await waitForState(alice, (s) => s.open_chat !== null && !s.busy.updating_group, 15_000);
        const groupId = created.state.open_chat!.chat_id;
        for (const member of [bob, carol]) {
          const invited = await waitForState(member, (s) => s.invites.length === 1, 15_000);
          await member.dispatch({ type: "AcceptInvite", invite_id: invited.state.invites[0]!.id });
          await waitForState(member, (s) => s.open_chat?.chat_id === groupId, 15_000);
        }

        // From now on Bob and Carol read only relays of their own; the test decides what reaches Bob, and in which order.
        const carolRelay = await startRelay({ port: 0, maxFutureSeconds: 3_600 });
        relaysToClose.push(carolRelay);
        for (const [core, relay] of [[bob, bobRelay], [carol, carolRelay]] as const) {
          await core.dispatch({ type: "SetRelays", relays: [relay.url] });
          await waitForState(core, (s) => s.network.status === "online" && s.network.relays.every((r) => r.url === relay.url), 10_000);
        }

        const groupEvents = async (): Promise<Event[]> => alicePool.query([{ kinds: [445], "#h": [groupId] }], 2_000);
        const known = new Set((await groupEvents()).map((e) => e.id));
        await alice.dispatch({ type: "RenameGroup", chat_id: groupId, name: "Flooded, renamed", description: "" });
        await waitForState(alice, (s) => s.open_chat?.title === "Flooded, renamed" && !s.busy.updating_group, 15_000);
        const commit = (await groupEvents()).filter((e) => !known.has(e.id));
        assert.equal(commit.length, 1, "one commit");
        known.add(commit[0]!.id);
        const texts = Array.from({ length: REAL }, (_, i) => `real message ${i + 1}`);
        for (const text of texts) await alice.dispatch({ type: "SendMessage", chat_id: groupId, text });
        await waitForState(alice, (s) => texts.every((t) => s.open_chat?.messages.some((m) => m.text === t && m.status === "sent")), 15_000);
        const real = (await groupEvents()).filter((e) => !known.has(e.id));
        assert.equal(real.length, REAL);

        // The flood first (older than the real messages, so it is held first), then the real messages.
        const oldest = Math.min(...real.map((e) => e.created_at)) - 2;
        await publishAll(bobPool, junkFor(groupId, JUNK, oldest));
        await publishAll(bobPool, real);
        await until(() => (reports.last()?.held ?? 0) + (reports.last()?.refused ?? 0) >= JUNK + REAL, 60_000, "bob to hold or refuse the whole flood");
        assert.ok((reports.last()?.refused ?? 0) > 0, "holding is bounded: part of the flood was refused");

        // Carol has not seen the commit: her message of the old epoch opens for Bob at once, a minute "later".
        const carolPool = new RelayPool();
        carolPool.setRelays([carolRelay.url]);
        const carolKnown = new Set((await carolPool.query([{ kinds: [445], "#h": [groupId] }], 2_000)).map((e) => e.id));
        await carol.dispatch({ type: "SendMessage", chat_id: groupId, text: "carol, still in the old epoch" });
        await waitForState(carol, (s) => s.open_chat?.messages.some((m) => m.text === "carol, still in the old epoch" && m.status === "sent") ?? false, 15_000);
        const carolEvents = (await carolPool.query([{ kinds: [445], "#h": [groupId] }], 2_000)).filter((e) => !carolKnown.has(e.id));
        carolPool.close();
        await publishAll(bobPool, carolEvents);
        await waitForState(bob, (s) => s.chats.some((c) => c.id === groupId && c.last_message === "carol, still in the old epoch"), 15_000);

        if (restart) {
          await bob.close();
          cores.delete(bob);
          reports.lines.length = 0;
          bob = await account(`${dir.path}/${name}-bob`, [bobRelay.url], reports);
          cores.add(bob);
          // The cursor did not pass the held input: after the restart it is all fetched again.
          await until(() => (reports.last()?.held ?? 0) + (reports.last()?.refused ?? 0) >= JUNK + REAL, 60_000, "bob to fetch the held input again");
        }

        await publishAll(bobPool, commit);
        await bob.dispatch({ type: "OpenChat", chat_id: groupId });
        const { state } = await waitForState(bob, (s) => texts.every((t) => s.open_chat?.messages.some((m) => m.text === t)), 60_000);
        assert.equal(state.open_chat?.title, "Flooded, renamed");
        assert.equal(state.open_chat?.messages.filter((m) => m.kind === "text" && texts.includes(m.text)).length, REAL, "every real message once");
      } finally {
        alicePool.close();
        bobPool.close();
        for (const relay of relaysToClose) await relay.close();
      }
    });
  }
});
