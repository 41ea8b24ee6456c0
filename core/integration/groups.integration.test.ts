// A group of five real cores over the embedded relay: create, add, remove, rename, leave, commit
// races between two admins, and a member catching up after being offline.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { AppState } from "../../shared/state.js";
import { foldPushes } from "../../shared/statePush.js";
import type { AppCore } from "../app/appCore.js";
import { coreIn, tempDir, waitForState, withAccount } from "../testing.js";

const pubkeyOf = (core: AppCore): string => {
  const auth = core.snapshot().state.auth;
  return auth.status === "logged_in" ? auth.pubkey : "";
};
const texts = (state: AppState): string[] => state.open_chat?.messages.map((m) => m.text) ?? [];

describe("groups of five cores", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  const cores: Record<string, AppCore> = {};
  let groupId = "";

  const join = async (name: string) => {
    const core = cores[name]!;
    const invited = await waitForState(core, (s) => s.invites.length > 0, 15_000);
    await core.dispatch({ type: "AcceptInvite", invite_id: invited.state.invites[0]!.id });
    const joined = await waitForState(core, (s) => s.open_chat !== null && s.open_chat.kind === "group", 15_000);
    return joined.state;
  };
  const sees = (name: string, text: string, timeoutMs = 15_000) =>
    waitForState(cores[name]!, (s) => s.open_chat?.chat_id === groupId && texts(s).includes(text), timeoutMs);

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0 });
    for (const name of ["alice", "bob", "carol", "dave", "erin"]) {
      cores[name] = await coreIn(`${dir.path}/${name}`, 5, [relay.url]);
      await withAccount(cores[name]);
    }
  });
  after(async () => {
    for (const core of Object.values(cores)) await core.close();
    await relay.close();
    await dir.remove();
  });

  test("an_admin_creates_a_group_and_every_member_reads_it", async () => {
    const alice = cores["alice"]!;
    const reply = await alice.dispatch({
      type: "CreateGroup",
      name: "Burrow team",
      description: "Where we plan",
      members: ["bob", "carol", "dave"].map((n) => pubkeyOf(cores[n]!)),
      admins: [pubkeyOf(cores["bob"]!)],
    });
    assert.deepEqual(reply, { ok: true });
    const created = await waitForState(alice, (s) => s.open_chat?.kind === "group" && !s.busy.updating_group, 20_000);
    groupId = created.state.open_chat!.chat_id;
    assert.equal(created.state.open_chat!.title, "Burrow team");
    assert.equal(created.state.open_chat!.description, "Where we plan");
    assert.equal(created.state.open_chat!.am_admin, true);
    assert.deepEqual([...created.state.open_chat!.admins].sort(), [pubkeyOf(alice), pubkeyOf(cores["bob"]!)].sort());
    assert.match(created.state.open_chat!.messages[0]!.text, /^You created the group “Burrow team” with /);

    for (const name of ["bob", "carol", "dave"]) {
      const state = await join(name);
      assert.equal(state.open_chat!.chat_id, groupId);
      assert.equal(state.open_chat!.members.length, 4);
    }
    await cores["bob"]!.dispatch({ type: "SendMessage", chat_id: groupId, text: "hello team" });
    for (const name of ["alice", "carol", "dave"]) await sees(name, "hello team");
  });

  test("adding_a_member_shows_a_system_line_and_the_new_member_reads_along", async () => {
    await cores["alice"]!.dispatch({ type: "AddMembers", chat_id: groupId, members: [pubkeyOf(cores["erin"]!)] });
    await join("erin");
    for (const name of ["alice", "bob", "carol", "dave"]) {
      const { state } = await waitForState(cores[name]!, (s) => texts(s).some((t) => / added /.test(t)), 15_000);
      assert.equal(state.open_chat!.messages.filter((m) => m.kind === "system").length >= 1, true);
    }
    await cores["dave"]!.dispatch({ type: "SendMessage", chat_id: groupId, text: "welcome erin" });
    await sees("erin", "welcome erin");
  });

  test("a_rename_reaches_everyone", async () => {
    await cores["alice"]!.dispatch({ type: "RenameGroup", chat_id: groupId, name: "Burrow core team", description: "Renamed" });
    for (const name of ["bob", "carol", "dave", "erin"]) {
      const { state } = await waitForState(cores[name]!, (s) => s.open_chat?.title === "Burrow core team", 15_000);
      assert.ok(texts(state).some((t) => /renamed the group to “Burrow core team”/.test(t)));
    }
  });

  test("non_admins_cannot_change_the_group", async () => {
    const carol = cores["carol"]!;
    await carol.dispatch({ type: "RenameGroup", chat_id: groupId, name: "Carol's", description: "" });
    const { state } = await waitForState(carol, (s) => s.toasts.some((t) => /admin/i.test(t.message)), 10_000);
    assert.equal(state.open_chat!.title, "Burrow core team");
  });

  test("concurrent_commits_from_two_admins_converge_on_the_earliest", async () => {
    const [alice, bob] = [cores["alice"]!, cores["bob"]!];
    await Promise.all([
      alice.dispatch({ type: "RenameGroup", chat_id: groupId, name: "Alice's name", description: "" }),
      bob.dispatch({ type: "RenameGroup", chat_id: groupId, name: "Bob's name", description: "" }),
    ]);
    const settle = async () => {
      const titles = new Map<string, string>();
      for (const name of ["alice", "bob", "carol", "dave", "erin"]) {
        const { state } = await waitForState(cores[name]!, (s) => s.open_chat?.title === "Alice's name" || s.open_chat?.title === "Bob's name", 15_000);
        titles.set(name, state.open_chat!.title);
      }
      return titles;
    };
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const titles = await settle();
    assert.equal(new Set(titles.values()).size, 1, `everyone applied the same winner: ${JSON.stringify([...titles])}`);
    // The group still works for everyone after the race.
    await cores["erin"]!.dispatch({ type: "SendMessage", chat_id: groupId, text: "after the race" });
    for (const name of ["alice", "bob", "carol", "dave"]) await sees(name, "after the race");
  });

  test("a_removed_member_can_no_longer_read", async () => {
    await cores["alice"]!.dispatch({ type: "RemoveMember", chat_id: groupId, member: pubkeyOf(cores["carol"]!) });
    await waitForState(cores["carol"]!, (s) => s.open_chat?.left === true, 15_000);
    for (const name of ["bob", "dave", "erin"]) await waitForState(cores[name]!, (s) => (s.open_chat?.members.length ?? 0) === 4, 15_000);
    await cores["bob"]!.dispatch({ type: "SendMessage", chat_id: groupId, text: "carol cannot read this" });
    for (const name of ["alice", "dave", "erin"]) await sees(name, "carol cannot read this");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(!texts(cores["carol"]!.snapshot().state).includes("carol cannot read this"));
  });

  test("a_member_who_leaves_is_removed_by_an_admin", async () => {
    await cores["dave"]!.dispatch({ type: "LeaveGroup", chat_id: groupId });
    await waitForState(cores["dave"]!, (s) => s.open_chat?.left === true, 10_000);
    for (const name of ["alice", "bob", "erin"]) await waitForState(cores[name]!, (s) => (s.open_chat?.members.length ?? 0) === 3, 15_000);
  });

  test("reactions_and_mute_are_shown", async () => {
    const erin = cores["erin"]!;
    const { state } = await sees("erin", "after the race");
    const target = state.open_chat!.messages.find((m) => m.text === "after the race")!;
    await cores["alice"]!.dispatch({ type: "React", chat_id: groupId, message_id: target.id, emoji: "👍" });
    const reacted = await waitForState(erin, (s) => s.open_chat?.messages.find((m) => m.id === target.id)?.reactions.length === 1, 15_000);
    assert.deepEqual(reacted.state.open_chat!.messages.find((m) => m.id === target.id)!.reactions, [{ emoji: "👍", count: 1, mine: false }]);
    await erin.dispatch({ type: "SetChatMuted", chat_id: groupId, muted: true });
    const muted = await waitForState(erin, (s) => s.open_chat?.muted === true);
    assert.equal(muted.state.chats.find((c) => c.id === groupId)?.muted, true);
  });

  test("an_offline_member_catches_up_on_500_messages_and_commits_in_order", async () => {
    const [alice, bob, erin] = [cores["alice"]!, cores["bob"]!, cores["erin"]!];
    await erin.dispatch({ type: "SetChatMuted", chat_id: groupId, muted: false });
    await erin.dispatch({ type: "SetNetworkEnabled", enabled: false });
    await waitForState(erin, (s) => s.network.status === "off");
    const total = 540;
    for (let i = 0; i < total; i++) {
      if (i % 180 === 90) {
        await alice.dispatch({ type: "RenameGroup", chat_id: groupId, name: `Round ${i}`, description: "" });
        await waitForState(alice, (s) => s.open_chat?.title === `Round ${i}` && !s.busy.updating_group, 30_000);
      }
      await bob.dispatch({ type: "SendMessage", chat_id: groupId, text: `backlog ${i}` });
      if (i % 100 === 99) await waitForState(bob, (s) => (s.open_chat?.messages.filter((m) => m.status === "pending").length ?? 0) === 0, 30_000);
    }
    await waitForState(bob, (s) => s.open_chat?.messages.some((m) => m.text === `backlog ${total - 1}` && m.status === "sent") ?? false, 60_000);

    await erin.dispatch({ type: "LoadOlderMessages", chat_id: groupId });
    let pushes = 0;
    let sawProgress = false;
    let maxTotal = 0;
    const stop = erin.subscribe(
      foldPushes(({ state }) => {
        pushes += 1;
        if (state.sync) maxTotal = Math.max(maxTotal, state.sync.total);
        if (state.sync && state.sync.total >= total) sawProgress = true;
      }),
    );
    const started = Date.now();
    await erin.dispatch({ type: "SetNetworkEnabled", enabled: true });
    const { state } = await waitForState(erin, (s) => texts(s).includes(`backlog ${total - 1}`) && s.sync === null, 60_000);
    const seconds = (Date.now() - started) / 1000;
    stop();
    assert.ok(sawProgress, `Syncing done/total was shown (largest total seen: ${maxTotal}, pushes ${pushes})`);
    assert.ok(pushes < 60, `state pushes stay a handful per burst (got ${pushes} in ${seconds.toFixed(1)} s)`);
    assert.equal(state.open_chat!.title, "Round 450");
    await erin.dispatch({ type: "LoadOlderMessages", chat_id: groupId });
    for (let i = 0; i < 12; i++) await erin.dispatch({ type: "LoadOlderMessages", chat_id: groupId });
    const all = await waitForState(erin, (s) => texts(s).includes("backlog 0"), 10_000).catch(() => {
      const have = new Set(texts(erin.snapshot().state));
      const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !have.has(`backlog ${i}`));
      throw new Error(`missing ${missing.length} backlog messages, e.g. ${missing.slice(0, 10).join(",")}; shown ${have.size}; has_older ${erin.snapshot().state.open_chat?.has_older}`);
    });
    const backlog = texts(all.state).filter((t) => t.startsWith("backlog "));
    assert.equal(backlog.length, total);
    assert.deepEqual(backlog, Array.from({ length: total }, (_, i) => `backlog ${i}`), "in order");
  });
});
