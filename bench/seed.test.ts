import assert from "node:assert/strict";
import { test } from "node:test";
import { coreIn, tempDir, waitForState } from "../core/testing.js";
import { seedAccount } from "./seed.js";

test("a_core_opened_on_a_seeded_data_dir_shows_every_chat_newest_first_with_its_last_message_and_unread_count", async () => {
  const dir = await tempDir("burrow-seed-test-");
  try {
    const seeded = await seedAccount(dir.path, { chats: 60, messages: 600 });
    const core = await coreIn(dir.path);
    try {
      const { state } = await waitForState(core, (s) => s.chats.length === 60, 15_000);
      assert.deepEqual(state.auth, { status: "logged_in", npub: seeded.keys.npub, pubkey: seeded.keys.pubkey, signer: "local" });
      assert.deepEqual(
        state.chats.map((c) => c.id),
        seeded.chatIds,
      );
      assert.equal(state.chats.filter((c) => c.kind === "group").length, 12);
      assert.equal(state.chats.filter((c) => c.unread > 0).length, seeded.unreadChats);
      assert.ok(seeded.unreadChats > 0);
      for (const chat of state.chats) {
        assert.ok(chat.last_message, chat.id);
        assert.ok(chat.kind === "group" ? chat.title.length > 0 && chat.members.length >= 4 : chat.peer?.name, chat.id);
      }
      await core.dispatch({ type: "OpenChat", chat_id: seeded.chatIds[0]! });
      const opened = await waitForState(core, (s) => s.open_chat?.chat_id === seeded.chatIds[0] && (s.open_chat?.messages.length ?? 0) > 0, 5_000);
      assert.equal(opened.state.open_chat!.messages.at(-1)!.text, state.chats[0]!.last_message);
    } finally {
      await core.close();
    }
  } finally {
    await dir.remove();
  }
});
