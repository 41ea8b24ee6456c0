// Two real cores, real MLS, the embedded relay: received messages are searchable, paged, and open in their chat.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { AppState } from "../../shared/state.js";
import type { AppCore } from "../app/appCore.js";
import { SEARCH_PAGE_SIZE } from "../features/search/search.js";
import { coreIn, tempDir, waitForState } from "../testing.js";

const PAGE = 10;
const NEEDLES = SEARCH_PAGE_SIZE + 5;

const npubOf = (state: AppState): string => (state.auth.status === "logged_in" ? state.auth.npub : "");

async function loggedInCore(dir: string, relays: string[]): Promise<AppCore> {
  const core = await coreIn(dir, 5, relays, { messagePageSize: PAGE });
  await core.dispatch({ type: "CreateAccount" });
  await waitForState(core, (s) => s.auth.status === "logged_in" && s.key_package.published, 10_000);
  return core;
}

describe("search over the embedded relay", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let alice: AppCore;
  let bob: AppCore;
  let chatId: string;

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0, dbPath: `${dir.path}/relay.sqlite` });
    alice = await loggedInCore(`${dir.path}/alice`, [relay.url]);
    bob = await loggedInCore(`${dir.path}/bob`, [relay.url]);
    await alice.dispatch({ type: "CreateChat", peer: npubOf(bob.snapshot().state) });
    chatId = (await waitForState(alice, (s) => s.open_chat !== null && !s.busy.creating_chat, 10_000)).state.open_chat!.chat_id;
    const invite = (await waitForState(bob, (s) => s.invites.length === 1, 10_000)).state.invites[0]!;
    await bob.dispatch({ type: "AcceptInvite", invite_id: invite.id });
    await waitForState(bob, (s) => s.chats.some((c) => c.id === chatId), 10_000);
    await bob.dispatch({ type: "CloseChat" });
  });
  after(async () => {
    await alice.close();
    await bob.close();
    await relay.close();
    await dir.remove();
  });

  test("integration: received_messages_become_searchable_while_a_search_is_shown_and_arrive_paged", async () => {
    assert.deepEqual(await bob.dispatch({ type: "Search", query: "needle" }), { ok: true });
    const empty = await waitForState(bob, (s) => s.search !== null, 5_000);
    assert.deepEqual(empty.state.search, { query: "needle", scope: "all", results: [], has_more: false });
    for (let i = 0; i < NEEDLES; i++) {
      await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: `haystack ${i} with a needle inside` });
      if (i % 5 === 0) await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: `just hay ${i}` });
    }
    const newest = `haystack ${NEEDLES - 1} with a `;
    const first = await waitForState(bob, (s) => s.search?.results[0]?.snippet[0]?.text === newest, 60_000);
    const results = first.state.search!.results;
    assert.equal(results.length, SEARCH_PAGE_SIZE);
    assert.equal(first.state.search?.has_more, true);
    assert.ok(results.every((r) => r.chat_id === chatId && !r.mine && r.sender.npub === npubOf(alice.snapshot().state)));
    assert.deepEqual(results[0]?.snippet, [{ text: newest, match: false }, { text: "needle", match: true }, { text: " inside", match: false }]);
    assert.ok(results.every((r, i) => i === 0 || results[i - 1]!.created_at >= r.created_at));

    await bob.dispatch({ type: "LoadMoreSearchResults" });
    const all = (await waitForState(bob, (s) => s.search?.results.length === NEEDLES, 10_000)).state.search!;
    assert.equal(all.has_more, false);
    assert.equal(new Set(all.results.map((r) => r.message_id)).size, NEEDLES);
  });

  test("integration: a_result_opens_its_chat_with_the_window_grown_to_the_message", async () => {
    await bob.dispatch({ type: "Search", query: "needle", chat_id: chatId });
    await bob.dispatch({ type: "LoadMoreSearchResults" });
    const search = (await waitForState(bob, (s) => s.search?.scope === chatId && s.search.results.length === NEEDLES, 10_000)).state.search!;
    const oldest = search.results.at(-1)!;
    assert.deepEqual(await bob.dispatch({ type: "OpenChat", chat_id: chatId, message_id: oldest.message_id }), { ok: true });
    const open = (await waitForState(bob, (s) => s.open_chat?.focus_message_id === oldest.message_id, 10_000)).state.open_chat!;
    assert.ok(open.messages.some((m) => m.id === oldest.message_id));
    assert.ok(open.messages.length > PAGE);
    // Opening the open chat again singles out no message and keeps its window (the reader's place).
    await bob.dispatch({ type: "OpenChat", chat_id: chatId });
    const plain = (await waitForState(bob, (s) => s.open_chat?.focus_message_id === null, 10_000)).state.open_chat!;
    assert.ok(plain.messages.some((m) => m.id === oldest.message_id));
    await bob.dispatch({ type: "CloseChat" });
    await bob.dispatch({ type: "OpenChat", chat_id: chatId });
    const fresh = (await waitForState(bob, (s) => s.open_chat?.chat_id === chatId && s.open_chat.messages.length === PAGE, 10_000)).state.open_chat!;
    assert.equal(fresh.focus_message_id, null);
  });

  test("integration: any_query_text_is_searched_as_text_and_a_wrong_scope_is_refused", async () => {
    for (const query of ['"needle', "needle AND (", "*", "NEAR(needle", "-needle"]) {
      assert.deepEqual(await bob.dispatch({ type: "Search", query }), { ok: true }, query);
    }
    const last = (await waitForState(bob, (s) => s.search?.query === "-needle", 5_000)).state;
    assert.equal(last.search?.results.length, SEARCH_PAGE_SIZE);
    assert.deepEqual(last.toasts, []);
    const refused = await bob.dispatch({ type: "Search", query: "needle", chat_id: "f".repeat(64) });
    assert.equal(refused.ok, false);
    await bob.dispatch({ type: "ClearSearch" });
    await waitForState(bob, (s) => s.search === null, 5_000);
  });
});
