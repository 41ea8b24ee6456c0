// The local spawner running the REAL agent bot (dist/server/agent/bot/main.js) against the embedded
// relay: the VM reports the bot's phases, reaches running once its KeyPackage is published, survives a
// spawner restart, and is gone after delete. Skipped, saying why, when the bot is not built.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { startRelay } from "../../relay/relay.js";
import { LocalSpawner } from "./localSpawner.js";
import type { SpawnerLogLine } from "./localSpawner.js";
import { filesHolding, holdsSecret, tempDir, vmRequest, waitFor } from "./testSupport.fixture.js";

const BOT_ENTRY = fileURLToPath(new URL("../bot/main.js", import.meta.url));
const READY_WITHIN_MS = 60_000;

/**
 * A temp data dir, an embedded relay and a way to open spawners on that dir (the default agent entry is
 * the bot beside this build), all closed after the test; null, with the test skipped saying why, when
 * the bot is not built.
 */
async function realBotSetup(t: TestContext, prefix: string): Promise<{ dataDir: string; relay: Awaited<ReturnType<typeof startRelay>>; logs: SpawnerLogLine[]; open(): LocalSpawner } | null> {
  if (!existsSync(BOT_ENTRY)) {
    const reason = `the agent bot is not built (${BOT_ENTRY} is missing): run npx tsc -p tsconfig.build.json`;
    console.log(`# skipped: ${reason}`);
    t.skip(reason);
    return null;
  }
  const dataDir = await tempDir(prefix);
  const relay = await startRelay({ port: 0 });
  const logs: SpawnerLogLine[] = [];
  const spawners: LocalSpawner[] = [];
  t.after(async () => {
    for (const spawner of spawners) await spawner.close();
    await relay.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const open = (): LocalSpawner => {
    const spawner = new LocalSpawner({ dataDir, bootTimeoutMs: READY_WITHIN_MS, log: (line) => logs.push(line) });
    spawners.push(spawner);
    return spawner;
  };
  return { dataDir, relay, logs, open };
}

test("the_real_agent_bot_reaches_running_against_the_embedded_relay", { timeout: 4 * READY_WITHIN_MS }, async (t) => {
  const setup = await realBotSetup(t, "spawner-real-bot");
  if (!setup) return;
  const { dataDir, relay, logs, open } = setup;

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

describe("integration: agent keys at rest (real spawner, real bot)", () => {
  /** What every user of the machine, or the guest's own user, can read of a live process. */
  async function assertNotInProcFiles(t: TestContext, pid: number, secretHex: string): Promise<void> {
    if (!existsSync(`/proc/${pid}`)) {
      const reason = `no /proc/${pid} on ${process.platform}: environ and cmdline are not checked`;
      console.log(`# skipped: ${reason}`);
      t.diagnostic(reason);
      return;
    }
    const cmdline = await readFile(`/proc/${pid}/cmdline`);
    const environ = await readFile(`/proc/${pid}/environ`);
    // Both were read from the bot itself, not from an empty or foreign file.
    assert.match(cmdline.toString("utf8"), /bot\/main\.js\0--data-dir\0/);
    assert.match(environ.toString("utf8"), /(^|\0)PATH=/);
    assert.equal(holdsSecret(cmdline, secretHex), false, "the key is not in the bot's argv");
    assert.equal(holdsSecret(environ, secretHex), false, "the key is not in the bot's environment");
  }

  test("a_running_agent_has_one_0600_copy_of_its_key_none_in_its_process_and_none_after_delete", { timeout: 4 * READY_WITHIN_MS }, async (t) => {
    const setup = await realBotSetup(t, "spawner-keys");
    if (!setup) return;
    const { dataDir, relay, logs, open } = setup;
    const request = vmRequest([relay.url]);
    const secret = request.agent_secret_hex;
    const running = async (spawner: LocalSpawner, vmId: string): Promise<number> => {
      const info = await waitFor(() => spawner.status(vmId), (vm) => vm?.status !== "starting", "the bot to leave starting", READY_WITHIN_MS + 5000);
      assert.equal(info?.status, "running", info?.error ?? "");
      const started = logs.filter((line) => line.event === "guest_started" && line["vm_id"] === vmId).at(-1);
      assert.equal(typeof started?.["pid"], "number");
      return started?.["pid"] as number;
    };

    const spawner = open();
    const { vm_id } = await spawner.create(request);
    const vmDir = join(dataDir, "vms", vm_id);
    const keyFile = join(vmDir, "agent_secret");
    const pid = await running(spawner, vm_id);
    assert.deepEqual(await filesHolding(dataDir, secret), [keyFile], "one copy, in the VM's own directory");
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    assert.equal((await stat(vmDir)).mode & 0o777, 0o700);
    await assertNotInProcFiles(t, pid, secret);

    // A VM whose bot predates issue 11 also has the core's key file; the restarted bot removes it.
    await spawner.close();
    await writeFile(join(vmDir, "data", "secret-key"), `${secret}\n`, { mode: 0o600 });
    const again = open();
    const restartedPid = await running(again, vm_id);
    assert.notEqual(restartedPid, pid);
    assert.deepEqual(await filesHolding(dataDir, secret), [keyFile]);
    await assertNotInProcFiles(t, restartedPid, secret);

    assert.equal(await again.delete(vm_id), true);
    await assert.rejects(stat(vmDir), { code: "ENOENT" });
    assert.deepEqual(await filesHolding(dataDir, secret), [], "nothing of a deleted VM holds its key");
  });
});
