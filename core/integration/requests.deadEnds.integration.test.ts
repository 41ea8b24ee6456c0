// Integration: real cores over the embedded relay, checked for the dead ends of issue 12 — who did
// what in a group's lines and its member count, long messages refused (never cut), and each form's
// request answered in its own outcome instead of a toast, while info toasts leave by themselves.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import { MAX_MESSAGE_LENGTH } from "../../shared/actions.js";
import { npubFromHex } from "../../shared/pubkeys.js";
import type { AppState } from "../../shared/state.js";
import type { AppCore } from "../app/appCore.js";
import { generateKeys } from "../base/keys.js";
import { coreIn, tempDir, waitForState, withAccount } from "../testing.js";

const pubkeyOf = (core: AppCore): string => {
  const auth = core.snapshot().state.auth;
  return auth.status === "logged_in" ? auth.pubkey : "";
};
/** How the core names someone without a profile (account.ts shortNpub). */
const nameOf = (core: AppCore): string => {
  const npub = npubFromHex(pubkeyOf(core));
  return `${npub.slice(0, 12)}…${npub.slice(-6)}`;
};
const systemLines = (state: AppState): string[] => state.open_chat?.messages.filter((m) => m.kind === "system").map((m) => m.text) ?? [];

describe("integration: no silent dead ends (real cores, embedded relay)", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  const cores: Record<string, AppCore> = {};

  const join = async (name: string, groupId: string) => {
    const core = cores[name]!;
    const invited = await waitForState(core, (s) => s.invites.length > 0, 15_000);
    await core.dispatch({ type: "AcceptInvite", invite_id: invited.state.invites[0]!.id });
    await waitForState(core, (s) => s.open_chat?.chat_id === groupId, 15_000);
  };

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0 });
    for (const name of ["alice", "bob", "carol", "dave"]) {
      cores[name] = await coreIn(`${dir.path}/${name}`, 5, [relay.url], { infoToastMs: 300 });
      await withAccount(cores[name]);
    }
  });
  after(async () => {
    for (const core of Object.values(cores)) await core.close();
    await relay.close();
    await dir.remove();
  });

  test("membership_lines_say_who_left_and_who_removed_whom_with_the_right_counts", async () => {
    const [alice, bob, carol, dave] = (["alice", "bob", "carol", "dave"] as const).map((n) => cores[n]!) as [AppCore, AppCore, AppCore, AppCore];
    await alice.dispatch({ type: "CreateGroup", name: "Four", description: "", members: [bob, carol, dave].map(pubkeyOf), admins: [pubkeyOf(carol)] });
    const created = await waitForState(alice, (s) => s.open_chat?.kind === "group" && !s.busy.updating_group, 20_000);
    const groupId = created.state.open_chat!.chat_id;
    for (const name of ["bob", "carol", "dave"]) await join(name, groupId);

    // Bob leaves; Alice (an admin) commits his leave. Nobody reads "You removed Bob".
    await bob.dispatch({ type: "LeaveGroup", chat_id: groupId });
    const bobLeft = await waitForState(bob, (s) => s.open_chat?.left === true, 15_000);
    assert.equal(bobLeft.state.open_chat!.removed_by, null);
    assert.ok(systemLines(bobLeft.state).includes("You left the group"), systemLines(bobLeft.state).join(" | "));
    for (const core of [alice, carol, dave]) {
      const { state } = await waitForState(core, (s) => s.open_chat?.members.length === 3, 15_000);
      const lines = systemLines(state);
      assert.ok(lines.includes(`${nameOf(bob)} left`), lines.join(" | "));
      assert.ok(!lines.some((line) => / removed /.test(line)), lines.join(" | "));
    }
    assert.deepEqual(new Set(bob.snapshot().state.open_chat!.members.map((m) => m.pubkey)), new Set([alice, carol, dave].map(pubkeyOf)), "Bob's count is of those still in it");

    // Alice removes Dave: Carol reads who removed whom, Dave reads that Alice removed him.
    await alice.dispatch({ type: "RemoveMember", chat_id: groupId, member: pubkeyOf(dave) });
    const daveOut = await waitForState(dave, (s) => s.open_chat?.left === true, 15_000);
    assert.equal(daveOut.state.open_chat!.removed_by?.pubkey, pubkeyOf(alice));
    assert.ok(systemLines(daveOut.state).includes(`You were removed by ${nameOf(alice)}`), systemLines(daveOut.state).join(" | "));
    assert.deepEqual(new Set(daveOut.state.open_chat!.members.map((m) => m.pubkey)), new Set([alice, carol].map(pubkeyOf)));
    const carolSees = await waitForState(carol, (s) => s.open_chat?.members.length === 2, 15_000);
    assert.ok(systemLines(carolSees.state).includes(`${nameOf(alice)} removed ${nameOf(dave)}`), systemLines(carolSees.state).join(" | "));
    const aliceSees = await waitForState(alice, (s) => s.open_chat?.members.length === 2 && !s.busy.updating_group, 15_000);
    assert.ok(systemLines(aliceSees.state).includes(`You removed ${nameOf(dave)}`), systemLines(aliceSees.state).join(" | "));

    // Two admins change the group at once: the loser's info toast goes away by itself.
    await Promise.all([
      alice.dispatch({ type: "RenameGroup", chat_id: groupId, name: "Alice's", description: "" }),
      carol.dispatch({ type: "RenameGroup", chat_id: groupId, name: "Carol's", description: "" }),
    ]);
    const raced = await Promise.race(
      [alice, carol].map((core) => waitForState(core, (s) => s.toasts.some((t) => t.kind === "info"), 15_000).then(() => core)),
    );
    await waitForState(raced, (s) => !s.toasts.some((t) => t.kind === "info"), 3_000);
  });

  test("a_message_over_the_limit_is_refused_whole_and_one_at_the_limit_arrives_whole", async () => {
    const [alice, bob] = [cores["alice"]!, cores["bob"]!];
    await alice.dispatch({ type: "CreateChat", peer: pubkeyOf(bob) });
    const opened = await waitForState(alice, (s) => s.open_chat?.kind === "direct" && !s.busy.creating_chat, 20_000);
    const chatId = opened.state.open_chat!.chat_id;
    const invited = await waitForState(bob, (s) => s.invites.length > 0, 15_000);
    await bob.dispatch({ type: "AcceptInvite", invite_id: invited.state.invites[0]!.id });
    await waitForState(bob, (s) => s.open_chat?.chat_id === chatId, 15_000);

    const pasted = "x".repeat(20_000);
    const refused = await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: pasted });
    assert.equal(refused.ok, false);
    assert.match(!refused.ok ? refused.error : "", /too long to send \(20000 characters; at most 16,000\)/);
    const toasted = await waitForState(alice, (s) => s.toasts.some((t) => /too long to send/.test(t.message)));
    assert.ok(!toasted.state.toasts.some((t) => /does not understand/.test(t.message)), "said as a limit, not as a malformed request");
    assert.ok(!toasted.state.open_chat!.messages.some((m) => m.text.startsWith("xxx")), "nothing of it was sent");

    const longest = "y".repeat(MAX_MESSAGE_LENGTH);
    assert.deepEqual(await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: longest }), { ok: true });
    const received = await waitForState(bob, (s) => s.open_chat?.messages.some((m) => m.text.startsWith("yyy")) ?? false, 15_000);
    assert.equal(received.state.open_chat!.messages.find((m) => m.text.startsWith("yyy"))!.text.length, MAX_MESSAGE_LENGTH);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(!bob.snapshot().state.open_chat!.messages.some((m) => m.text.startsWith("xxx")));
  });

  test("a_forms_request_gets_its_own_outcome_and_no_toast", async () => {
    const carol = cores["carol"]!;
    const before = carol.snapshot().state.toasts.length;
    // Refused at once: the reply and the outcome carry the error; nothing is toasted.
    const own = await carol.dispatch({ type: "CreateChat", peer: pubkeyOf(carol), request_id: 41 });
    assert.equal(own.ok, false);
    const refused = await waitForState(carol, (s) => s.outcomes.some((o) => o.request_id === 41));
    assert.deepEqual(refused.state.outcomes.find((o) => o.request_id === 41), { request_id: 41, error: "That is your own key. Enter someone else's npub." });
    // Failing later (nobody published a KeyPackage for this key): the outcome again, not a toast.
    const stranger = generateKeys().pubkey;
    assert.deepEqual(await carol.dispatch({ type: "CreateChat", peer: stranger, request_id: 42 }), { ok: true });
    const failed = await waitForState(carol, (s) => s.outcomes.some((o) => o.request_id === 42), 15_000);
    assert.ok(failed.state.outcomes.find((o) => o.request_id === 42)!.error, "the failure is said");
    assert.equal(failed.state.busy.creating_chat, false);
    assert.equal(failed.state.toasts.length, before, "no toast repeats what the form shows");
    // The same request without an id (no form to show it) is toasted as before.
    await carol.dispatch({ type: "CreateChat", peer: pubkeyOf(carol) });
    await waitForState(carol, (s) => s.toasts.some((t) => t.kind === "error" && /your own key/.test(t.message)));
  });
});
