// Transport contract shared by the Electron adapter (IPC) and the browser host (WebSocket).
import type { AppAction, DispatchReply } from "./actions.js";
import type { StatePush, StateSnapshot } from "./state.js";

/** Electron IPC channel names. */
export const IPC_CHANNELS = {
  /** renderer -> main, invoke: AppAction -> DispatchReply */
  dispatch: "burrow:dispatch",
  /** renderer -> main, invoke: () -> StatePush (the whole current state: on subscribe, and after a missed rev) */
  snapshot: "burrow:snapshot",
  /** main -> renderer, push: StatePush */
  state: "burrow:state",
} as const;

/** What the preload exposes as `window.burrow`, and what the browser host's client implements. */
export interface BurrowBridge {
  dispatch(action: AppAction): Promise<DispatchReply>;
  /** Calls `listener` with the current snapshot, then with every newer one (pushes folded into whole states). Returns an unsubscribe. */
  onState(listener: (snapshot: StateSnapshot) => void): () => void;
}

/** The browser host's WebSocket path. The token travels as the `token` query parameter. */
export const WS_PATH = "/ws";

/** `snapshot`: the renderer missed a rev and asks for the whole state. */
export type ClientMessage = { t: "dispatch"; id: number; action: unknown } | { t: "snapshot" };

export type HostMessage =
  | { t: "hello"; contract_version: number }
  | { t: "state"; push: StatePush }
  | { t: "reply"; id: number; reply: DispatchReply };
