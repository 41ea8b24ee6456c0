// `npm run agent-demo`: the whole agent path without a window. Uses the local stack every instance
// shares (starting it when none runs; BURROW_STACK_HOME picks another stack home); makes a demo
// identity allowlisted; deletes its agent's VM at the spawner; recovers (or ensures a first agent);
// then chats with it through the CLI. The demo's CLI data is `<data-dir>/agent-demo`.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ensureNativeModules } from "./native.mjs";
import { root, run } from "./run.mjs";

const MESSAGE = "CLI demo check: reply with ACK and one short sentence.";
const args = process.argv.slice(2);
const dataDirIndex = args.indexOf("--data-dir");

let failed = false;
const started = Date.now();

async function stepped(title, action, describe = (result) => result) {
  const begin = Date.now();
  process.stdout.write(`▶ ${title}\n`);
  try {
    const result = await action();
    const text = result ? describe(result) : "";
    console.log(`✔ ${title} (${((Date.now() - begin) / 1000).toFixed(1)} s)${text ? `: ${text}` : ""}`);
    return result;
  } catch (error) {
    console.error(`✖ ${title} (${((Date.now() - begin) / 1000).toFixed(1)} s): ${error.message}`);
    failed = true;
    throw error;
  }
}

/** Runs a command of ours and returns its stdout; its stderr (progress) is shown indented. */
function capture(script, commandArgs, env = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(root, script), ...commandArgs], { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => process.stderr.write(String(chunk).replace(/^(?=.)/gm, "    ")));
    child.on("exit", (code) => (code === 0 ? resolvePromise(stdout.trim()) : reject(new Error(`${script} ${commandArgs[0]} ${commandArgs[1] ?? ""} exited with ${code}${stdout ? `: ${stdout.trim()}` : ""}`))));
  });
}

await ensureNativeModules("node");
if (!existsSync(join(root, "dist", "build-stamp.json"))) {
  const code = await run(process.execPath, [join(root, "scripts", "build.mjs")]);
  if (code !== 0) process.exit(code);
}
const { defaultDataDir } = await import(pathToFileURL(join(root, "dist", "core", "base", "paths.js")).href);
const dataDir = resolve(dataDirIndex >= 0 && args[dataDirIndex + 1] ? args[dataDirIndex + 1] : defaultDataDir());
let stackUse = null;

try {
  const stack = await stepped("local stack", async () => {
    const { useLocalStack } = await import(pathToFileURL(join(root, "scripts", "stack.mjs")).href);
    stackUse = await useLocalStack("agent demo");
    for (const notice of stackUse.notices) console.log(`  ${notice}`);
    return stackUse.record;
  }, () => (stackUse.started ? "started one" : "already running"));
  console.log(`  relay ${stack.relay_url}, agent API ${stack.agent_api_url}, spawner ${stack.spawner_url} (home ${stack.home})`);

  const cliDir = join(dataDir, "agent-demo");
  const cli = (commandArgs, env) => capture("dist/hosts/cli/main.js", [...commandArgs, "--data-dir", cliDir, "--relay", stack.relay_url, "--api-url", stack.agent_api_url], env);
  const server = (commandArgs) => capture("dist/server/agent/main.js", [...commandArgs, "--data-dir", join(stack.home, "server")]);

  const npub = await stepped("demo identity", async () => {
    if (existsSync(join(cliDir, "secret-key"))) return JSON.parse(await cli(["whoami", "--json"])).npub;
    return JSON.parse(await cli(["login", "--json"], { BURROW_NSEC: randomBytes(32).toString("hex") })).npub;
  });
  await stepped("allowlist the demo identity", () => server(["allowlist", "add", npub, "--note", "agent demo", "--max-agents", "1000"]));
  const current = await stepped("read the current agent", async () => {
    const status = JSON.parse(await cli(["agent", "status", "--json"]).catch((error) => JSON.stringify({ status: 0, error: error.message })));
    return status.agent_id ? status : null;
  }, (agent) => `${agent.agent_id} on ${agent.vm_id ?? "no VM"} (${agent.state})`);
  if (current?.vm_id) {
    await stepped(`delete its VM ${current.vm_id}`, () => server(["vm", "delete", current.vm_id, "--spawner-url", stack.spawner_url]));
  } else {
    console.log("  (no agent VM yet: nothing to delete)");
  }
  await stepped(current ? "recover the agent" : "ensure a first agent", async () => {
    const answer = JSON.parse(await cli(["agent", current ? "recover" : "ensure", "--json"]));
    if (!answer.agent_id) throw new Error(`no agent in the answer: ${JSON.stringify(answer)}`);
    return `${answer.agent_id} (${answer.state}${current && answer.agent_id !== current.agent_id ? ", a new agent" : ""})`;
  });
  const reply = await stepped("chat with the agent", async () => JSON.parse(await cli(["agent", "chat", MESSAGE, "--json", "--poll-delay", "0.5"])).reply);
  console.log(`\nAgent replied: ${reply}`);
} catch {
  failed = true;
} finally {
  if (stackUse) await stackUse.release();
}
console.log(`\nagent demo ${failed ? "FAILED" : "passed"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
