// The local stack every instance on this machine shares (relay, VM spawner, agent API), in its
// stack home: BURROW_STACK_HOME, else <app data>/stack. The code lives in server/stack/ (built to
// dist/); run directly, this is `npm run stack -- status|stop`.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { root, run } from "./run.mjs";

async function built(path) {
  if (!existsSync(join(root, "dist", path))) {
    const code = await run(process.execPath, [join(root, "scripts", "build.mjs")]);
    if (code !== 0) process.exit(code);
  }
  return import(pathToFileURL(join(root, "dist", path)).href);
}

/** The stack home of this environment. */
export async function stackHome() {
  const { defaultStackHome } = await built(join("core", "base", "paths.js"));
  return defaultStackHome();
}

/**
 * Registers this process as a user of the local stack and returns it, starting it when none runs.
 * `runtime`: the Node to run the stack on (`{ execPath, env }`); default this process's.
 */
export async function useLocalStack(label, runtime) {
  const { useLocalStack: use } = await built(join("server", "stack", "localStack.js"));
  return use({ home: await stackHome(), label, ...(runtime ? { runtime } : {}) });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await built(join("server", "stack", "localStack.js"));
  process.exit(await run(process.execPath, [join(root, "dist", "server", "stack", "main.js"), ...process.argv.slice(2)]));
}
