// Typechecks each area with its own config, so the import rules of ARCHITECTURE.md hold at build time.
import { bin, step } from "./run.mjs";

// renderer-test: the renderer's unit tests, whose config emits (hence --noEmit here).
for (const area of ["shared", "core", "electron", "web", "e2e"]) {
  await step(`typecheck: ${area}`, bin("tsc"), ["-p", `tsconfig.${area}.json`]);
}
await step("typecheck: renderer-test", bin("tsc"), ["-p", "tsconfig.renderer-test.json", "--noEmit"]);
