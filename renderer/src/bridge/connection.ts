import type { BurrowBridge } from "../../../shared/ipc.js";
import type { Connection, ConnectionStatus } from "./connectionTypes.js";
import { connectWebSocket, tokenFromHash, webSocketUrl } from "./webSocketBridge.js";

export type { Connection, ConnectionStatus } from "./connectionTypes.js";

function fixedConnection(bridge: BurrowBridge, status: ConnectionStatus): Connection {
  return { bridge, getStatus: () => status, onStatus: () => () => undefined };
}

const NO_BRIDGE: BurrowBridge = {
  dispatch: () => Promise.reject(new Error("Not connected to Burrow")),
  onState: () => () => undefined,
};

/** Electron's preload bridge when present, otherwise the browser host's WebSocket. */
export function openConnection(): Connection {
  if (window.burrow) return fixedConnection(window.burrow, "connected");
  // The token is read once, and opening a new link that differs only in its hash does not reload the page.
  window.addEventListener("hashchange", () => location.reload());
  const token = tokenFromHash(location.hash);
  if (token === null) return fixedConnection(NO_BRIDGE, "no_token");
  return connectWebSocket(webSocketUrl(location, token));
}
