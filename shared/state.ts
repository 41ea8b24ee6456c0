// The one serializable snapshot the core pushes to every renderer. Secrets never enter it.
import type { AgentStartupPhase } from "./agentApi.js";

export const CONTRACT_VERSION = 7;

export type SignerKind = "local";

export type AuthState =
  | { status: "logged_out" }
  | { status: "logged_in"; npub: string; pubkey: string; signer: SignerKind };

export type ToastKind = "error" | "info";

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

export interface BusyState {
  logging_in: boolean;
  creating_chat: boolean;
  /** A group commit (create, add, remove, rename, leave) is on its way. */
  updating_group: boolean;
  starting_agent: boolean;
}

/** The client's steps around the server's startup phases while a New Agent flow runs. */
export type AgentFlowPhase = AgentStartupPhase | "recovering" | "opening_chat";

/** Whether this account may have an agent: from the allowlist probe; Unknown until a probe answered. */
export type AgentAccess = "unknown" | "allowlisted" | "not_allowlisted";

export interface AgentButtonState {
  title: "New Agent";
  is_busy: boolean;
  phase: AgentFlowPhase | null;
  /** Shown but refusing clicks, with this reason (e.g. the agent API could not be reached). */
  disabled_reason: string | null;
}

/** The last allowlist probe that got no answer: why, and when (unix seconds). */
export interface AgentProbeError {
  message: string;
  at: number;
}

export interface AgentState {
  access: AgentAccess;
  /** The running flow's phase, null when no flow runs. */
  phase: AgentFlowPhase | null;
  /** The agent API in use (from settings, the environment or the built-in default). */
  api_url: string;
  /** The newest probe failed to get an answer; `access` keeps what an earlier answer said. */
  probe_error: AgentProbeError | null;
  /** A probe is on its way. */
  probing: boolean;
}

/** What each phase is called in the button and the chat list. */
export function agentPhaseText(phase: AgentFlowPhase): string {
  switch (phase) {
    case "requested":
      return "Requesting agent…";
    case "provisioning_vm":
      return "Provisioning VM…";
    case "booting_guest":
      return "Booting agent…";
    case "waiting_for_service_ready":
      return "Starting agent service…";
    case "waiting_for_keypackage_publish":
      return "Agent is publishing its key…";
    case "ready":
      return "Agent ready";
    case "failed":
      return "Agent failed";
    case "recovering":
      return "Recovering agent…";
    case "opening_chat":
      return "Opening chat…";
  }
}

/** A Nostr identity as shown to the user: name and picture from its kind-0 profile when known. */
export interface ProfileView {
  pubkey: string;
  npub: string;
  name: string | null;
  /** The picture's address; its data, once fetched, is in `AppState.pictures` under it. */
  picture: string | null;
}

/** Our own profile (kind 0) as we set it. */
export interface OwnProfile {
  name: string;
  about: string;
  picture: string | null;
}

export type ChatKind = "direct" | "group";

export interface ChatSummary {
  /** hex of the group's nostr_group_id (the `h` tag of its kind-445 events). */
  id: string;
  kind: ChatKind;
  title: string;
  /** npubs of the other members. */
  members: string[];
  /** The other member of a direct chat. */
  peer: ProfileView | null;
  last_message: string | null;
  /** Unix seconds. */
  last_message_at: number | null;
  unread: number;
  /** Unix seconds of the last activity; the list is sorted by it, newest first. */
  updated_at: number;
  /** A chat with this account's agent: the current one, or one replaced by a recovery (kept as history). */
  agent: "current" | "past" | null;
  /** No desktop notifications for this chat. */
  muted: boolean;
  /** We left or were removed: the chat stays as read-only history. */
  left: boolean;
}

/** A Welcome we received and have not accepted or declined yet. */
export interface InviteSummary {
  /** Id of the Welcome rumor (kind 444). */
  id: string;
  from: ProfileView;
  group_name: string;
  /** Unix seconds. */
  received_at: number;
}

/** pending → sent or failed for our own messages; received for everyone else's. */
export type MessageStatus = "pending" | "sent" | "failed" | "received";

export interface ReactionView {
  emoji: string;
  count: number;
  /** We reacted with it. */
  mine: boolean;
}

export interface MessageView {
  /** Id of the inner rumor (kind 9), or of the commit for a system line. */
  id: string;
  /** A chat message, or a system line about the group (member added or removed, renamed…). */
  kind: "text" | "system";
  sender: ProfileView;
  mine: boolean;
  text: string;
  /** Unix seconds. */
  created_at: number;
  status: MessageStatus;
  /** Why sending failed, when status is failed. */
  error: string | null;
  reactions: ReactionView[];
  /** The author replaced the text (kind 1009); `text` is the newest. */
  edited: boolean;
  /** The author deleted it: `text` is empty. */
  deleted: boolean;
  /** The message this one replies to. */
  reply_to: ReplyQuote | null;
}

/** The parent of a reply: who wrote it and how it begins, or why it cannot be shown. */
export interface ReplyQuote {
  id: string;
  /** null when the parent is not on this device. */
  sender: ProfileView | null;
  /** The parent's text, cut short; empty unless state is "shown". */
  excerpt: string;
  state: "shown" | "deleted" | "not_loaded";
}

