// Everything a renderer may ask of the core. Grouped by feature; every variant is plain JSON.
import { toUserMessage } from "./errors.js";
import { isRelayUrl, normalizeRelayUrls, relayUrlProblem } from "./relayUrl.js";

export { isRelayUrl } from "./relayUrl.js";

export type AuthAction =
  | { type: "CreateAccount" }
  | { type: "Login"; nsec: string }
  | { type: "Logout" }
  /** Answered in the dispatch reply (`nsec`), never through AppState. */
  | { type: "ExportSecretKey"; confirmed: true }
  /** The one-time key backup prompt after CreateAccount: done or declined, never shown again for this account. */
  | { type: "DismissKeyBackup" }
  /** Closes the key-storage notice on the main screen; Settings keeps showing it. */
  | { type: "DismissStorageNotice" };

/**
 * A form's own request: its outcome comes back in `AppState.outcomes` under this id, and its error is
 * not toasted (the form shows it inline).
 */
export interface Requested {
  request_id?: number;
}

export type ChatAction =
  /** Opens the direct chat with this peer (npub or hex), creating it first when there is none. */
  | ({ type: "CreateChat"; peer: string } & Requested)
  /** message_id: a message of the chat (from a search result) to show and highlight. */
  | { type: "OpenChat"; chat_id: string; message_id?: string }
  | { type: "CloseChat" }
  | { type: "LoadOlderMessages"; chat_id: string }
  /** reply_to: the id of a message of this chat the new one quotes. */
  | { type: "SendMessage"; chat_id: string; text: string; reply_to?: string }
  | { type: "RetryMessage"; chat_id: string; message_id: string }
  | { type: "AcceptInvite"; invite_id: string }
  | { type: "DeclineInvite"; invite_id: string }
  | { type: "React"; chat_id: string; message_id: string; emoji: string }
  | { type: "SetChatMuted"; chat_id: string; muted: boolean }
  /** A new text for one of our own sent messages. */
  | { type: "EditMessage"; chat_id: string; message_id: string; text: string }
  /** Deletes one of our own sent messages, for everyone in the chat. */
  | { type: "DeleteMessage"; chat_id: string; message_id: string }
  /** Grows the open chat's window until the message is in it, and names it in `open_chat.focus_message_id`. */
  | { type: "FocusMessage"; chat_id: string; message_id: string };

export type GroupAction =
  /** members: npubs or hex pubkeys of the others; we are an admin, and so are `admins` (a subset of members). */
  | ({ type: "CreateGroup"; name: string; description: string; members: string[]; admins?: string[] } & Requested)
  | ({ type: "AddMembers"; chat_id: string; members: string[] } & Requested)
  | ({ type: "RemoveMember"; chat_id: string; member: string } & Requested)
  | ({ type: "RenameGroup"; chat_id: string; name: string; description: string } & Requested)
  | ({ type: "LeaveGroup"; chat_id: string } & Requested);

export type NetworkAction = { type: "SetNetworkEnabled"; enabled: boolean } | { type: "SetRelays"; relays: string[] };

export type AgentAction =
  /** The New Agent button: provision (or find) this account's agent and open its chat. */
  | { type: "EnsureAgent" }
  /** null goes back to the environment's or the built-in agent API. */
  | { type: "SetAgentApiUrl"; url: string | null }
  /** Asks the agent API again whether this account may have an agent (after a probe got no answer). */
  | { type: "RetryAgentProbe" };

export type UiAction = { type: "DismissToast"; id: number };

export type SearchAction =
  /** Searches the messages stored here: of every chat, or of chat_id only. */
  | { type: "Search"; query: string; chat_id?: string }
  | { type: "LoadMoreSearchResults" }
  | { type: "ClearSearch" };

export type ProfileAction =
  /** Our kind 0, published to our relays; picture: an http(s) URL or null. */
  | { type: "SetProfile"; name: string; about: string; picture: string | null }
  /** Remote profile pictures, fetched by the core (off by default: a picture's server learns our IP). */
  | { type: "SetLoadPictures"; enabled: boolean };

export type AppAction = AuthAction | ChatAction | GroupAction | NetworkAction | AgentAction | UiAction | SearchAction | ProfileAction;

