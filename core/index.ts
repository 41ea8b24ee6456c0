/**
 * The core's door: everything outside `core/` (the Electron host, the browser host, the CLI, the
 * server's agent bot) imports the core from here, and the pure protocol from `core/marmot/index.ts`.
 * What is not exported here is the core's own business (ARCHITECTURE.md, "Inside the core").
 */
export { AppCore, type AppCoreOptions } from "./app/appCore.js";
export type { LogLine, Logger } from "./base/log.js";
export { systemClock, type Clock } from "./base/clock.js";
export type { CoreEvent, CoreEventListener } from "./base/events.js";
export { FileSecretStore, PLAIN_FILE_NOTICE, type SecretStore } from "./base/secretStore.js";
export { CLIENT_NAME, DEFAULT_TIMINGS, PUBLIC_AGENT_API_URL, PUBLIC_RELAYS, agentApiUrlFromEnv, relaysFromEnv, type CoreTimings } from "./base/config.js";
export { APP_NAME, defaultDataDir, defaultStackHome } from "./base/paths.js";
export { encodeNsec, generateKeys, parsePrivateKey, type LocalKeys } from "./base/keys.js";
export { waitForState } from "./base/waitForState.js";
export { SerialQueue } from "./base/serialQueue.js";
export { AgentApiError, type AgentInfo, type AgentResponse } from "./agentApi/client.js";
