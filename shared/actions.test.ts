import assert from "node:assert/strict";
import { test } from "node:test";
import { actionTag, parseAction, type AppAction } from "./actions.js";

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