export const MAX_GROUP_NAME_LENGTH = 100;
export const MAX_GROUP_DESCRIPTION_LENGTH = 500;
export const MAX_GROUP_MEMBERS_PER_ACTION = 200;

/**
 * Longest message text accepted, in UTF-16 code units, for the event sizes relays take: 16,000 units
 * are 16 to 48 KB of UTF-8, MLS encryption and base64 add about a third: the longest come to about
 * the 64 KiB many relays set as their event limit. Longer text is refused, never cut.
 */
export const MAX_MESSAGE_LENGTH = 16_000;
/** The composer shows the count from here on. */
export const MESSAGE_LENGTH_WARNING = 14_000;
export const MAX_REQUEST_ID = 2 ** 31;
export const MAX_RELAYS = 16;
export const MAX_SEARCH_QUERY_LENGTH = 200;
export const MAX_PROFILE_NAME_LENGTH = 100;
export const MAX_PROFILE_ABOUT_LENGTH = 500;
export const MAX_PROFILE_PICTURE_LENGTH = 1_000;

export type AppActionType = AppAction["type"];

/** The answer to one dispatch: accepted (with the exported key for ExportSecretKey), or refused with a reason. */
export type DispatchReply = { ok: true; nsec?: string } | { ok: false; error: string };

/** `user`: the error is meant for the user as it is (not a malformed request). */
export type ParsedAction = { ok: true; action: AppAction } | { ok: false; error: string; user?: true };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const HEX_ID = /^[0-9a-f]{64}$/;

