import assert from "node:assert/strict";
import { test } from "node:test";
import { actionTag, MAX_MESSAGE_LENGTH, MAX_SEARCH_QUERY_LENGTH, parseAction, type AppAction } from "./actions.js";

test("action_tag_never_prints_a_secret", () => {
  const secret = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5";
  const action: AppAction = { type: "Login", nsec: secret };
  assert.equal(actionTag(action), "Login");
  assert.ok(!actionTag(action).includes("nsec1"));
});

test("parse_action_accepts_each_well_formed_action", () => {
  const actions: AppAction[] = [
    { type: "CreateAccount" },
    { type: "Login", nsec: "x" },
    { type: "Logout" },
    { type: "ExportSecretKey", confirmed: true },
    { type: "SetNetworkEnabled", enabled: false },
    { type: "DismissToast", id: 3 },
  ];
  for (const action of actions) assert.deepEqual(parseAction(action), { ok: true, action });
});

test("parse_action_drops_unknown_fields", () => {
  assert.deepEqual(parseAction({ type: "Logout", extra: "x" }), { ok: true, action: { type: "Logout" } });
});

test("parse_action_refuses_malformed_input_with_a_reason", () => {
  assert.match(String((parseAction(null) as { error: string }).error), /expected an object/);
  assert.match(String((parseAction({ type: "Boom" }) as { error: string }).error), /Unknown action: Boom/);
  assert.match(String((parseAction({ type: "Login", nsec: 1 }) as { error: string }).error), /nsec must be a string/);
  assert.match(String((parseAction({ type: "X".repeat(500) }) as { error: string }).error), /^Unknown action: X{64}$/);
});

test("unit: parse_action_bounds_the_new_fields_of_contract_5", () => {
  for (const type of ["RetryAgentProbe", "DismissKeyBackup"] as const) assert.deepEqual(parseAction({ type, extra: 1 }), { ok: true, action: { type } });
  const chat = "ab".repeat(32);
  assert.deepEqual(parseAction({ type: "LeaveGroup", chat_id: chat, request_id: 7 }), { ok: true, action: { type: "LeaveGroup", chat_id: chat, request_id: 7 } });
  assert.deepEqual(parseAction({ type: "CreateChat", peer: "npub1x" }), { ok: true, action: { type: "CreateChat", peer: "npub1x" } });
  for (const request_id of [0, -1, 1.5, "7", 2 ** 31, Number.MAX_SAFE_INTEGER + 2]) {
    assert.deepEqual(parseAction({ type: "CreateChat", peer: "npub1x", request_id }), { ok: false, error: "Malformed CreateChat: request_id must be a positive integer" });
  }
  // A request_id on an action that takes none is dropped like any unknown field.
  assert.deepEqual(parseAction({ type: "OpenChat", chat_id: chat, request_id: 3 }), { ok: true, action: { type: "OpenChat", chat_id: chat } });
});

test("unit: a_message_over_the_limit_is_refused_with_a_user_facing_reason_not_cut", () => {
  const chat = "ab".repeat(32);
  const at = parseAction({ type: "SendMessage", chat_id: chat, text: "a".repeat(MAX_MESSAGE_LENGTH) });
  assert.ok(at.ok && at.action.type === "SendMessage" && at.action.text.length === MAX_MESSAGE_LENGTH);
  const over = parseAction({ type: "SendMessage", chat_id: chat, text: "a".repeat(MAX_MESSAGE_LENGTH + 1) });
  assert.equal(over.ok, false);
  assert.ok(!over.ok && over.user === true && /too long to send \(16001 characters; at most 16,000\)/.test(over.error), JSON.stringify(over).slice(0, 200));
});

test("unit: search_actions_bound_the_query_and_check_the_ids", () => {
  const chat = "ab".repeat(32);
  assert.deepEqual(parseAction({ type: "Search", query: '"fox" AND (' }), { ok: true, action: { type: "Search", query: '"fox" AND (' } });
  assert.deepEqual(parseAction({ type: "Search", query: "fox", chat_id: chat }), { ok: true, action: { type: "Search", query: "fox", chat_id: chat } });
  assert.equal(parseAction({ type: "Search", query: "x".repeat(MAX_SEARCH_QUERY_LENGTH) }).ok, true);
  assert.match(String((parseAction({ type: "Search", query: "x".repeat(MAX_SEARCH_QUERY_LENGTH + 1) }) as { error: string }).error), /at most 200/);
  assert.match(String((parseAction({ type: "Search", query: 3 }) as { error: string }).error), /query must be a string/);
  assert.match(String((parseAction({ type: "Search", query: "x", chat_id: "nope" }) as { error: string }).error), /chat_id must be 64/);
  assert.deepEqual(parseAction({ type: "OpenChat", chat_id: chat, message_id: chat }), { ok: true, action: { type: "OpenChat", chat_id: chat, message_id: chat } });
  assert.match(String((parseAction({ type: "OpenChat", chat_id: chat, message_id: "x" }) as { error: string }).error), /message_id must be 64/);
  for (const type of ["LoadMoreSearchResults", "ClearSearch"] as const) assert.deepEqual(parseAction({ type }), { ok: true, action: { type } });
  assert.equal(actionTag({ type: "Search", query: "my secret plans" }), "Search(all)");
});

