import type { AppAction, DispatchReply } from "../../../shared/actions.js";
import { WS_PATH, type BurrowBridge, type ClientMessage, type HostMessage } from "../../../shared/ipc.js";
import { CONTRACT_VERSION, type AppState, type StateSnapshot } from "../../../shared/state.js";
import type { Connection, ConnectionStatus } from "./connectionTypes.js";

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;
/** A host that accepts the socket and then refuses the token or origin closes with this code. */
const REFUSED_CLOSE_CODE = 1008;

export function tokenFromHash(hash: string): string | null {
  const encoded = /^#(?:.*&)?token=([^&]*)/.exec(hash)?.[1];
  if (!encoded) return null;
  try {
    return decodeURIComponent(encoded);
  } catch {
    return null;
  }
}

export function webSocketUrl(location: Pick<Location, "protocol" | "host">, token: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${WS_PATH}?token=${encodeURIComponent(token)}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function isDispatchReply(value: unknown): value is DispatchReply {
  return isRecord(value) && (value["ok"] === true || (value["ok"] === false && typeof value["error"] === "string"));
}

function parseHostMessage(data: unknown): HostMessage | null {
  if (typeof data !== "string") return null;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isRecord(message)) return null;
  const { t } = message;
  if (t === "hello" && typeof message["contract_version"] === "number") {
    return { t, contract_version: message["contract_version"] };
  }
  if (t === "state" && typeof message["rev"] === "number" && isRecord(message["state"])) {
    // The host sends the core's own snapshot; only the envelope is checked here.
    return { t, rev: message["rev"], state: message["state"] as unknown as AppState };
  }
  if (t === "reply" && typeof message["id"] === "number" && isDispatchReply(message["reply"])) {
    return { t, id: message["id"], reply: message["reply"] };
  }
  return null;
}

/** Opens the socket to the host: the browser's WebSocket unless the caller brings another transport. */
export type OpenSocket = (url: string) => WebSocket;

const browserSocket: OpenSocket = (url) => new WebSocket(url);

interface PendingDispatch {
  resolve(reply: DispatchReply): void;
  reject(error: Error): void;
}

/**
 * The browser host's side of BurrowBridge. Reconnects with backoff; a dispatch made while
 * disconnected, or still unanswered when the socket drops, is rejected rather than queued.
 */
export function connectWebSocket(url: string, openSocket: OpenSocket = browserSocket): Connection {
  let status: ConnectionStatus = "connecting";
  let socket: WebSocket | null = null;
  let retryMs = FIRST_RETRY_MS;
  let nextId = 1;
  let latest: StateSnapshot | null = null;
  const pending = new Map<number, PendingDispatch>();
  const statusListeners = new Set<() => void>();
  const stateListeners = new Set<(snapshot: StateSnapshot) => void>();

  const setStatus = (next: ConnectionStatus): void => {
    if (status === next) return;
    status = next;
    for (const listener of statusListeners) listener();
  };

  const receive = (ws: WebSocket, message: HostMessage): void => {
    switch (message.t) {
      case "hello":
        if (message.contract_version !== CONTRACT_VERSION) {
          setStatus("incompatible");
          ws.close();
        }
        return;
      case "state": {
        const snapshot: StateSnapshot = { rev: message.rev, state: message.state };
        latest = snapshot;
        for (const listener of stateListeners) listener(snapshot);
        return;
      }
      case "reply":
        pending.get(message.id)?.resolve(message.reply);
        pending.delete(message.id);
        return;
    }
  };

  const open = (): void => {
    const ws = openSocket(url);
    socket = ws;
    ws.onopen = () => {
      retryMs = FIRST_RETRY_MS;
      setStatus("connected");
    };
    ws.onmessage = (event: MessageEvent) => {
      const message = parseHostMessage(event.data);
      if (message) receive(ws, message);
    };
    ws.onclose = (event: CloseEvent) => {
      socket = null;
      for (const dispatch of pending.values()) dispatch.reject(new Error("Connection to Burrow lost"));
      pending.clear();
      if (status === "incompatible") return;
      if (event.code === REFUSED_CLOSE_CODE) {
        setStatus("refused");
        return;
      }
      setStatus("disconnected");
      setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
  };

  const bridge: BurrowBridge = {
    dispatch(action: AppAction): Promise<DispatchReply> {
      const ws = socket;
      if (!ws || ws.readyState !== ws.OPEN) return Promise.reject(new Error("Not connected to Burrow"));
      const message: ClientMessage = { t: "dispatch", id: nextId++, action };
      return new Promise((resolve, reject) => {
        pending.set(message.id, { resolve, reject });
        ws.send(JSON.stringify(message));
      });
    },
    onState(listener: (snapshot: StateSnapshot) => void): () => void {
      stateListeners.add(listener);
      if (latest) listener(latest);
      return () => {
        stateListeners.delete(listener);
      };
    },
  };

  open();
  return {
    bridge,
    getStatus: () => status,
    onStatus(listener: () => void): () => void {
      statusListeners.add(listener);
      return () => {
        statusListeners.delete(listener);
      };
    },
  };
}
