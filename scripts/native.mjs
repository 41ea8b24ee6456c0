// Native modules (better-sqlite3) are built for one runtime at a time: Node (tests, browser host,
// CLI) or Electron. This rebuilds them for the runtime about to start when the last build was for the other.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bin, root, run } from "./run.mjs";

const stampPath = join(root, "node_modules", ".burrow-native-runtime");

function builtFor() {
  return existsSync(stampPath) ? readFileSync(stampPath, "utf8").trim() : `node-${process.versions.modules}`;
}

/** `runtime` is "node" or "electron". */
export async function ensureNativeModules(runtime) {
  const electronVersion = JSON.parse(readFileSync(join(root, "node_modules", "electron", "package.json"), "utf8")).version;
  const wanted = runtime === "electron" ? `electron-${electronVersion}` : `node-${process.versions.modules}`;
  if (builtFor() === wanted) return;
  console.log(`Rebuilding native modules for ${runtime === "electron" ? `Electron ${electronVersion}` : `Node ${process.version}`}…`);
  const code =
    runtime === "electron"
      ? await run(bin("electron-builder"), ["install-app-deps"])
      : await run(process.platform === "win32" ? "npm.cmd" : "npm", ["rebuild", "better-sqlite3"]);
  if (code !== 0) throw new Error(`rebuilding native modules for ${runtime} failed (exit ${code})`);
  writeFileSync(stampPath, `${wanted}\n`);
}
