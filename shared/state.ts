// The one serializable snapshot the core pushes to every renderer. Secrets never enter it.

export const CONTRACT_VERSION = 1;

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

export interface ChatSummary {
  id: string;
  title: string;
  members: string[];
  last_message: string | null;
  unread: number;
  updated_at: number;
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
