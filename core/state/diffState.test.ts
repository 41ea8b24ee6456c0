// Patches against the whole state: random sequences of changes, each pushed as diffState makes it,
// folded by the receivers' applyPush, always give the live state.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareChats, type AppState, type ChatSummary, type StatePush, type StateSnapshot } from "../../shared/state.js";
import { applyPush, foldPushes } from "../../shared/statePush.js";
import { initialState } from "./appState.js";
import { diffState, jsonEqual } from "./diffState.js";

/** A small seeded generator (mulberry32), so a failing sequence can be run again. */
function random(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const chat = (id: string, updatedAt: number, unread = 0): ChatSummary =>
  Object.freeze({
    id,
    kind: "direct",
    title: `chat ${id}`,
    members: [],
    peer: null,
    last_message: null,
    last_message_at: null,
    unread,
    updated_at: updatedAt,
    agent: null,
    muted: false,
    left: false,
  });

/** One change of the live state as the core makes them: chats replaced (never changed), other fields changed in place. */
function change(live: AppState, pick: (n: number) => number, step: number): void {
  const ids = live.chats.map((c) => c.id);
  switch (pick(9)) {
    case 0: // a new chat
      live.chats = [...live.chats, chat(`n${step}`, pick(50))].sort(compareChats);
      return;
    case 1: // a chat goes
      if (ids.length) live.chats = live.chats.filter((c) => c.id !== ids[pick(ids.length)]);
      return;
    case 2: // a chat changes and moves
      if (ids.length) {
        const id = ids[pick(ids.length)]!;
        live.chats = live.chats.map((c) => (c.id === id ? chat(id, pick(50), pick(5)) : c)).sort(compareChats);
      }
      return;
    case 3: // the whole list read again: equal chats, new objects
      live.chats = live.chats.map((c) => chat(c.id, c.updated_at, c.unread));
      return;
    case 4:
      live.toasts.push({ id: step, kind: "info", message: `toast ${step}` });
      return;
    case 5:
      live.busy.creating_chat = !live.busy.creating_chat;
      return;
    case 6:
      live.open_chat = pick(3) === 0 ? null : Object.freeze({ ...openChat(), chat_id: `n${pick(5)}`, unread_at_open: pick(4) });
      return;
    case 7: {
      // A picture fetched, fetched again or no longer shown.
      const url = `https://pictures.example/${pick(4)}.png`;
      const next = { ...live.pictures };
      if (pick(3) === 0) delete next[url];
      else next[url] = `data:image/png;base64,${step}`;
      live.pictures = next;
      return;
    }
    default:
      live.login_error = pick(2) ? null : `error ${step}`;
  }
}

function openChat(): NonNullable<AppState["open_chat"]> {
  return {
    chat_id: "",
    kind: "group",
    title: "",
    description: "",
    members: [],
    admins: [],
    am_admin: false,
    muted: false,
    left: false,
    removed_by: null,
    messages: [],
    has_older: false,
    loading_older: false,
    focus_message_id: null,
    first_unread_id: null,
    unread_at_open: 0,
  };
}

test("unit: random_changes_pushed_as_patches_fold_into_the_live_state", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const pick = random(seed);
    const live = initialState({ kind: "plain_file", notice: null }, true, "");
    let pushed: StateSnapshot = { rev: 1, state: structuredClone(live) };
    const received: StateSnapshot[] = [];
    const fold = foldPushes((snapshot) => received.push(snapshot));
    fold({ rev: 1, snapshot: pushed.state });
    for (let step = 0; step < 60; step++) {
      // Several changes per push, as pushes are coalesced.
      for (let n = pick(4); n >= 0; n--) change(live, pick, step * 10 + n);
      const patch = diffState(pushed.state, live);
      if (!patch) {
        assert.deepEqual(pushed.state, live, `seed ${seed} step ${step}: no patch, yet the state changed`);
        continue;
      }
      assert.ok(!("chats" in patch.fields) && !("pictures" in patch.fields), "chats and pictures travel by key only");
      const push: StatePush = { rev: pushed.rev + 1, base_rev: pushed.rev, patch };
      // The patch crosses a process boundary as JSON.
      fold(JSON.parse(JSON.stringify(push)) as StatePush);
      pushed = applyPush(pushed, push)!;
      assert.deepEqual(pushed.state, live, `seed ${seed} step ${step}`);
      assert.deepEqual(received.at(-1), { rev: pushed.rev, state: live }, `seed ${seed} step ${step}: the receiver's fold`);
    }
  }
});

test("unit: a_patch_names_only_the_chats_that_changed_and_the_rest_keep_their_objects", () => {
  const live = initialState({ kind: "plain_file", notice: null }, true, "");
  live.chats = Array.from({ length: 100 }, (_, i) => chat(`c${i}`, 1_000 - i));
  const before = structuredClone(live);
  before.chats = live.chats;
  const moved = chat("c50", 2_000, 3);
  live.chats = [moved, ...live.chats.filter((c) => c.id !== "c50" && c.id !== "c7")];
  live.busy.updating_group = true;
  const patch = diffState(before, live);
  assert.ok(patch);
  assert.deepEqual(patch.chats, [moved]);
  assert.deepEqual(patch.removed_chats, ["c7"]);
  assert.deepEqual(Object.keys(patch.fields), ["busy"]);
  const after = applyPush({ rev: 1, state: before }, { rev: 2, base_rev: 1, patch })!;
  assert.equal(after.state.chats[0], moved);
  assert.equal(after.state.chats[1], before.chats[0], "an unnamed chat is the same object");
  assert.equal(after.state.chats.length, 99);
  // The changed field was cloned: changing the live one in place later does not reach the pushed state.
  live.busy.updating_group = false;
  assert.equal(after.state.busy.updating_group, true);
  assert.equal(diffState(after.state, after.state), null);
});

test("unit: a_patch_onto_another_rev_is_refused_and_a_whole_state_always_fits", () => {
  const state = initialState({ kind: "plain_file", notice: null }, true, "");
  const patch = { fields: { login_error: "x" }, chats: [], removed_chats: [], pictures: {} };
  assert.equal(applyPush({ rev: 3, state }, { rev: 5, base_rev: 4, patch }), null);
  assert.equal(applyPush(null, { rev: 5, base_rev: 4, patch }), null);
  assert.deepEqual(applyPush({ rev: 3, state }, { rev: 4, base_rev: 3, patch })?.state.login_error, "x");
  assert.deepEqual(applyPush({ rev: 9, state }, { rev: 2, snapshot: state }), { rev: 2, state });
  let gaps = 0;
  const seen: number[] = [];
  const fold = foldPushes((s) => seen.push(s.rev), () => (gaps += 1));
  fold({ rev: 5, base_rev: 4, patch });
  fold({ rev: 6, base_rev: 5, patch });
  assert.equal(gaps, 1, "asked once until a whole state comes");
  fold({ rev: 4, snapshot: state });
  fold({ rev: 5, base_rev: 4, patch });
  fold({ rev: 7, base_rev: 6, patch });
  assert.deepEqual([seen, gaps], [[4, 5], 2]);
});

test("unit: json_equal_compares_values_not_identity", () => {
  assert.ok(jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] }));
  assert.ok(!jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: 0 }] }));
  assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!jsonEqual({ a: 1, c: 2 }, { a: 1, b: 2 }));
  assert.ok(!jsonEqual([1], { 0: 1 }));
  assert.ok(!jsonEqual(null, {}));
});
