export * from "./state.js";
export * from "./actions.js";
export * from "./ipc.js";
export * from "./errors.js";
export * from "./csp.js";
export * from "./pubkeys.js";
export * from "./relayUrl.js";
export * from "./agentApi.js";
