import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { npubFromHex } from "../../shared/pubkeys.js";
import type { MessageView, ProfileView } from "../../shared/state.js";
import { dayLabel, GROUP_GAP_SECONDS, layoutMessages, newMessagesText } from "./messageLayout.js";

const profile = (pubkey: string): ProfileView => ({ pubkey, npub: npubFromHex(pubkey), name: null, picture: null });
const alice = profile("a".repeat(64));
const bob = profile("b".repeat(64));

/** Unix seconds of a local date and time, whatever the machine's time zone. */
const at = (year: number, month: number, day: number, hour: number, minute = 0): number => new Date(year, month - 1, day, hour, minute).getTime() / 1000;

let next = 0;
const message = (sender: ProfileView, created_at: number, kind: MessageView["kind"] = "text"): MessageView => ({
  id: `m${next++}`,
  kind,
  sender,
  mine: false,
  text: "hi",
  created_at,
  status: "received",
  error: null,
  reactions: [],
  edited: false,
  deleted: false,
  reply_to: null,
});

const now = new Date(2026, 5, 10, 12).getTime();

describe("unit: message list layout", () => {
  test("day_labels_say_today_yesterday_the_weekday_then_the_date", () => {
    assert.equal(dayLabel(at(2026, 6, 10, 0, 1), now), "Today");
    assert.equal(dayLabel(at(2026, 6, 9, 23, 59), now), "Yesterday");
    const weekday = new Intl.DateTimeFormat(undefined, { weekday: "long" }).format(new Date(2026, 5, 5));
    assert.equal(dayLabel(at(2026, 6, 5, 8), now), weekday);
    const older = dayLabel(at(2026, 6, 3, 8), now);
    assert.notEqual(older, new Intl.DateTimeFormat(undefined, { weekday: "long" }).format(new Date(2026, 5, 3)));
    assert.doesNotMatch(older, /2026/, "this year's dates leave the year out");
    assert.match(dayLabel(at(2025, 12, 31, 8), now), /2025/);
  });

  test("a_date_line_opens_the_list_and_every_day_that_differs_from_the_one_before", () => {
    const messages = [message(alice, at(2026, 6, 9, 22)), message(alice, at(2026, 6, 9, 23)), message(bob, at(2026, 6, 10, 1)), message(bob, at(2026, 6, 10, 9))];
    assert.deepEqual(
      layoutMessages(messages, null, now).map((row) => row.day),
      ["Yesterday", null, "Today", null],
    );
  });

  test("one_senders_messages_within_a_few_minutes_form_a_group_broken_by_another_sender_a_gap_or_a_new_day", () => {
    const start = at(2026, 6, 10, 9);
    const messages = [
      message(alice, start),
      message(alice, start + 60),
      message(alice, start + 60 + GROUP_GAP_SECONDS),
      message(alice, start + 61 + 2 * GROUP_GAP_SECONDS),
      message(bob, start + 62 + 2 * GROUP_GAP_SECONDS),
      message(alice, start + 63 + 2 * GROUP_GAP_SECONDS),
      message(alice, start + 64 + 2 * GROUP_GAP_SECONDS, "system"),
      message(alice, start + 65 + 2 * GROUP_GAP_SECONDS),
    ];
    assert.deepEqual(
      layoutMessages(messages, null, now).map((row) => row.groupStart),
      [true, false, false, true, true, true, true, true],
    );
    const aroundMidnight = [message(alice, at(2026, 6, 9, 23, 59)), message(alice, at(2026, 6, 10, 0, 1))];
    assert.deepEqual(
      layoutMessages(aroundMidnight, null, now).map((row) => row.groupStart),
      [true, true],
    );
  });

  test("the_new_messages_divider_sits_above_the_first_unread_and_starts_a_group", () => {
    const start = at(2026, 6, 10, 9);
    const messages = [message(alice, start), message(alice, start + 10), message(alice, start + 20)];
    const rows = layoutMessages(messages, messages[1]!.id, now);
    assert.deepEqual(
      rows.map((row) => [row.newDivider, row.groupStart]),
      [
        [false, true],
        [true, true],
        [false, false],
      ],
    );
    assert.deepEqual(
      layoutMessages(messages, "not-shown", now).map((row) => row.newDivider),
      [false, false, false],
    );
  });

  test("the_divider_counts_new_messages", () => {
    assert.equal(newMessagesText(1), "1 new message");
    assert.equal(newMessagesText(4), "4 new messages");
  });
});
