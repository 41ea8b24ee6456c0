// The Electron binary for `npm start`: the installed one, or fetched on first use. A failed fetch is
// remembered (with its time) in the user's cache dir, so later starts go straight to the browser host
// and try the download again at most once a day, or when asked with --fetch-electron.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const FETCH_ELECTRON_FLAG = "--fetch-electron";
const RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** Where the failure is remembered: the platform's per-user cache dir. */
export function electronFetchStatePath(env = process.env, platform = process.platform) {
  const base =
    env.BURROW_CACHE_DIR ??
    (platform === "darwin" ? join(homedir(), "Library", "Caches", "Burrow")
    : platform === "win32" ? join(env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"), "Burrow", "Cache")
    : join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "burrow"));
  return join(base, "electron-fetch.json");
}

function readFailure(path) {
  try {
    const failure = JSON.parse(readFileSync(path, "utf8"));
    return typeof failure.failed_at === "number" && typeof failure.reason === "string" ? failure : null;
  } catch {
    return null;
  }
}

function rememberFailure(path, reason, now) {
  try {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, `${JSON.stringify({ failed_at: now, reason })}\n`);
  } catch {
    // Not remembered: the next start tries again, which is what happened before.
  }
}

/** The installed Electron binary (as node_modules/electron/index.js finds it, without running its download), or null. */
function installedBinary(root) {
  const packageDir = join(root, "node_modules", "electron");
  const pathFile = join(packageDir, "path.txt");
  if (!existsSync(pathFile)) return null;
  const binary = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(packageDir, "dist"), readFileSync(pathFile, "utf8").trim());
  return existsSync(binary) ? binary : null;
}

/**
 * `{ path }` of the Electron binary, fetching it when it is missing and no failed fetch is remembered
 * from the last day (or `force`); otherwise `{ reason }` there is none, said in one sentence.
 */
export function findElectron(root, { force = false, now = Date.now(), statePath = electronFetchStatePath() } = {}) {
  const installed = installedBinary(root);
  if (installed) return { path: installed };
  const installer = join(root, "node_modules", "electron", "install.js");
  if (!existsSync(installer)) return { reason: "the electron package is not installed" };
  const failure = readFailure(statePath);
  if (failure && !force && now - failure.failed_at < RETRY_AFTER_MS) {
    const when = new Date(failure.failed_at).toISOString().replace("T", " ").slice(0, 16);
    return { reason: `its binary could not be downloaded at ${when} UTC (${failure.reason}); Burrow tries again a day later, or now with npm start -- ${FETCH_ELECTRON_FLAG}` };
  }
  console.log(failure ? "Fetching the Electron binary again…" : "Fetching the Electron binary (first start)…");
  const result = spawnSync(process.execPath, [installer], { cwd: root, encoding: "utf8", timeout: 300_000 });
  const fetched = installedBinary(root);
  if (fetched) {
    rmSync(statePath, { force: true });
    return { path: fetched };
  }
  const output = `${result.stderr ?? ""}\n${result.stdout ?? ""}`.split("\n").map((line) => line.trim());
  const detail = output.find((line) => /error|failed/i.test(line)) ?? output.find(Boolean) ?? (result.error?.message || "unknown error");
  rememberFailure(statePath, detail.slice(0, 300), now);
  return { reason: `its binary could not be downloaded (${detail}); Burrow tries again a day later, or now with npm start -- ${FETCH_ELECTRON_FLAG}` };
}
