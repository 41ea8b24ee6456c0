// Everything a renderer may ask of the core. Grouped by feature; every variant is plain JSON.

export type AuthAction =
  | { type: "CreateAccount" }
  | { type: "Login"; nsec: string }
  | { type: "Logout" }
  /** Answered in the dispatch reply (`nsec`), never through AppState. */
  | { type: "ExportSecretKey"; confirmed: true };

export type ChatAction =
  /** Opens the direct chat with this peer (npub or hex), creating it first when there is none. */
  | { type: "CreateChat"; peer: string }
  | { type: "OpenChat"; chat_id: string }
  | { type: "CloseChat" }
  | { type: "LoadOlderMessages"; chat_id: string }
  | { type: "SendMessage"; chat_id: string; text: string }
  | { type: "RetryMessage"; chat_id: string; message_id: string }
  | { type: "AcceptInvite"; invite_id: string }
  | { type: "DeclineInvite"; invite_id: string };

export type NetworkAction = { type: "SetNetworkEnabled"; enabled: boolean } | { type: "SetRelays"; relays: string[] };

export type AgentAction =
  /** The New Agent button: provision (or find) this account's agent and open its chat. */
  | { type: "EnsureAgent" }
  /** null goes back to the environment's or the built-in agent API. */
  | { type: "SetAgentApiUrl"; url: string | null };

export type UiAction = { type: "DismissToast"; id: number };

export type AppAction = AuthAction | ChatAction | NetworkAction | AgentAction | UiAction;

/** Longest message text accepted, in UTF-16 code units. */
export const MAX_MESSAGE_LENGTH = 16_000;
export const MAX_RELAYS = 16;

export type AppActionType = AppAction["type"];

/** The answer to one dispatch: accepted (with the exported key for ExportSecretKey), or refused with a reason. */
export type DispatchReply = { ok: true; nsec?: string } | { ok: false; error: string };

