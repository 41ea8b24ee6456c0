import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { getPublicKey, nip19 } from "nostr-tools";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { AppState, StateSnapshot } from "../../shared/state.js";
import { foldPushes } from "../../shared/statePush.js";
import type { AppCore } from "./appCore.js";
import { coreIn, tempDir, waitForState } from "../testing.js";

/** The key file is removed right after the logged-out state is pushed; give the disk a moment. */
async function keyFileGone(dataDir: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (!(await stat(join(dataDir, "secret-key")).catch(() => null))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail("the key file is still there after logout");
}

const loggedIn = (core: AppCore) => waitForState(core, (s) => s.auth.status === "logged_in");

describe("AppCore session", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let core: AppCore;
  beforeEach(async () => {
    dir = await tempDir();
    core = await coreIn(dir.path);
  });
  afterEach(async () => {
    await core.close();
    await dir.remove();
  });

  test("create_account_stores_key_with_mode_0600_and_logs_in", async () => {
    assert.equal(core.snapshot().state.auth.status, "logged_out");
    assert.deepEqual(await core.dispatch({ type: "CreateAccount" }), { ok: true });
    const { state } = await loggedIn(core);
    assert.equal(state.auth.status, "logged_in");
    if (state.auth.status !== "logged_in") return;
    assert.match(state.auth.npub, /^npub1/);
    assert.equal(state.auth.signer, "local");
    const keyFile = join(dir.path, "secret-key");
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const storedHex = (await readFile(keyFile, "utf8")).trim();
    assert.equal(getPublicKey(hexToBytes(storedHex)), state.auth.pubkey);
    assert.equal(state.secret_storage.kind, "plain_file");
    assert.ok(state.secret_storage.notice?.includes("not encrypted by the operating system"));
  });

  test("secret_never_enters_state", async () => {
    await core.dispatch({ type: "CreateAccount" });
    const { state } = await loggedIn(core);
    const storedHex = (await readFile(join(dir.path, "secret-key"), "utf8")).trim();
    const text = JSON.stringify(state);
    assert.ok(!text.includes(storedHex));
    assert.ok(!text.includes("nsec1"));
  });

  test("login_with_nsec_and_hex_gives_the_same_npub", async () => {
    const hex = "7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a";
    const expectedNpub = nip19.npubEncode(getPublicKey(hexToBytes(hex)));
    await core.dispatch({ type: "Login", nsec: nip19.nsecEncode(hexToBytes(hex)) });
    let { state } = await loggedIn(core);
    assert.equal(state.auth.status === "logged_in" && state.auth.npub, expectedNpub);
    await core.dispatch({ type: "Logout" });
    await waitForState(core, (s) => s.auth.status === "logged_out");
    await core.dispatch({ type: "Login", nsec: `  ${hex.toUpperCase()}  ` });
    ({ state } = await loggedIn(core));
    assert.equal(state.auth.status === "logged_in" && state.auth.npub, expectedNpub);
  });

  test("invalid_private_key_shows_error_and_stores_nothing", async () => {
    for (const bad of ["nsec1qqqq", "xyz", "0".repeat(64), "f".repeat(64), nip19.npubEncode("a".repeat(64))]) {
      const reply = await core.dispatch({ type: "Login", nsec: bad });
      assert.deepEqual(reply, { ok: false, error: "Invalid private key" }, bad);
    }
    const { state } = await waitForState(core, (s) => s.login_error !== null);
    assert.equal(state.login_error, "Invalid private key");
    assert.equal(state.auth.status, "logged_out");
    await assert.rejects(stat(join(dir.path, "secret-key")), { code: "ENOENT" });
  });

  test("restart_restores_the_session", async () => {
    await core.dispatch({ type: "CreateAccount" });
    const { state } = await loggedIn(core);
    await core.close();
    core = await coreIn(dir.path);
    const restored = core.snapshot().state;
    assert.deepEqual(restored.auth, state.auth);
  });

  test("a_dismissed_key_storage_notice_stays_dismissed_after_a_restart_and_only_for_that_account", async () => {
    await core.dispatch({ type: "CreateAccount" });
    const first = await loggedIn(core);
    assert.equal(first.state.secret_storage.notice_dismissed, false);
    await core.dispatch({ type: "DismissStorageNotice" });
    await waitForState(core, (s) => s.secret_storage.notice_dismissed);
    await core.close();
    core = await coreIn(dir.path);
    await waitForState(core, (s) => s.auth.status === "logged_in" && s.secret_storage.notice_dismissed);
    assert.ok(core.snapshot().state.secret_storage.notice, "the notice itself is still there, for Settings");
    await core.dispatch({ type: "Logout" });
    await core.dispatch({ type: "CreateAccount" });
    const npub = first.state.auth.status === "logged_in" ? first.state.auth.npub : "";
    const other = await waitForState(core, (s) => s.auth.status === "logged_in" && s.auth.npub !== npub);
    assert.equal(other.state.secret_storage.notice_dismissed, false);
  });

  test("logout_clears_state_secret_and_pending_session", async () => {
    await core.dispatch({ type: "CreateAccount" });
    await loggedIn(core);
    await core.dispatch({ type: "Logout" });
    const { state } = await waitForState(core, (s) => s.auth.status === "logged_out");
    assert.equal(state.login_error, null);
    assert.deepEqual(state.toasts, []);
    await keyFileGone(dir.path);
  });

  test("logout_before_key_is_stored_drops_the_late_login", async () => {
    await core.dispatch({ type: "CreateAccount" });
    await core.dispatch({ type: "Logout" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(core.snapshot().state.auth.status, "logged_out");
    assert.equal(core.snapshot().state.busy.logging_in, false);
    await keyFileGone(dir.path);
  });

  test("export_secret_key_requires_session_and_confirmation", async () => {
    assert.equal((await core.dispatch({ type: "ExportSecretKey", confirmed: true })).ok, false);
    assert.equal((await core.dispatch({ type: "ExportSecretKey" })).ok, false);
    const hex = "3bc1d4c5a1b0e8b0a8d38a5a2c5ef71b0d2cfbd5a9b8f1bd2b07fd46f0e0b6a1";
    await core.dispatch({ type: "Login", nsec: hex });
    await loggedIn(core);
    const reply = await core.dispatch({ type: "ExportSecretKey", confirmed: true });
    assert.deepEqual(reply, { ok: true, nsec: nip19.nsecEncode(hexToBytes(hex)) });
  });

  test("damaged_key_file_is_reported_and_kept", async () => {
    await core.close();
    await writeFile(join(dir.path, "secret-key"), "not a key\n");
    core = await coreIn(dir.path);
    const { state } = core.snapshot();
    assert.equal(state.auth.status, "logged_out");
    assert.match(state.toasts[0]?.message ?? "", /Could not read your stored key/);
    assert.equal(await readFile(join(dir.path, "secret-key"), "utf8"), "not a key\n");
  });
});

describe("AppCore actions and pushes", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let core: AppCore;
  beforeEach(async () => {
    dir = await tempDir();
    core = await coreIn(dir.path, 16);
  });
  afterEach(async () => {
    await core.close();
    await dir.remove();
  });

  test("malformed_and_unknown_actions_toast_an_error_and_never_throw", async () => {
    const bad: unknown[] = [null, 42, "Logout", [], {}, { type: 7 }, { type: "LaunchMissiles" }, { type: "Login" }, { type: "DismissToast", id: "x" }];
    for (const action of bad) {
      const reply = await core.dispatch(action);
      assert.equal(reply.ok, false, JSON.stringify(action));
    }
    const { state } = await waitForState(core, (s) => s.toasts.length > 0);
    assert.ok(state.toasts.every((toast) => toast.kind === "error"));
    assert.ok(state.toasts.some((toast) => toast.message.includes("Unknown action: LaunchMissiles")));
    assert.ok(state.toasts.length <= 5);
  });

  test("dismiss_toast_removes_only_that_toast", async () => {
    await core.dispatch({ type: "Nope1" });
    await core.dispatch({ type: "Nope2" });
    const { state } = await waitForState(core, (s) => s.toasts.length === 2);
    const [first, second] = state.toasts;
    await core.dispatch({ type: "DismissToast", id: first!.id });
    const after = await waitForState(core, (s) => s.toasts.length === 1);
    assert.equal(after.state.toasts[0]?.id, second!.id);
  });

  test("pushes_are_coalesced_and_rev_strictly_increases", async () => {
    const pushes: StateSnapshot[] = [];
    let patches = 0;
    const fold = foldPushes((snapshot) => pushes.push(snapshot));
    const unsubscribe = core.subscribe((push) => {
      if ("patch" in push) patches += 1;
      fold(push);
    });
    const startRev = pushes[0]!.rev;
    for (let i = 0; i < 200; i++) await core.dispatch({ type: "SetNetworkEnabled", enabled: i % 2 === 0 });
    await core.dispatch({ type: "SetNetworkEnabled", enabled: false });
    await new Promise((resolve) => setTimeout(resolve, 60));
    unsubscribe();
    const later = pushes.slice(1);
    assert.ok(later.length >= 1 && later.length <= 3, `expected a handful of pushes, got ${later.length}`);
    for (let i = 1; i < pushes.length; i++) assert.ok(pushes[i]!.rev > pushes[i - 1]!.rev);
    assert.ok(later.at(-1)!.rev > startRev);
    assert.equal(later.at(-1)!.state.network.enabled, false);
    assert.equal(later.at(-1)!.state.network.status, "off");
    assert.equal(patches, later.length, "after the whole state, patches");
    assert.deepEqual(later.at(-1)!.state, core.snapshot().state);
  });

  test("integration: agent_button_is_never_usable_without_allowlist_and_says_why_when_the_api_is_unreachable", async () => {
    // Port 1 on 127.0.0.1: nothing listens there, so the probe gets no answer.
    const unreachable = await coreIn(`${dir.path}/unreachable`, 5, [], {}, "http://127.0.0.1:1");
    try {
      const buttons: AppState["agent_button"][] = [];
      unreachable.subscribe(foldPushes(({ state }) => buttons.push(state.agent_button)));
      await unreachable.dispatch({ type: "CreateAccount" });
      const { state } = await waitForState(unreachable, (s) => s.agent.probe_error !== null);
      assert.equal(state.agent.access, "unknown");
      assert.deepEqual(state.agent_button, { title: "New Agent", is_busy: false, phase: null, disabled_reason: state.agent.probe_error!.message });
      assert.ok(buttons.every((button) => button === null || button.disabled_reason !== null), "never shown as usable");
      assert.deepEqual(state.chats, []);
    } finally {
      await unreachable.close();
    }
  });
});
