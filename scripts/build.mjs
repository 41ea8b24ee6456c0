// Builds everything the app runs from: the Node side (tsc → dist/), the renderer and the preload bundle (vite); and the renderer's unit tests (tsc → dist/renderer-unit/).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bin, root, step } from "./run.mjs";

await step("build: core, hosts and server (tsc)", bin("tsc"), ["-p", "tsconfig.build.json"]);
await step("build: renderer unit tests (tsc)", bin("tsc"), ["-p", "tsconfig.renderer-test.json"]);
await step("build: renderer (vite)", bin("vite"), ["build", "--logLevel", "warn"]);
await step("build: preload (vite)", bin("vite"), ["build", "-c", "vite.preload.config.ts", "--logLevel", "warn"]);
await writeFile(join(root, "dist", "build-stamp.json"), JSON.stringify({ built_at: new Date().toISOString() }) + "\n");
