// The server's sealing of agent keys at rest (XChaCha20-Poly1305 under the server's own key).
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../../../core/testing.js";
import { SecretBox } from "./secretBox.js";

const AGENT_KEY = "ab".repeat(32);

test("a_sealed_key_opens_to_itself_and_never_holds_it_in_the_clear", () => {
  const box = SecretBox.fromHex("11".repeat(32));
  const sealed = box.seal(AGENT_KEY);
  assert.ok(!sealed.includes(AGENT_KEY));
  assert.equal(box.open(sealed), AGENT_KEY);
  assert.notEqual(box.seal(AGENT_KEY), sealed, "a fresh nonce for every seal");
});

test("a_tampered_box_or_another_servers_key_cannot_open_it", () => {
  const box = SecretBox.fromHex("11".repeat(32));
  const sealed = box.seal(AGENT_KEY);
  const last = sealed.at(-1) === "0" ? "1" : "0";
  assert.throws(() => box.open(`${sealed.slice(0, -1)}${last}`));
  assert.throws(() => SecretBox.fromHex("22".repeat(32)).open(sealed));
  assert.throws(() => box.open("not a box"), /malformed/);
});

test("load_makes_one_0600_server_secret_and_keeps_it_across_loads", async (t) => {
  const dir = await tempDir("burrow-secret-box-");
  t.after(() => dir.remove());
  const first = await SecretBox.load(dir.path, {});
  const path = join(dir.path, "server-secret");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const again = await SecretBox.load(dir.path, {});
  assert.equal(again.open(first.seal(AGENT_KEY)), AGENT_KEY);
  const fromEnv = await SecretBox.load(dir.path, { BURROW_SERVER_SECRET: (await readFile(path, "utf8")).trim() });
  assert.equal(fromEnv.open(first.seal(AGENT_KEY)), AGENT_KEY);
});
