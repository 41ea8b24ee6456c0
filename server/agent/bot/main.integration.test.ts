// main.js as a spawner runs it: a child process that speaks JSON lines on stdout.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startRelay, type RunningRelay } from "../../relay/relay.js";
import { generateKeys } from "../../../core/index.js";
import { tempDir } from "../../../core/testing.js";
import { filesHolding } from "../spawner/testSupport.fixture.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

interface Run {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves with the first stdout line that satisfies `predicate`. */
  lineWhere(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts main.js with `stdin` as its whole standard input, as a spawner hands over the key. */
function run(args: string[], stdin: string, env: Record<string, string> = {}): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!("BURROW_AGENT_LLM_URL" in env)) delete childEnv["BURROW_AGENT_LLM_URL"];
  const child = spawn(process.execPath, [MAIN, ...args], { env: childEnv, stdio: ["pipe", "pipe", "pipe"] });
  child.stdin!.on("error", () => {});
  child.stdin!.end(stdin);
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (text) => {
    lines.push(JSON.parse(text) as Record<string, unknown>);
    for (const wake of waiters) wake();
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const lineWhere = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = lines.find(predicate);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no such line within ${timeoutMs} ms; stdout: ${JSON.stringify(lines)}; stderr: ${stderr}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { child, lines, stderr: () => stderr, lineWhere, exit };
}

describe("agent bot process (main.js)", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let relay: RunningRelay;
  before(async () => {
    dir = await tempDir("burrow-bot-main-");
    relay = await startRelay({ port: 0 });
  });
  after(async () => {
    await relay.close();
    await dir.remove();
  });

  test("prints_each_phase_then_ready_and_exits_0_on_sigterm", async () => {
    const agent = generateKeys();
    const owner = generateKeys();
    const bot = run(["--data-dir", `${dir.path}/agent`, "--owner", owner.pubkey, "--relay", relay.url], `${agent.secretHex}\n`);
    const ready = await bot.lineWhere((l) => l["event"] === "ready");
    assert.deepEqual(ready, { event: "ready", agent_npub: agent.npub, agent_pubkey: agent.pubkey });
    const protocol = bot.lines.filter((l) => l["event"] !== "log");
    assert.deepEqual(protocol, [
      { event: "phase", phase: "booting_guest" },
      { event: "phase", phase: "waiting_for_service_ready" },
      { event: "phase", phase: "waiting_for_keypackage_publish" },
      { event: "phase", phase: "ready" },
      ready,
    ]);
    assert.ok(bot.lines.some((l) => l["event"] === "log" && l["log"] === "responder" && l["kind"] === "echo"));
    const everything = JSON.stringify(bot.lines) + bot.stderr();
    assert.ok(!everything.includes(agent.secretHex), "the secret never appears in the output");

    bot.child.kill("SIGTERM");
    assert.deepEqual(await bot.exit, { code: 0, signal: null });
    assert.deepEqual(bot.lines.at(-1), { event: "stopped", signal: "SIGTERM" });
  });

  test("a_missing_secret_exits_2_with_a_clear_message", async () => {
    const bot = run(["--data-dir", `${dir.path}/nosecret`, "--owner", generateKeys().pubkey, "--relay", relay.url], "");
    assert.deepEqual(await bot.exit, { code: 2, signal: null });
    assert.match(bot.stderr(), /no secret key on stdin/);
    assert.equal(bot.lines.at(-1)?.["event"], "fatal");
  });

  test("a_secret_in_the_environment_is_not_read", async () => {
    const args = ["--data-dir", `${dir.path}/envsecret`, "--owner", generateKeys().pubkey, "--relay", relay.url];
    const bot = run(args, "", { BURROW_AGENT_SECRET: generateKeys().secretHex });
    assert.deepEqual(await bot.exit, { code: 2, signal: null });
    assert.match(bot.stderr(), /no secret key on stdin/);
  });

  test("the_bot_keeps_no_copy_of_its_key_in_its_data_dir_and_removes_an_old_one", async () => {
    const agent = generateKeys();
    const dataDir = `${dir.path}/nocopy`;
    // What a bot before issue 11 left behind: its core's key file.
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(join(dataDir, "secret-key"), `${agent.secretHex}\n`, { mode: 0o600 });
    const bot = run(["--data-dir", dataDir, "--owner", generateKeys().pubkey, "--relay", relay.url], `${agent.secretHex}\n`);
    await bot.lineWhere((l) => l["event"] === "ready");
    assert.deepEqual(await filesHolding(dataDir, agent.secretHex), []);
    bot.child.kill("SIGTERM");
    assert.deepEqual(await bot.exit, { code: 0, signal: null });
    assert.deepEqual(await filesHolding(dataDir, agent.secretHex), []);
  });

  test("bad_arguments_exit_2_with_usage", async () => {
    const secret = `${generateKeys().secretHex}\n`;
    const cases: Array<[string[], RegExp]> = [
      [["--owner", generateKeys().pubkey, "--relay", relay.url], /--data-dir is required/],
      [["--data-dir", dir.path, "--relay", relay.url], /--owner is required/],
      [["--data-dir", dir.path, "--owner", generateKeys().pubkey], /--relay is required/],
      [["--data-dir", dir.path, "--owner", "not-a-key", "--relay", relay.url], /owner is not a public key/],
      [["--data-dir", dir.path, "--owner", generateKeys().pubkey, "--relay", "http://nope"], /relay URL/],
      [["--data-dir", dir.path, "--owner", generateKeys().pubkey, "--relay", relay.url, "--secret", "x"], /Unknown option/],
    ];
    for (const [args, message] of cases) {
      const bot = run(args, secret);
      assert.deepEqual(await bot.exit, { code: 2, signal: null }, args.join(" "));
      assert.match(bot.stderr(), message);
      assert.match(bot.stderr(), /usage:/);
    }
    const badSecret = run(["--data-dir", dir.path, "--owner", generateKeys().pubkey, "--relay", relay.url], "abc\n");
    assert.deepEqual(await badSecret.exit, { code: 2, signal: null });
    assert.match(badSecret.stderr(), /not a valid secret key/);
  });
});
