import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { npubFromHex } from "../../shared/pubkeys.js";
import type { ChatSummary, OpenChatState, ProfileView } from "../../shared/state.js";
import { chatTitle, isoTime, messageTime, openChatTitle, profileName, relativeTime } from "./format.js";

const profile = (pubkey: string, name: string | null = null): ProfileView => ({ pubkey, npub: npubFromHex(pubkey), name, picture: null });
const alice = profile("a".repeat(64), "Alice");
const bob = profile("b".repeat(64), "  ");
const me = profile("c".repeat(64), "Me");

describe("unit: renderer formatting", () => {
  test("a_profile_without_a_name_shows_the_short_npub_of_12_and_6_characters", () => {
    assert.equal(profileName(alice), "Alice");
    const name = profileName(bob);
    assert.equal(name, `${bob.npub.slice(0, 12)}…${bob.npub.slice(-6)}`);
    assert.equal(name.length, 19);
  });

  test("a_chat_title_falls_back_to_the_peer_then_to_untitled", () => {
    const chat = { title: " ", peer: alice } as ChatSummary;
    assert.equal(chatTitle(chat), "Alice");
    assert.equal(chatTitle({ ...chat, title: "Trio" }), "Trio");
    assert.equal(chatTitle({ ...chat, peer: null }), "Untitled chat");
  });

  test("an_open_chat_without_a_title_is_named_by_its_members_without_us", () => {
    const chat = { title: "", members: [me, alice, bob] } as OpenChatState;
    assert.equal(openChatTitle(chat, me.pubkey), `Alice, ${profileName(bob)}`);
    assert.equal(openChatTitle({ ...chat, members: [me] }, me.pubkey), "Untitled chat");
    assert.equal(openChatTitle({ ...chat, title: "Trio" }, me.pubkey), "Trio");
  });

  test("relative_time_counts_minutes_and_hours_then_names_days", () => {
    const now = new Date(2026, 5, 15, 12, 0).getTime();
    const ago = (seconds: number): number => now / 1000 - seconds;
    assert.equal(relativeTime(ago(59), now), "now");
    assert.equal(relativeTime(ago(5 * 60), now), "5 min");
    assert.equal(relativeTime(ago(3 * 3600 + 59 * 60), now), "3 h");
    const lastYear = new Date(2025, 2, 3, 12, 0).getTime() / 1000;
    const thisYear = new Date(2026, 2, 3, 12, 0).getTime() / 1000;
    assert.match(relativeTime(lastYear, now), /2025/);
    assert.doesNotMatch(relativeTime(thisYear, now), /2026/);
  });

  test("message_time_is_the_clock_today_and_carries_the_date_otherwise", () => {
    const now = new Date(2026, 5, 15, 18, 0).getTime();
    const todayAtNine = new Date(2026, 5, 15, 9, 30).getTime() / 1000;
    const yesterdayAtNine = new Date(2026, 5, 14, 9, 30).getTime() / 1000;
    const today = messageTime(todayAtNine, now);
    const yesterday = messageTime(yesterdayAtNine, now);
    assert.ok(yesterday.endsWith(`, ${today}`), `${yesterday} ends with the clock time ${today}`);
    assert.notEqual(yesterday, `, ${today}`);
    assert.equal(isoTime(0), "1970-01-01T00:00:00.000Z");
  });
});
