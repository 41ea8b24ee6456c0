// The state object: its initial value and the parts derived from the rest of it.
import { CONTRACT_VERSION, type AppState, type NetworkStatus, type RelayStatus } from "../../shared/state.js";
import type { SecretStore } from "../base/secretStore.js";

export function initialState(store: Pick<SecretStore, "kind" | "notice">, networkEnabled: boolean, agentApiUrl: string): AppState {
  return {
    contract_version: CONTRACT_VERSION,
    auth: { status: "logged_out" },
    login_error: null,
    chats: [],
    invites: [],
    open_chat: null,
    key_package: { published: false, publishing: false },
    settings: { relays: [], agent_api_url: null, load_pictures: false },
    busy: { logging_in: false, creating_chat: false, updating_group: false, starting_agent: false },
    agent_button: null,
    agent: { access: "unknown", phase: null, api_url: agentApiUrl, probe_error: null, probing: false },
    sync: null,
    notification: null,
    toasts: [],
    outcomes: [],
    key_backup_prompt: false,
    network: { enabled: networkEnabled, status: networkEnabled ? "offline" : "off", relays: [] },
    secret_storage: { kind: store.kind, notice: store.notice, notice_dismissed: false },
    search: null,
    profile: null,
    pictures: {},
  };
}

/**
 * Shown for a local-key session that may have an agent, with the network on; also while access is
 * unknown because the agent API gave no answer, then disabled with that reason (never a silent
 * disappearance). A probe error never overrides a known allowlist state.
 */
export function agentButton(state: AppState): AppState["agent_button"] {
  if (state.auth.status !== "logged_in" || state.auth.signer !== "local" || !state.network.enabled) return null;
  if (state.agent.access === "unknown" && state.agent.probe_error) {
    return { title: "New Agent", is_busy: false, phase: null, disabled_reason: state.agent.probe_error.message };
  }
  if (state.agent.access !== "allowlisted") return null;
  return { title: "New Agent", is_busy: state.busy.starting_agent, phase: state.busy.starting_agent ? state.agent.phase : null, disabled_reason: null };
}

export function networkStatus(enabled: boolean, relays: RelayStatus[]): NetworkStatus {
  if (!enabled) return "off";
  if (relays.some((r) => r.status === "connected")) return "online";
  if (relays.some((r) => r.status === "connecting")) return "connecting";
  return "offline";
}
