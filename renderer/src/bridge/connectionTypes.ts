// What the app gets from a bridge, whichever host it runs in: apart from both bridges, so neither imports the other.
import type { BurrowBridge } from "../../../shared/ipc.js";

/**
 * `no_token` and `refused` need a new link from Burrow; `incompatible` means the page and the
 * host speak different contract versions. None of them is retried.
 */
export type ConnectionStatus = "connecting" | "connected" | "disconnected" | "no_token" | "refused" | "incompatible";

export interface Connection {
  readonly bridge: BurrowBridge;
  getStatus(): ConnectionStatus;
  onStatus(listener: () => void): () => void;
}
