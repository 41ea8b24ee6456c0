// Profiles (kind 0) between real cores over the embedded relay: our own, names in chats, people
// first seen later, and pictures fetched only when the setting is on.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { nip19 } from "nostr-tools";
import { finalizeEvent } from "nostr-tools/pure";
import { startRelay, type RunningRelay } from "../../server/relay/relay.js";
import type { AppState } from "../../shared/state.js";
import type { AppCore } from "../app/appCore.js";
import { RelayPool } from "../relays/pool.js";
import { coreIn, tempDir, waitForState, withAccount } from "../testing.js";

const npubOf = (state: AppState): string => (state.auth.status === "logged_in" ? state.auth.npub : "");
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");

describe("profiles over the embedded relay", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  let pictures: Server;
  let pictureUrl: string;
  const pictureHits: string[] = [];
  let alice: AppCore;
  let bob: AppCore;
  let carol: AppCore;

  async function publishAs(core: AppCore, createdAt: number, content: string): Promise<void> {
    const exported = await core.dispatch({ type: "ExportSecretKey", confirmed: true });
    assert.ok(exported.ok && exported.nsec);
    const secret = nip19.decode(exported.nsec).data as Uint8Array;
    const pool = new RelayPool();
    pool.setRelays([relay.url]);
    try {
      assert.equal((await pool.publish(finalizeEvent({ kind: 0, created_at: createdAt, tags: [], content }, secret))).accepted.length, 1);
    } finally {
      pool.close();
    }
  }

  before(async () => {
    dir = await tempDir();
    relay = await startRelay({ port: 0, dbPath: `${dir.path}/relay.sqlite` });
    pictures = createServer((req, res) => {
      pictureHits.push(req.url ?? "");
      res.writeHead(200, { "content-type": "image/png" }).end(PNG);
    });
    await new Promise<void>((resolve) => pictures.listen(0, "127.0.0.1", resolve));
    pictureUrl = `http://127.0.0.1:${(pictures.address() as AddressInfo).port}/alice.png`;
    alice = await withAccount(await coreIn(`${dir.path}/alice`, 5, [relay.url]));
    bob = await withAccount(await coreIn(`${dir.path}/bob`, 5, [relay.url], { pictureAllowLoopback: true }));
    carol = await withAccount(await coreIn(`${dir.path}/carol`, 5, [relay.url]));
  });
  after(async () => {
    await Promise.all([alice.close(), bob.close(), carol.close()]);
    await relay.close();
    pictures.close();
    await dir.remove();
  });

  test("own_profile_is_shown_at_once_and_kept_across_a_restart", async () => {
    const profile = { name: "Alice Liddell", about: "Down the rabbit hole", picture: pictureUrl };
    assert.deepEqual(await alice.dispatch({ type: "SetProfile", ...profile }), { ok: true });
    await waitForState(alice, (s) => s.profile?.name === profile.name, 1_000);
    await alice.close();
    alice = await coreIn(`${dir.path}/alice`, 5, [relay.url]);
    const { state } = await waitForState(alice, (s) => s.auth.status === "logged_in" && s.profile !== null);
    assert.deepEqual(state.profile, profile);
  });

  test("an_over_long_name_or_a_non_http_picture_is_refused_and_changes_nothing", async () => {
    const long = await alice.dispatch({ type: "SetProfile", name: "x".repeat(101), about: "", picture: null });
    assert.equal(long.ok, false);
    assert.match((long as { error: string }).error, /at most 100 characters/);
    const bad = await alice.dispatch({ type: "SetProfile", name: "A", about: "", picture: "javascript:alert(1)" });
    assert.equal(bad.ok, false);
    assert.equal((await waitForState(alice, (s) => s.auth.status === "logged_in")).state.profile?.name, "Alice Liddell");
  });

  test("the_peer_sees_our_name_in_the_chat_title_and_as_sender", async () => {
    await bob.dispatch({ type: "CreateChat", peer: npubOf(alice.snapshot().state) });
    const opened = await waitForState(bob, (s) => s.open_chat !== null && s.chats[0]?.title === "Alice Liddell", 10_000);
    assert.equal(opened.state.chats[0]?.peer?.name, "Alice Liddell");
    const invited = await waitForState(alice, (s) => s.invites.length === 1, 10_000);
    await alice.dispatch({ type: "AcceptInvite", invite_id: invited.state.invites[0]!.id });
    const chatId = opened.state.open_chat!.chat_id;
    await waitForState(alice, (s) => s.open_chat?.chat_id === chatId, 10_000);
    await alice.dispatch({ type: "SendMessage", chat_id: chatId, text: "curiouser and curiouser" });
    const got = await waitForState(bob, (s) => s.open_chat?.messages.some((m) => m.text === "curiouser and curiouser") ?? false, 10_000);
    assert.equal(got.state.open_chat!.messages.find((m) => m.text === "curiouser and curiouser")?.sender.name, "Alice Liddell");
  });

  test("pictures_are_not_fetched_until_the_setting_is_on", async () => {
    assert.equal(bob.snapshot().state.settings.load_pictures, false);
    const peer = bob.snapshot().state.chats[0]?.peer;
    assert.equal(peer?.picture, pictureUrl);
    assert.deepEqual(bob.snapshot().state.pictures, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(pictureHits, []);

    assert.deepEqual(await bob.dispatch({ type: "SetLoadPictures", enabled: true }), { ok: true });
    const { state } = await waitForState(bob, (s) => s.pictures[pictureUrl] !== undefined, 5_000);
    assert.deepEqual(state.pictures, { [pictureUrl]: `data:image/png;base64,${PNG.toString("base64")}` });
    assert.deepEqual(pictureHits, ["/alice.png"]);
  });

  test("a_core_refuses_pictures_on_this_machine_even_with_the_setting_on", async () => {
    const bobPicture = pictureUrl.replace("alice.png", "bob.png");
    await bob.dispatch({ type: "SetProfile", name: "Bob", about: "", picture: bobPicture });
    await alice.dispatch({ type: "SetLoadPictures", enabled: true });
    const { state } = await waitForState(alice, (s) => s.chats[0]?.peer?.picture === bobPicture, 10_000);
    assert.equal(state.chats[0]?.title, "Bob");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(!pictureHits.includes("/bob.png"));
    assert.equal(alice.snapshot().state.pictures[bobPicture], undefined);
  });

  test("someone_first_seen_later_with_an_older_profile_is_fetched", async () => {
    // Bob's profile cursor is at Alice's (new) profile; Carol's is an hour older than that.
    await publishAs(carol, Math.floor(Date.now() / 1000) - 3600, JSON.stringify({ name: "Carol Older" }));
    await bob.dispatch({ type: "CloseChat" });
    await bob.dispatch({ type: "CreateChat", peer: npubOf(carol.snapshot().state) });
    const { state } = await waitForState(bob, (s) => s.chats.some((c) => c.title === "Carol Older"), 10_000);
    assert.equal(state.chats.find((c) => c.title === "Carol Older")?.peer?.npub, npubOf(carol.snapshot().state));
  });

  test("a_profile_that_is_not_json_is_ignored", async () => {
    await publishAs(carol, Math.floor(Date.now() / 1000), "not json {");
    await publishAs(carol, Math.floor(Date.now() / 1000) + 1, JSON.stringify({ name: "Carol Newer" }));
    await waitForState(bob, (s) => s.chats.some((c) => c.title === "Carol Newer"), 10_000);
  });
});
