import type { AppAction, DispatchReply } from "../../../shared/actions.js";
import { WS_PATH, type BurrowBridge, type ClientMessage, type HostMessage } from "../../../shared/ipc.js";
import { CONTRACT_VERSION, type AppState, type StatePatch, type StatePush, type StateSnapshot } from "../../../shared/state.js";
import { foldPushes } from "../../../shared/statePush.js";
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
  if (t === "state" && isRecord(message["push"])) {
    const push = parsePush(message["push"]);
    return push ? { t, push } : null;
  }
  if (t === "reply" && typeof message["id"] === "number" && isDispatchReply(message["reply"])) {
    return { t, id: message["id"], reply: message["reply"] };
  }
  return null;
}

// The host sends the core's own pushes; only their envelope is checked here.
function parsePush(push: Record<string, unknown>): StatePush | null {
  const { rev } = push;
  if (typeof rev !== "number") return null;
  if (isRecord(push["snapshot"])) return { rev, snapshot: push["snapshot"] as unknown as AppState };
  const patch = push["patch"];
  if (typeof push["base_rev"] !== "number" || !isRecord(patch) || !isRecord(patch["fields"]) || !Array.isArray(patch["chats"]) || !Array.isArray(patch["removed_chats"]) || !isRecord(patch["pictures"])) return null;
  return { rev, base_rev: push["base_rev"], patch: patch as unknown as StatePatch };
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

  // A patch that does not fit what is held (a rev was missed) asks the host for the whole state.
  let fold: (push: StatePush) => void;
  function publish(snapshot: StateSnapshot): void {
    latest = snapshot;
    for (const listener of stateListeners) listener(snapshot);
  }
  function askForWhole(): void {
    const ws = socket;
    if (ws && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ t: "snapshot" } satisfies ClientMessage));
  }

  const receive = (ws: WebSocket, message: HostMessage): void => {
    switch (message.t) {
      case "hello":
        if (message.contract_version !== CONTRACT_VERSION) {
          setStatus("incompatible");
          ws.close();
        }
        return;
      case "state":
        fold(message.push);
        return;
      case "reply":
        pending.get(message.id)?.resolve(message.reply);
        pending.delete(message.id);
        return;
    }
  };

  const open = (): void => {
    const ws = openSocket(url);
    socket = ws;
    // Each connection starts from the whole state the host sends first.
    fold = foldPushes(publish, askForWhole);
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
