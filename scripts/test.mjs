// `npm test`: typecheck, lint, build, unit + integration tests (node:test), then e2e (Playwright).
import { ensureNativeModules } from "./native.mjs";
import { bin, step } from "./run.mjs";

await ensureNativeModules("node");

const only = process.argv[2];
if (!only || only === "static") {
  await step("typecheck", process.execPath, ["scripts/typecheck.mjs"]);
  await step("lint", bin("eslint"), ["."]);
}
await step("build", process.execPath, ["scripts/build.mjs"]);
if (!only || only === "unit") {
  await step("unit and integration tests", process.execPath, ["--test", "--test-reporter=spec", "--test-concurrency=2", "dist/"]);
}
if (!only || only === "e2e") {
  await step("e2e tests (Playwright)", bin("playwright"), ["test", "-c", "e2e/playwright.config.ts"]);
}