/** The open chat's window of messages: the newest page, grown by LoadOlderMessages. */
export interface OpenChatState {
  chat_id: string;
  kind: ChatKind;
  title: string;
  description: string;
  members: ProfileView[];
  /** Pubkeys (hex) of the group's admins: only they change the group. */
  admins: string[];
  am_admin: boolean;
  muted: boolean;
  left: boolean;
  /** Who removed us, when we were removed (null when we left ourselves or are still a member). */
  removed_by: ProfileView | null;
  /** Oldest first. */
  messages: MessageView[];
  has_older: boolean;
  loading_older: boolean;
  /** The message to scroll to and highlight (opened from a search result, or asked for by FocusMessage); the window holds it. */
  focus_message_id: string | null;
  /** The oldest message that was unread when the chat was opened ("N new messages" sits above it); kept while it stays open. */
  first_unread_id: string | null;
  /** How many messages were unread when the chat was opened. */
  unread_at_open: number;
}

export interface KeyPackageState {
  /** Our key package is on our relays (local_key_package_published). */
  published: boolean;
  publishing: boolean;
}

export interface SettingsState {
  relays: string[];
  /** The agent API chosen in settings; null uses the environment or the built-in default. */
  agent_api_url: string | null;
  /** Remote profile pictures are fetched (by the core) and shown; off by default. */
  load_pictures: boolean;
}

export type RelayConnection = "connecting" | "connected" | "disconnected";

export interface RelayStatus {
  url: string;
  status: RelayConnection;
}

export type NetworkStatus = "off" | "offline" | "connecting" | "online";

export interface NetworkState {
  enabled: boolean;
  status: NetworkStatus;
  relays: RelayStatus[];
}

/** Where the private key lives; `notice` is shown to the user when the storage is weaker than the OS keychain. */
export interface SecretStorageState {
  kind: "os_encrypted" | "plain_file";
  notice: string | null;
  /** The user closed the notice on the main screen (kept per account); Settings still shows it. */
  notice_dismissed: boolean;
}

/** Applying a backlog after being offline: "Syncing done/total". */
export interface SyncState {
  done: number;
  total: number;
}

/** The newest message worth a desktop notification; hosts show it while the window is unfocused. */
export interface NotificationState {
  /** Increases with every new notification. */
  seq: number;
  chat_id: string;
  title: string;
  body: string;
}

/** How a request that carried a `request_id` ended: the form that sent it shows the error itself (no toast). */
export interface RequestOutcome {
  request_id: number;
  /** null: done. */
  error: string | null;
}

/** A piece of a search result's snippet; `match`: a term the search matched. */
export interface SnippetPart {
  text: string;
  match: boolean;
}

export interface SearchResult {
  chat_id: string;
  /** Id of the chat message (kind 9). */
  message_id: string;
  sender: ProfileView;
  mine: boolean;
  /** Unix seconds. */
  created_at: number;
  snippet: SnippetPart[];
}

/** The running search over the messages stored on this device, newest first, grown by LoadMoreSearchResults. */
export interface SearchState {
  query: string;
  /** Every chat, or the one with this id. */
  scope: "all" | string;
  results: SearchResult[];
  has_more: boolean;
}

export interface AppState {
  contract_version: number;
  auth: AuthState;
  /** Inline error of the import-key form, e.g. "Invalid private key". */
  login_error: string | null;
  chats: ChatSummary[];
  invites: InviteSummary[];
  open_chat: OpenChatState | null;
  key_package: KeyPackageState;
  settings: SettingsState;
  busy: BusyState;
  agent_button: AgentButtonState | null;
  agent: AgentState;
  sync: SyncState | null;
  notification: NotificationState | null;
  toasts: Toast[];
  /** The newest outcomes of requests that carried a request_id, oldest first (a few). */
  outcomes: RequestOutcome[];
  /** Offer a one-time key backup: set when this account was created here, until dismissed. */
  key_backup_prompt: boolean;
  network: NetworkState;
  secret_storage: SecretStorageState;
  search: SearchState | null;
  /** Our own profile, null until one is set or found on the relays. */
  profile: OwnProfile | null;
  /**
   * The profile pictures the core fetched (only with "Load profile pictures" on), as `data:` URLs by
   * picture address: those of the chat list's peers and the open chat's members. Apart from the
   * profiles, so a picture travels once, not with every change of a chat or message.
   */
  pictures: Record<string, string>;
}

export interface StateSnapshot {
  rev: number;
  state: AppState;
}

/** What changed since `base_rev`: top-level fields whole, the chat list by chat id, pictures by address. */
export interface StatePatch {
  /** The top-level fields that changed, each whole (never `chats` or `pictures`). */
  fields: Partial<Omit<AppState, "chats" | "pictures">>;
  /** Chats new or changed, each whole; the list keeps the order of `compareChats`. */
  chats: ChatSummary[];
  /** Ids of chats no longer listed. */
  removed_chats: string[];
  /** Pictures new or changed; null: no longer held. */
  pictures: Record<string, string | null>;
}

/** One push of the core: a whole state (a new subscriber's first, or asked for), or a patch onto `base_rev`. */
export type StatePush = { rev: number; snapshot: AppState } | { rev: number; base_rev: number; patch: StatePatch };

/** The chat list's order: newest activity first, then by id. */
export function compareChats(a: ChatSummary, b: ChatSummary): number {
  return b.updated_at - a.updated_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
