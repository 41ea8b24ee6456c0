// The one serializable snapshot the core pushes to every renderer. Secrets never enter it.

export const CONTRACT_VERSION = 2;

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
  starting_agent: boolean;
}

/** Keep in sync with the agent server's startup phases (PROTOCOL.md). */
export type AgentStartupPhase =
  | "requested"
  | "provisioning_vm"
  | "booting_guest"
  | "waiting_for_service_ready"
  | "waiting_for_keypackage_publish"
  | "ready"
  | "failed";

export interface AgentButtonState {
  title: "New Agent";
  is_busy: boolean;
  phase: AgentStartupPhase | null;
}

/** A Nostr identity as shown to the user: name and picture from its kind-0 profile when known. */
export interface ProfileView {
  pubkey: string;
  npub: string;
  name: string | null;
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

export interface MessageView {
  /** Id of the inner rumor (kind 9). */
  id: string;
  sender: ProfileView;
  mine: boolean;
  text: string;
  /** Unix seconds. */
  created_at: number;
  status: MessageStatus;
  /** Why sending failed, when status is failed. */
  error: string | null;
}

/** The open chat's window of messages: the newest page, grown by LoadOlderMessages. */
export interface OpenChatState {
  chat_id: string;
  kind: ChatKind;
  title: string;
  members: ProfileView[];
  /** Oldest first. */
  messages: MessageView[];
  has_older: boolean;
  loading_older: boolean;
}

export interface KeyPackageState {
  /** Our key package is on our relays (local_key_package_published). */
  published: boolean;
  publishing: boolean;
}

export interface SettingsState {
  relays: string[];
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
  toasts: Toast[];
  network: NetworkState;
  secret_storage: SecretStorageState;
}

export interface StateSnapshot {
  rev: number;
  state: AppState;
}
