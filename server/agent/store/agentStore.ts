// The agent service's storage contract. One implementation on Kysely serves two engines:
// embedded SQLite (default) and PostgreSQL (several server processes on one database).
import type { AgentApiState, AgentStartupPhase } from "../../../shared/agentApi.js";

export interface AgentRow {
  /** The agent bot's npub (PROTOCOL.md: `agent_id`). */
  agent_id: string;
  /** Hex pubkey of the agent. */
  agent_pubkey: string;
  owner_npub: string;
  /** NULL until the spawner answered; a row without one inside the provisioning window is in progress. */
  vm_id: string | null;
  phase: AgentApiState;
  startup_phase: AgentStartupPhase;
  /** Why the row is `error`. */
  error: string | null;
  /** The agent's secret key, encrypted with the server's key (never stored in the clear). */
  secret_enc: string;
  /** Unix milliseconds. */
  created_at: number;
  updated_at: number;
}

export interface AllowlistRow {
  npub: string;
  active: boolean;
  note: string | null;
  updated_by: string;
  /** How many provisionings (recoveries included) the owner may start per 24 h. */
  max_agents: number;
  created_at: number;
  updated_at: number;
}

export interface AllowlistAuditRow {
  id: number;
  npub: string;
  action: "add" | "update" | "remove" | "auto_add";
  actor: string;
  note: string | null;
  max_agents: number | null;
  at: number;
}

export type NewAgent = Omit<AgentRow, "updated_at" | "vm_id" | "error"> & { phase: "creating" };

export interface AgentStore {
  /** Creates or upgrades the schema; safe to run from several processes at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  getAllowlist(npub: string): Promise<AllowlistRow | null>;
  /** Inserts or updates the entry and writes an audit row, in one transaction. */
  setAllowlist(entry: { npub: string; active: boolean; note: string | null; max_agents: number }, actor: string, action: AllowlistAuditRow["action"]): Promise<void>;
  /** Adds the npub only if it has no entry yet (open allowlist); true when it was added. Audited. */
  addAllowlistIfMissing(entry: { npub: string; note: string | null; max_agents: number }, actor: string): Promise<boolean>;
  listAllowlist(): Promise<AllowlistRow[]>;
  listAllowlistAudit(npub?: string): Promise<AllowlistAuditRow[]>;

  /**
   * Inserts a `creating` row. The partial unique index (one creating/ready row per owner) decides
   * races: 'conflict' when the owner already has an active agent.
   */
  insertAgent(row: NewAgent): Promise<"inserted" | "conflict">;
  getAgent(agentId: string): Promise<AgentRow | null>;
  /** The owner's creating/ready row, if any. */
  getActiveAgent(ownerNpub: string): Promise<AgentRow | null>;
  /** The owner's newest row of any phase. */
  getLatestAgent(ownerNpub: string): Promise<AgentRow | null>;
  listAgents(): Promise<AgentRow[]>;
  /** Sets vm_id (and the startup phase) on a row that has none; false if it already had one. */
  setVm(agentId: string, vmId: string, startupPhase: AgentStartupPhase): Promise<boolean>;
  /**
   * Moves a row to `phase` only if it is currently in one of `from`; false otherwise (someone else
   * changed it first). An `error` row never leaves `error`.
   */
  transition(agentId: string, from: AgentApiState[], to: { phase: AgentApiState; startup_phase: AgentStartupPhase; error?: string | null }): Promise<boolean>;
  /** Updates only the startup phase of a creating row. */
  setStartupPhase(agentId: string, startupPhase: AgentStartupPhase): Promise<void>;
  /** Rows created (provisionings started) by the owner since `sinceMs`. */
  countAgentsSince(ownerNpub: string, sinceMs: number): Promise<number>;
  /** vm_ids of creating/ready rows. */
  activeVmIds(): Promise<string[]>;

  /** Records a NIP-98 event id; false when it was seen before (a replay). */
  rememberAuthEvent(eventId: string, at: number): Promise<boolean>;
  pruneAuthEvents(before: number): Promise<void>;
}
