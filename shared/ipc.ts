// Transport contract shared by the Electron adapter (IPC) and the browser host (WebSocket).
import type { AppAction, DispatchReply } from "./actions.js";
import type { StateSnapshot } from "./state.js";

/** Electron IPC channel names. */
export const IPC_CHANNELS = {
  /** renderer -> main, invoke: AppAction -> DispatchReply */
  dispatch: "burrow:dispatch",
  /** renderer -> main, invoke: () -> StateSnapshot (the current one, sent on subscribe) */
  snapshot: "burrow:snapshot",
  /** main -> renderer, push: StateSnapshot */
  state: "burrow:state",
} as const;

/** What the preload exposes as `window.burrow`, and what the browser host's client implements. */
export interface BurrowBridge {
  dispatch(action: AppAction): Promise<DispatchReply>;
  /** Calls `listener` with the current snapshot, then with every newer one. Returns an unsubscribe. */
  onState(listener: (snapshot: StateSnapshot) => void): () => void;
}

/** The browser host's WebSocket path. The token travels as the `token` query parameter. */
export const WS_PATH = "/ws";

export type ClientMessage = { t: "dispatch"; id: number; action: unknown };

export type HostMessage =
  | { t: "hello"; contract_version: number }
  | { t: "state"; rev: number; state: StateSnapshot["state"] }
  | { t: "reply"; id: number; reply: DispatchReply };
