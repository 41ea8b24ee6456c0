import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AppState, StateSnapshot } from "../../shared/state.js";
import { SnapshotStore } from "./store.js";

const snapshot = (rev: number): StateSnapshot => ({ rev, state: { login_error: `rev ${rev}` } as AppState });

describe("unit: snapshot store", () => {
  test("starts_empty_and_shows_the_newest_pushed_rev", () => {
    const store = new SnapshotStore();
    assert.equal(store.getSnapshot(), null);
    store.push(snapshot(1));
    store.push(snapshot(2));
    assert.equal(store.getSnapshot()?.rev, 2);
  });

  test("drops_a_snapshot_whose_rev_is_not_above_the_shown_one", () => {
    const store = new SnapshotStore();
    let notified = 0;
    store.subscribe(() => notified++);
    store.push(snapshot(5));
    store.push(snapshot(4));
    store.push(snapshot(5));
    assert.equal(store.getSnapshot()?.state.login_error, "rev 5");
    assert.equal(notified, 1, "a stale snapshot notifies no one");
  });

  test("after_start_over_the_first_snapshot_is_taken_whatever_its_rev_and_later_ones_are_ordered_again", () => {
    const store = new SnapshotStore();
    store.push(snapshot(40));
    store.startOver();
    assert.equal(store.getSnapshot()?.rev, 40, "starting over keeps showing the last snapshot until a new one comes");
    store.push(snapshot(1));
    assert.equal(store.getSnapshot()?.rev, 1);
    store.push(snapshot(0));
    assert.equal(store.getSnapshot()?.rev, 1);
  });

  test("an_unsubscribed_listener_is_not_called", () => {
    const store = new SnapshotStore();
    const calls: string[] = [];
    const unsubscribe = store.subscribe(() => calls.push("a"));
    store.subscribe(() => calls.push("b"));
    store.push(snapshot(1));
    unsubscribe();
    store.push(snapshot(2));
    assert.deepEqual(calls, ["a", "b", "b"]);
  });
});
