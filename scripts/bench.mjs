// `npm run bench`: builds, then runs every bench/*.bench.js, which print tables and write bench/results.json.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ensureNativeModules } from "./native.mjs";
import { root, step } from "./run.mjs";

await ensureNativeModules("node");
await step("build", process.execPath, ["scripts/build.mjs"]);
const benches = readdirSync(join(root, "dist", "bench")).filter((name) => name.endsWith(".bench.js")).sort();
for (const bench of benches) await step(`bench: ${bench}`, process.execPath, [join(root, "dist", "bench", bench)]);
console.log("\nFigures written to bench/results.json");
