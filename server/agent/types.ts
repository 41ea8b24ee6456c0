// The spawner ("VM host") interface; the agent API's own wire types are in shared/agentApi.ts.
import type { AgentStartupPhase } from "../../shared/agentApi.js";

/** A spawner's view of one VM. Maps to AgentApiState: running → ready, starting → creating, stopped / failed → error. */
export type VmStatus = "starting" | "running" | "stopped" | "failed";

export interface VmInfo {
  vm_id: string;
  status: VmStatus;
  /** Finer progress while starting (booting_guest, waiting_for_service_ready, waiting_for_keypackage_publish). */
  phase: AgentStartupPhase | null;
  /** Why the VM stopped or failed. */
  error: string | null;
  /** Hex pubkey of the agent running in it. */
  agent_pubkey: string;
  /** Hex pubkey of the agent's owner. */
  owner_pubkey: string;
  /** Unix milliseconds. */
  created_at: number;
}

export interface CreateVmRequest {
  /** The agent's Nostr secret key, hex. Reaches the VM at creation and nowhere else. */
  agent_secret_hex: string;
  agent_pubkey: string;
  owner_pubkey: string;
  relays: string[];
}

/** Where agents run. Every server process, the reaper and `vm delete` go through this same API. */
export interface Spawner {
  create(request: CreateVmRequest): Promise<{ vm_id: string }>;
  /** null when the spawner has no such VM (vanished or never existed). */
  status(vmId: string): Promise<VmInfo | null>;
  /** false when there was no such VM. */
  delete(vmId: string): Promise<boolean>;
  list(): Promise<VmInfo[]>;
  close(): Promise<void>;
}

/** Errors a spawner reports; `unavailable` means the VM host could not be reached at all. */
export class SpawnerError extends Error {
  constructor(
    readonly code: "create_failed" | "unavailable" | "invalid_request",
    message: string,
  ) {
    super(message);
    this.name = "SpawnerError";
  }
}
