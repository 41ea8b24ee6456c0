// Typechecks each area with its own config, so the import rules of ARCHITECTURE.md hold at build time.
import { bin, step } from "./run.mjs";

for (const area of ["shared", "core", "electron", "web", "e2e"]) {
  await step(`typecheck: ${area}`, bin("tsc"), ["-p", `tsconfig.${area}.json`]);
}