test("unit: parse_action_bounds_replies_edits_deletions_and_focus", () => {
  const chat = "ab".repeat(32);
  const message = "cd".repeat(32);
  assert.deepEqual(parseAction({ type: "SendMessage", chat_id: chat, text: "hi", reply_to: message }), {
    ok: true,
    action: { type: "SendMessage", chat_id: chat, text: "hi", reply_to: message },
  });
  assert.match(String((parseAction({ type: "SendMessage", chat_id: chat, text: "hi", reply_to: "x" }) as { error: string }).error), /reply_to must be 64 lowercase hex/);
  assert.deepEqual(parseAction({ type: "EditMessage", chat_id: chat, message_id: message, text: "new" }), {
    ok: true,
    action: { type: "EditMessage", chat_id: chat, message_id: message, text: "new" },
  });
  const longest = parseAction({ type: "EditMessage", chat_id: chat, message_id: message, text: "a".repeat(MAX_MESSAGE_LENGTH) });
  assert.ok(longest.ok);
  const over = parseAction({ type: "EditMessage", chat_id: chat, message_id: message, text: "a".repeat(MAX_MESSAGE_LENGTH + 1) });
  assert.ok(!over.ok && over.user === true && /too long/.test(over.error));
  for (const text of ["", "   ", 5, undefined]) assert.equal(parseAction({ type: "EditMessage", chat_id: chat, message_id: message, text }).ok, false);
  assert.match(String((parseAction({ type: "EditMessage", chat_id: chat, message_id: "AB".repeat(32), text: "x" }) as { error: string }).error), /message_id must be/);
  for (const type of ["DeleteMessage", "FocusMessage"] as const) {
    assert.deepEqual(parseAction({ type, chat_id: chat, message_id: message, text: "dropped" }), { ok: true, action: { type, chat_id: chat, message_id: message } });
    assert.equal(parseAction({ type, chat_id: chat, message_id: message.slice(2) }).ok, false);
    assert.equal(parseAction({ type, chat_id: 7, message_id: message }).ok, false);
    assert.equal(actionTag({ type, chat_id: chat, message_id: message }), `${type}(abababab, cdcdcdcd)`);
  }
});

test("set_profile_is_bounded_and_pictures_are_http_urls", () => {
  assert.deepEqual(parseAction({ type: "SetProfile", name: " Alice ", about: "hi", picture: "https://example.org/a.png?s=1" }), {
    ok: true,
    action: { type: "SetProfile", name: "Alice", about: "hi", picture: "https://example.org/a.png?s=1" },
  });
  assert.deepEqual(parseAction({ type: "SetProfile", name: "A", about: "", picture: "" }), { ok: true, action: { type: "SetProfile", name: "A", about: "", picture: null } });
  const refused = (raw: unknown): string => {
    const parsed = parseAction(raw);
    assert.equal(parsed.ok, false);
    return (parsed as { error: string }).error;
  };
  assert.match(refused({ type: "SetProfile", name: "x".repeat(101), about: "", picture: null }), /at most 100/);
  assert.match(refused({ type: "SetProfile", name: "", about: "x".repeat(501), picture: null }), /at most 500/);
  assert.match(refused({ type: "SetProfile", name: "", about: "", picture: `https://example.org/${"x".repeat(1000)}` }), /http/);
  for (const picture of ["javascript:alert(1)", "file:///etc/passwd", "data:image/png;base64,AA", "ftp://x/y.png", "https://user@host/x.png"]) {
    assert.match(refused({ type: "SetProfile", name: "", about: "", picture }), /http/, picture);
  }
  assert.match(refused({ type: "SetProfile", name: 5, about: "", picture: null }), /Malformed SetProfile/);
  assert.match(refused({ type: "SetLoadPictures", enabled: "yes" }), /Malformed SetLoadPictures/);
  assert.deepEqual(parseAction({ type: "SetLoadPictures", enabled: true }), { ok: true, action: { type: "SetLoadPictures", enabled: true } });
});
