// The local spawner running the REAL agent bot (dist/server/agent/bot/main.js) against the embedded
// relay: the VM reports the bot's phases, reaches running once its KeyPackage is published, survives a
// spawner restart, and is gone after delete. Skipped, saying why, when the bot is not built.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startRelay } from "../../relay/relay.js";
import { LocalSpawner } from "./localSpawner.js";
import type { SpawnerLogLine } from "./localSpawner.js";
import { tempDir, vmRequest, waitFor } from "./testSupport.fixture.js";

const BOT_ENTRY = fileURLToPath(new URL("../bot/main.js", import.meta.url));
const READY_WITHIN_MS = 60_000;

test("the_real_agent_bot_reaches_running_against_the_embedded_relay", { timeout: 4 * READY_WITHIN_MS }, async (t) => {
  if (!existsSync(BOT_ENTRY)) {
    const reason = `the agent bot is not built (${BOT_ENTRY} is missing): run npx tsc -p tsconfig.build.json`;
    console.log(`# skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  const dataDir = await tempDir("spawner-real-bot");
  const relay = await startRelay({ port: 0 });
  const logs: SpawnerLogLine[] = [];
  const spawners: LocalSpawner[] = [];
  const open = (): LocalSpawner => {
    // The default agent entry is the bot beside this build.
    const spawner = new LocalSpawner({ dataDir, bootTimeoutMs: READY_WITHIN_MS, log: (line) => logs.push(line) });
    spawners.push(spawner);
    return spawner;
  };
  t.after(async () => {
    for (const spawner of spawners) await spawner.close();
    await relay.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const spawner = open();
  const request = vmRequest([relay.url]);
  const { vm_id } = await spawner.create(request);
  const running = await waitFor(() => spawner.status(vm_id), (info) => info?.status !== "starting", "the bot to leave starting", READY_WITHIN_MS + 5000);
  const guestLog = await readFile(join(dataDir, "vms", vm_id, "guest.log"), "utf8").catch(() => "");
  assert.equal(running?.status, "running", `VM ${vm_id}: ${running?.error ?? ""}\n${guestLog.slice(-3000)}`);
  assert.equal(running?.agent_pubkey, request.agent_pubkey);
  assert.equal(running?.phase, "ready");
  const phases = logs.filter((line) => line.event === "vm_phase" && line["vm_id"] === vm_id).map((line) => line["phase"]);
  assert.deepEqual(phases, ["booting_guest", "waiting_for_service_ready", "waiting_for_keypackage_publish"]);
  assert.ok(!guestLog.includes(request.agent_secret_hex), "the bot's output never holds its secret");

  await spawner.close();
  const again = open();
  const restarted = await waitFor(() => again.status(vm_id), (info) => info?.status !== "starting", "the bot to come back", READY_WITHIN_MS + 5000);
  assert.equal(restarted?.status, "running", restarted?.error ?? "");

  assert.equal(await again.delete(vm_id), true);
  await assert.rejects(stat(join(dataDir, "vms", vm_id)), { code: "ENOENT" });
  assert.equal(await again.status(vm_id), null);
});