const HTTP_URL = /^https?:\/\/(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?(?:\/[^\s?#]*)?$/i;

/** An agent API base URL: http:// or https:// with a host, no query or fragment. */
export function isAgentApiUrl(value: string): boolean {
  return value.length <= 512 && HTTP_URL.test(value);
}

const PICTURE_URL = /^https?:\/\/[a-z0-9.\-[\]:]+(?:[/?#][^\s]*)?$/i;

/** A profile picture URL: http:// or https:// with a host (no user info). */
export function isPictureUrl(value: string): boolean {
  return value.length <= MAX_PROFILE_PICTURE_LENGTH && PICTURE_URL.test(value);
}

function parseSetProfile(raw: Record<string, unknown>): ParsedAction {
  const { name, about, picture } = raw;
  if (typeof name !== "string" || typeof about !== "string" || (picture !== null && typeof picture !== "string")) {
    return { ok: false, error: "Malformed SetProfile: name and about must be strings, picture a string or null" };
  }
  if (name.trim().length > MAX_PROFILE_NAME_LENGTH) return { ok: false, error: toUserMessage("profile_name_too_long"), user: true };
  if (about.trim().length > MAX_PROFILE_ABOUT_LENGTH) return { ok: false, error: toUserMessage("profile_about_too_long"), user: true };
  const url = picture?.trim() ?? "";
  if (url !== "" && !isPictureUrl(url)) return { ok: false, error: toUserMessage("profile_picture_invalid"), user: true };
  return { ok: true, action: { type: "SetProfile", name: name.trim(), about: about.trim(), picture: url === "" ? null : url } };
}

function groupText(raw: Record<string, unknown>): { name: string; description: string } | string {
  const name = raw["name"];
  const description = raw["description"] ?? "";
  if (typeof name !== "string" || name.trim() === "" || name.length > MAX_GROUP_NAME_LENGTH) return `name must be 1 to ${MAX_GROUP_NAME_LENGTH} characters`;
  if (typeof description !== "string" || description.length > MAX_GROUP_DESCRIPTION_LENGTH) return `description must be at most ${MAX_GROUP_DESCRIPTION_LENGTH} characters`;
  return { name: name.trim(), description: description.trim() };
}

function hexField(raw: Record<string, unknown>, field: string, type: string): string | { error: string } {
  const value = raw[field];
  return typeof value === "string" && HEX_ID.test(value) ? value : { error: `Malformed ${type}: ${field} must be 64 lowercase hex characters` };
}

/** An optional request_id: absent, or a positive integer below MAX_REQUEST_ID. */
function requested(raw: Record<string, unknown>, type: string): Requested | { error: string } {
  const id = raw["request_id"];
  if (id === undefined) return {};
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0 || id >= MAX_REQUEST_ID) return { error: `Malformed ${type}: request_id must be a positive integer` };
  return { request_id: id };
}

/** Validates untrusted input (IPC, WebSocket) into an AppAction, or says what is wrong with it. */
export function parseAction(raw: unknown): ParsedAction {
  const parsed = parseBare(raw);
  if (!parsed.ok || !isRecord(raw)) return parsed;
  switch (parsed.action.type) {
    case "CreateChat":
    case "CreateGroup":
    case "AddMembers":
    case "RemoveMember":
    case "RenameGroup":
    case "LeaveGroup": {
      const request = requested(raw, parsed.action.type);
      if ("error" in request) return { ok: false, error: request.error };
      return { ok: true, action: { ...parsed.action, ...request } };
    }
    default:
      return parsed;
  }
}

function parseBare(raw: unknown): ParsedAction {
  if (!isRecord(raw)) return { ok: false, error: "Malformed action: expected an object" };
  const type = raw["type"];
  if (typeof type !== "string") return { ok: false, error: "Malformed action: missing type" };
  switch (type) {
    case "CreateAccount":
    case "Logout":
    case "DismissKeyBackup":
    case "DismissStorageNotice":
    case "RetryAgentProbe":
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
    case "OpenChat": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      if (raw["message_id"] === undefined) return { ok: true, action: { type, chat_id: chatId } };
      const messageId = hexField(raw, "message_id", type);
      if (typeof messageId !== "string") return { ok: false, ...messageId };
      return { ok: true, action: { type, chat_id: chatId, message_id: messageId } };
    }
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
      if (text.length > MAX_MESSAGE_LENGTH) return { ok: false, error: toUserMessage("message_too_long", `${text.length}`), user: true };
      if (raw["reply_to"] === undefined) return { ok: true, action: { type, chat_id: chatId, text } };
      const replyTo = hexField(raw, "reply_to", type);
      if (typeof replyTo !== "string") return { ok: false, ...replyTo };
      return { ok: true, action: { type, chat_id: chatId, text, reply_to: replyTo } };
    }
    case "EditMessage": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      const messageId = hexField(raw, "message_id", type);
      if (typeof messageId !== "string") return { ok: false, ...messageId };
      const text = raw["text"];
      if (typeof text !== "string" || text.trim() === "") return { ok: false, error: "Malformed EditMessage: text must be a non-empty string" };
      if (text.length > MAX_MESSAGE_LENGTH) return { ok: false, error: toUserMessage("message_too_long", `${text.length}`), user: true };
      return { ok: true, action: { type, chat_id: chatId, message_id: messageId, text } };
    }
    case "DeleteMessage":
    case "FocusMessage": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      const messageId = hexField(raw, "message_id", type);
      if (typeof messageId !== "string") return { ok: false, ...messageId };
      return { ok: true, action: { type, chat_id: chatId, message_id: messageId } };
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
      if (!Array.isArray(relays) || relays.length > MAX_RELAYS || !relays.every((r): r is string => typeof r === "string")) {
        return { ok: false, error: `Malformed SetRelays: relays must be up to ${MAX_RELAYS} ws:// or wss:// URLs` };
      }
      const bad = relays.find((r) => !isRelayUrl(r));
      if (bad !== undefined) return { ok: false, error: `Malformed SetRelays: a relay URL ${relayUrlProblem(bad) ?? "is not valid"}` };
      // Normal form, so `ws://h:1` and `ws://h:1/` are one relay in the settings as in the pool.
      return { ok: true, action: { type, relays: normalizeRelayUrls(relays) } };
    }
    case "EnsureAgent":
      return { ok: true, action: { type } };
    case "React": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      const messageId = hexField(raw, "message_id", type);
      if (typeof messageId !== "string") return { ok: false, ...messageId };
      const emoji = raw["emoji"];
      if (typeof emoji !== "string" || emoji.length === 0 || emoji.length > 16) return { ok: false, error: "Malformed React: emoji must be a short string" };
      return { ok: true, action: { type, chat_id: chatId, message_id: messageId, emoji } };
    }
    case "SetChatMuted": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      if (typeof raw["muted"] !== "boolean") return { ok: false, error: "Malformed SetChatMuted: muted must be a boolean" };
      return { ok: true, action: { type, chat_id: chatId, muted: raw["muted"] } };
    }
    case "CreateGroup":
    case "AddMembers": {
      const members = raw["members"];
      if (!Array.isArray(members) || members.length === 0 || members.length > MAX_GROUP_MEMBERS_PER_ACTION || !members.every((m): m is string => typeof m === "string" && m.length <= 200)) {
        return { ok: false, error: `Malformed ${type}: members must be 1 to ${MAX_GROUP_MEMBERS_PER_ACTION} npubs or hex keys` };
      }
      if (type === "AddMembers") {
        const chatId = hexField(raw, "chat_id", type);
        if (typeof chatId !== "string") return { ok: false, ...chatId };
        return { ok: true, action: { type, chat_id: chatId, members } };
      }
      const text = groupText(raw);
      if (typeof text === "string") return { ok: false, error: `Malformed ${type}: ${text}` };
      const admins = raw["admins"];
      if (admins !== undefined && (!Array.isArray(admins) || !admins.every((a): a is string => typeof a === "string" && members.includes(a)))) {
        return { ok: false, error: "Malformed CreateGroup: admins must be some of the members" };
      }
      return { ok: true, action: { type, ...text, members, ...(admins ? { admins } : {}) } };
    }
    case "RemoveMember": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      const member = raw["member"];
      if (typeof member !== "string" || member.length > 200) return { ok: false, error: "Malformed RemoveMember: member must be an npub or hex key" };
      return { ok: true, action: { type, chat_id: chatId, member } };
    }
    case "RenameGroup": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      const text = groupText(raw);
      if (typeof text === "string") return { ok: false, error: `Malformed ${type}: ${text}` };
      return { ok: true, action: { type, chat_id: chatId, ...text } };
    }
    case "LeaveGroup": {
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      return { ok: true, action: { type, chat_id: chatId } };
    }
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
    case "Search": {
      const query = raw["query"];
      if (typeof query !== "string" || query.length > MAX_SEARCH_QUERY_LENGTH) {
        return { ok: false, error: `Malformed Search: query must be a string of at most ${MAX_SEARCH_QUERY_LENGTH} characters` };
      }
      if (raw["chat_id"] === undefined) return { ok: true, action: { type, query } };
      const chatId = hexField(raw, "chat_id", type);
      if (typeof chatId !== "string") return { ok: false, ...chatId };
      return { ok: true, action: { type, query, chat_id: chatId } };
    }
    case "LoadMoreSearchResults":
    case "ClearSearch":
      return { ok: true, action: { type } };
    case "SetProfile":
      return parseSetProfile(raw);
    case "SetLoadPictures": {
      const enabled = raw["enabled"];
      if (typeof enabled !== "boolean") return { ok: false, error: "Malformed SetLoadPictures: enabled must be a boolean" };
      return { ok: true, action: { type, enabled } };
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
    case "DismissKeyBackup":
    case "DismissStorageNotice":
    case "RetryAgentProbe":
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
    case "React":
      return `React(${action.chat_id.slice(0, 8)}, ${action.message_id.slice(0, 8)})`;
    case "SetChatMuted":
      return `SetChatMuted(${action.chat_id.slice(0, 8)}, ${action.muted ? "on" : "off"})`;
    case "EditMessage":
    case "DeleteMessage":
    case "FocusMessage":
      return `${action.type}(${action.chat_id.slice(0, 8)}, ${action.message_id.slice(0, 8)})`;
    case "CreateGroup":
      return `CreateGroup(${action.members.length})`;
    case "AddMembers":
      return `AddMembers(${action.chat_id.slice(0, 8)}, ${action.members.length})`;
    case "RemoveMember":
    case "RenameGroup":
    case "LeaveGroup":
      return `${action.type}(${action.chat_id.slice(0, 8)})`;
    case "SetAgentApiUrl":
      return `SetAgentApiUrl(${action.url === null ? "default" : "custom"})`;
    case "Search":
      // The query is what the user looks for in their messages: never logged.
      return action.chat_id === undefined ? "Search(all)" : `Search(${action.chat_id.slice(0, 8)})`;
    case "LoadMoreSearchResults":
    case "ClearSearch":
      return action.type;
    case "SetProfile":
      return "SetProfile";
    case "SetLoadPictures":
      return `SetLoadPictures(${action.enabled ? "on" : "off"})`;
  }
}