export type ParsedAction = { ok: true; action: AppAction } | { ok: false; error: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const HEX_ID = /^[0-9a-f]{64}$/;

const RELAY_URL = /^wss?:\/\/(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?(?:\/[^\s#]*)?$/i;

const HTTP_URL = /^https?:\/\/(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?(?:\/[^\s?#]*)?$/i;

/** An agent API base URL: http:// or https:// with a host, no query or fragment. */
export function isAgentApiUrl(value: string): boolean {
  return value.length <= 512 && HTTP_URL.test(value);
}

/** A relay URL users may configure: ws:// or wss:// with a host. */
export function isRelayUrl(value: string): boolean {
  return value.length <= 512 && RELAY_URL.test(value);
}

function hexField(raw: Record<string, unknown>, field: string, type: string): string | { error: string } {
  const value = raw[field];
  return typeof value === "string" && HEX_ID.test(value) ? value : { error: `Malformed ${type}: ${field} must be 64 lowercase hex characters` };
}

/** Validates untrusted input (IPC, WebSocket) into an AppAction, or says what is wrong with it. */
export function parseAction(raw: unknown): ParsedAction {
  if (!isRecord(raw)) return { ok: false, error: "Malformed action: expected an object" };
  const type = raw["type"];
  if (typeof type !== "string") return { ok: false, error: "Malformed action: missing type" };
  switch (type) {
    case "CreateAccount":
    case "Logout":
      return { ok: true, action: { type } };
    case "Login": {
      const nsec = raw["nsec"];
      if (typeof nsec !== "string") return { ok: false, error: "Malformed Login: nsec must be a string" };
      return { ok: true, action: { type, nsec } };
    }
    case "ExportSecretKey":
      if (raw["confirmed"] !== true) return { ok: false, error: "Key export needs confirmation" };
      return { ok: true, action: { type, confirmed: true } };
    case "SetNetworkEnabled": {
      const enabled = raw["enabled"];
      if (typeof enabled !== "boolean") return { ok: false, error: "Malformed SetNetworkEnabled: enabled must be a boolean" };
      return { ok: true, action: { type, enabled } };
    }
    case "CreateChat": {
      const peer = raw["peer"];
      if (typeof peer !== "string" || peer.length > 200) return { ok: false, error: "Malformed CreateChat: peer must be an npub or hex public key" };
      return { ok: true, action: { type, peer } };
    }
    case "OpenChat":
    case "LoadOlderMessages": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      return { ok: true, action: { type, chat_id: chatId } };
    }
    case "CloseChat":
      return { ok: true, action: { type } };
    case "SendMessage": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      const text = raw["text"];
      if (typeof text !== "string" || text.trim() === "") return { ok: false, error: "Malformed SendMessage: text must be a non-empty string" };
      if (text.length > MAX_MESSAGE_LENGTH) return { ok: false, error: `Message too long: at most ${MAX_MESSAGE_LENGTH} characters` };
      return { ok: true, action: { type, chat_id: chatId, text } };
    }
    case "RetryMessage": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      const messageId = hexField(raw, "message_id", type);
      if (typeof messageId !== "string") return { ok: false, ...messageId };
      return { ok: true, action: { type, chat_id: chatId, message_id: messageId } };
    }
    case "AcceptInvite":
    case "DeclineInvite": {
      const inviteId = hexField(raw, "invite_id", type);
      if (typeof inviteId !== "string") return { ok: false, ...inviteId };
      return { ok: true, action: { type, invite_id: inviteId } };
    }
    case "SetRelays": {
      const relays = raw["relays"];
      if (!Array.isArray(relays) || relays.length > MAX_RELAYS || !relays.every((r): r is string => typeof r === "string" && isRelayUrl(r))) {
        return { ok: false, error: `Malformed SetRelays: relays must be up to ${MAX_RELAYS} ws:// or wss:// URLs` };
      }
      return { ok: true, action: { type, relays: [...new Set(relays)] } };
    }
    case "EnsureAgent":
      return { ok: true, action: { type } };
    case "SetAgentApiUrl": {
      const url = raw["url"];
      if (url !== null && (typeof url !== "string" || !isAgentApiUrl(url))) {
        return { ok: false, error: "Malformed SetAgentApiUrl: url must be an http:// or https:// URL, or null" };
      }
      return { ok: true, action: { type, url: url === null ? null : url.replace(/\/+$/, "") } };
    }
    case "DismissToast": {
      const id = raw["id"];
      if (typeof id !== "number" || !Number.isSafeInteger(id)) return { ok: false, error: "Malformed DismissToast: id must be an integer" };
      return { ok: true, action: { type, id } };
    }
    default:
      return { ok: false, error: `Unknown action: ${type.slice(0, 64)}` };
  }
}

/** A log-safe description of an action: names and harmless fields only, never a key. */
export function actionTag(action: AppAction): string {
  switch (action.type) {
    case "CreateAccount":
    case "Login":
    case "Logout":
    case "ExportSecretKey":
      return action.type;
    case "SetNetworkEnabled":
      return `SetNetworkEnabled(${action.enabled ? "on" : "off"})`;
    case "DismissToast":
      return `DismissToast(${action.id})`;
    case "CreateChat":
      return "CreateChat";
    case "CloseChat":
      return "CloseChat";
    case "OpenChat":
    case "LoadOlderMessages":
    case "SendMessage":
      return `${action.type}(${action.chat_id.slice(0, 8)})`;
    case "RetryMessage":
      return `RetryMessage(${action.chat_id.slice(0, 8)}, ${action.message_id.slice(0, 8)})`;
    case "AcceptInvite":
    case "DeclineInvite":
      return `${action.type}(${action.invite_id.slice(0, 8)})`;
    case "SetRelays":
      return `SetRelays(${action.relays.length})`;
    case "EnsureAgent":
      return "EnsureAgent";
    case "SetAgentApiUrl":
      return `SetAgentApiUrl(${action.url === null ? "default" : "custom"})`;
  }
}
