// The built programs the local stack runs, located beside this build (dist/ mirrors the source tree).
import { fileURLToPath } from "node:url";

const built = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export const STACK_ENTRIES = {
  supervisor: built("server/stack/supervisor.js"),
  relay: built("server/relay/main.js"),
  spawner: built("server/agent/spawner/main.js"),
  agentServer: built("server/agent/main.js"),
} as const;
