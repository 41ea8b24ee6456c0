// `npm test`: typecheck, lint, build, unit + integration tests (node:test), then e2e (Playwright).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureNativeModules } from "./native.mjs";
import { bin, step } from "./run.mjs";

await ensureNativeModules("node");

// Nothing a test starts may use this user's local stack or its default ports: one throwaway stack
// home for the whole run (Playwright workers make their own), relays on free ports.
const stackHome = await mkdtemp(join(tmpdir(), "burrow-test-stack-"));
process.env.BURROW_STACK_HOME = stackHome;
process.env.BURROW_RELAY_PORT = "0";

const only = process.argv[2];
if (!only || only === "static") {
  await step("typecheck", process.execPath, ["scripts/typecheck.mjs"]);
  await step("lint", bin("eslint"), ["."]);
}
await step("build", process.execPath, ["scripts/build.mjs"]);
if (!only || only === "unit") {
  await step("unit and integration tests", process.execPath, ["--test", "--test-reporter=spec", "--test-concurrency=2", "dist/"]);
}
if (!only || only === "demo") {
  // The agent demo on the throwaway stack home: delete the agent's VM, recover, chat (twice: first
  // agent, then recovery, with the stack stopped and started again in between on the same URLs).
  const demoDir = await mkdtemp(join(tmpdir(), "burrow-agent-demo-"));
  await step("agent demo (first agent)", process.execPath, ["scripts/agent-demo.mjs", "--data-dir", demoDir]);
  await step("agent demo (delete the VM, recover, chat)", process.execPath, ["scripts/agent-demo.mjs", "--data-dir", demoDir]);
  await rm(demoDir, { recursive: true, force: true });
}
if (!only || only === "e2e") {
  await step("e2e tests (Playwright)", bin("playwright"), ["test", "-c", "e2e/playwright.config.ts"]);
}
await rm(stackHome, { recursive: true, force: true });
