import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChatSummary } from "../../shared/state.js";
import { windowTitle } from "./windowTitle.js";

const chat = (id: string, unread: number, muted = false): ChatSummary => ({
  id,
  kind: "direct",
  title: id,
  members: [],
  peer: null,
  last_message: null,
  last_message_at: null,
  unread,
  updated_at: 0,
  agent: null,
  muted,
  left: false,
});

describe("unit: window title", () => {
  test("the_title_counts_unread_messages_of_unmuted_chats", () => {
    assert.equal(windowTitle([]), "Burrow");
    assert.equal(windowTitle([chat("a", 0)]), "Burrow");
    assert.equal(windowTitle([chat("a", 2), chat("b", 1), chat("c", 5, true)]), "(3) Burrow");
    assert.equal(windowTitle([chat("c", 5, true)]), "Burrow");
  });
});
