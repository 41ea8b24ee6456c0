import { homedir } from "node:os";
import { join } from "node:path";

export const APP_NAME = "Burrow";

/** The OS's per-user app data dir, the same place Electron's `userData` points to. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === "darwin") return join(homedir(), "Library", "Application Support", APP_NAME);
  if (platform === "win32") return join(env["APPDATA"] ?? join(homedir(), "AppData", "Roaming"), APP_NAME);
  return join(env["XDG_CONFIG_HOME"] || join(homedir(), ".config"), APP_NAME);
}

/** The home of the one local stack every instance on this machine shares: BURROW_STACK_HOME, else `<app data>/stack`. */
export function defaultStackHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  return env["BURROW_STACK_HOME"] || join(defaultDataDir(env, platform), "stack");
}
