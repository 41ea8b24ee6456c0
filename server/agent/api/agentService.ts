// The agent API's rules: one active agent per owner (decided by the database), provisioning that
// never leaves orphans, bounded recovery, and the VM's status folded into the agent's state.
import { bytesToHex } from "@noble/hashes/utils.js";
import { generateSecretKey, getPublicKey, nip19 } from "nostr-tools";
import type { AgentRow, AgentStore } from "../store/agentStore.js";
import type { AgentBody } from "../../../shared/agentApi.js";
import { SpawnerError, type Spawner } from "../types.js";
import type { SecretBox } from "./secretBox.js";

export type Log = (line: Record<string, unknown> & { event: string }) => void;

export interface AgentServiceOptions {
  store: AgentStore;
  spawner: Spawner;
  secrets: SecretBox;
  /** Relays every agent uses. */
  relays: string[];
  /** Allowlist every account that authenticates (development only; audited). */
  openAllowlist?: boolean;
  /** max_agents for entries added without one. */
  defaultMaxAgents?: number;
  /** A creating row without a vm_id older than this is a provisioning that died with its server. */
  provisioningWindowMs?: number;
  /** VMs no active row owns are deleted by the reaper once older than this. */
  orphanGraceMs?: number;
  log?: Log;
}

/** The answer to ensure / me / recover, before HTTP framing. */
export type ServiceResult =
  | { status: 200 | 202; body: AgentBody }
  | { status: 403; error: "not_whitelisted" }
  | { status: 404; error: "agent_not_found" }
  | { status: 409; error: "agent_exists" }
  | { status: 429; error: "rate_limited"; retryAfterSec: number }
  | { status: 503; error: "recover_failed"; reason: string };

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_MAX_AGENTS = 5;

function view(row: AgentRow): AgentBody {
  return {
    agent_id: row.agent_id,
    vm_id: row.vm_id,
    state: row.phase,
    startup_phase: row.startup_phase,
    ...(row.error ? { error: row.error } : {}),
  };
}

export class AgentService {
  private readonly store: AgentStore;
  private readonly spawner: Spawner;
  private readonly log: Log;
  private readonly provisioningWindowMs: number;
  private readonly orphanGraceMs: number;
  private readonly defaultMaxAgents: number;

  constructor(private readonly options: AgentServiceOptions) {
    this.store = options.store;
    this.spawner = options.spawner;
    this.log = options.log ?? (() => undefined);
    this.provisioningWindowMs = options.provisioningWindowMs ?? 60_000;
    this.orphanGraceMs = options.orphanGraceMs ?? 120_000;
    this.defaultMaxAgents = options.defaultMaxAgents ?? DEFAULT_MAX_AGENTS;
  }

  /** Allowlisted (or added, with the open allowlist): the entry's max_agents; null when refused. */
  async allowance(ownerNpub: string): Promise<number | null> {
    const entry = await this.store.getAllowlist(ownerNpub);
    if (entry?.active) return entry.max_agents;
    if (entry || !this.options.openAllowlist) return null;
    const added = await this.store.addAllowlistIfMissing({ npub: ownerNpub, note: "open allowlist (development)", max_agents: this.defaultMaxAgents }, "open-allowlist");
    if (added) this.log({ event: "allowlist_auto_add", npub: ownerNpub });
    const now = await this.store.getAllowlist(ownerNpub);
    return now?.active ? now.max_agents : null;
  }

  async ensure(ownerNpub: string): Promise<ServiceResult> {
    const maxAgents = await this.allowance(ownerNpub);
    if (maxAgents === null) return { status: 403, error: "not_whitelisted" };
    const active = await this.store.getActiveAgent(ownerNpub);
    if (active && (await this.observe(active)).phase !== "error") return { status: 409, error: "agent_exists" };
    const limited = await this.rateLimit(ownerNpub, maxAgents);
    if (limited) return limited;
    const created = await this.provision(ownerNpub);
    if (!created) return { status: 409, error: "agent_exists" };
    return { status: 202, body: view(created) };
  }

  async me(ownerNpub: string): Promise<ServiceResult> {
    if ((await this.allowance(ownerNpub)) === null) return { status: 403, error: "not_whitelisted" };
    const row = (await this.store.getActiveAgent(ownerNpub)) ?? (await this.store.getLatestAgent(ownerNpub));
    if (!row) return { status: 404, error: "agent_not_found" };
    return { status: 200, body: view(await this.observe(row)) };
  }

  /**
   * Reprovisions an errored or vanished agent, at most once per request; an agent that is ready or
   * still creating is left alone and returned as it is.
   */
  async recover(ownerNpub: string): Promise<ServiceResult> {
    const maxAgents = await this.allowance(ownerNpub);
    if (maxAgents === null) return { status: 403, error: "not_whitelisted" };
    const active = await this.store.getActiveAgent(ownerNpub);
    if (active) {
      const observed = await this.observe(active);
      if (observed.phase !== "error") return { status: 202, body: view(observed) };
    } else if (!(await this.store.getLatestAgent(ownerNpub))) {
      return { status: 404, error: "agent_not_found" };
    }
    const limited = await this.rateLimit(ownerNpub, maxAgents);
    if (limited) return limited;
    const created = await this.provision(ownerNpub);
    if (!created) {
      // Another request won the race and is provisioning: that one is the current agent.
      const current = await this.store.getActiveAgent(ownerNpub);
      return current ? { status: 202, body: view(current) } : { status: 503, error: "recover_failed", reason: "no agent after recovery" };
    }
    if (created.phase === "error") return { status: 503, error: "recover_failed", reason: created.error ?? "provisioning failed" };
    return { status: 202, body: view(created) };
  }

  /** Deletes VMs that no creating/ready row owns (past a grace period, so in-flight creations are spared). */
  async reap(): Promise<string[]> {
    let vms;
    try {
      vms = await this.spawner.list();
    } catch (error) {
      this.log({ event: "reaper_skipped", error: describe(error) });
      return [];
    }
    const owned = new Set(await this.store.activeVmIds());
    const cutoff = Date.now() - this.orphanGraceMs;
    const deleted: string[] = [];
    for (const vm of vms) {
      if (owned.has(vm.vm_id) || vm.created_at > cutoff) continue;
      if (await this.spawner.delete(vm.vm_id).catch(() => false)) deleted.push(vm.vm_id);
    }
    if (deleted.length > 0) this.log({ event: "reaped_vms", vm_ids: deleted });
    return deleted;
  }

  private async rateLimit(ownerNpub: string, maxAgents: number): Promise<ServiceResult | null> {
    const since = Date.now() - DAY_MS;
    const used = await this.store.countAgentsSince(ownerNpub, since);
    if (used < maxAgents) return null;
    this.log({ event: "agent_rate_limited", owner: ownerNpub, used, max_agents: maxAgents });
    return { status: 429, error: "rate_limited", retryAfterSec: 3600 };
  }

  /**
   * A new row (new key, new agent_id) is inserted before the spawner is called; the unique index
   * lets one racing request through. Returns null when another active agent exists.
   */
  private async provision(ownerNpub: string): Promise<AgentRow | null> {
    const secret = generateSecretKey();
    const agentPubkey = getPublicKey(secret);
    const now = Date.now();
    const row: AgentRow = {
      agent_id: nip19.npubEncode(agentPubkey),
      agent_pubkey: agentPubkey,
      owner_npub: ownerNpub,
      vm_id: null,
      phase: "creating",
      startup_phase: "requested",
      error: null,
      secret_enc: this.options.secrets.seal(bytesToHex(secret)),
      created_at: now,
      updated_at: now,
    };
    const { vm_id, error, updated_at, ...insert } = row;
    if ((await this.store.insertAgent({ ...insert, phase: "creating" })) === "conflict") return null;
    this.log({ event: "agent_provisioning", owner: ownerNpub, agent_id: row.agent_id });
    await this.store.setStartupPhase(row.agent_id, "provisioning_vm");
    const ownerPubkey = nip19.decode(ownerNpub as `npub1${string}`).data as string;
    let vmId: string;
    try {
      ({ vm_id: vmId } = await this.spawner.create({ agent_secret_hex: bytesToHex(secret), agent_pubkey: agentPubkey, owner_pubkey: ownerPubkey, relays: this.options.relays }));
    } catch (error) {
      const reason = error instanceof SpawnerError ? `${error.code}: ${error.message}` : describe(error);
      await this.store.transition(row.agent_id, ["creating"], { phase: "error", startup_phase: "failed", error: `VM creation failed: ${reason}` });
      this.log({ event: "agent_provision_failed", owner: ownerNpub, agent_id: row.agent_id, error: reason });
      return (await this.store.getAgent(row.agent_id)) ?? { ...row, phase: "error", error: reason };
    }
    if (!(await this.store.setVm(row.agent_id, vmId, "booting_guest"))) {
      // The row was given up on meanwhile (e.g. marked stale): the VM must not outlive it.
      await this.spawner.delete(vmId).catch(() => false);
    }
    const stored = await this.store.getAgent(row.agent_id);
    if (stored?.phase === "error") await this.spawner.delete(vmId).catch(() => false);
    return stored;
  }

  /** Folds the VM's status into the row: running → ready, starting → creating, stopped / failed / vanished → error. */
  private async observe(row: AgentRow): Promise<AgentRow> {
    if (row.phase === "error") return row;
    if (!row.vm_id) {
      if (Date.now() - row.created_at <= this.provisioningWindowMs) return row;
      return this.fail(row, "provisioning did not finish (the server handling it stopped)");
    }
    let info;
    try {
      info = await this.spawner.status(row.vm_id);
    } catch (error) {
      // The VM host is unreachable: report what we know rather than guessing a failure.
      this.log({ event: "spawner_unavailable", error: describe(error) });
      return row;
    }
    if (!info) return this.fail(row, "the agent's VM no longer exists");
    switch (info.status) {
      case "running":
        if (row.phase !== "ready") {
          await this.store.transition(row.agent_id, ["creating"], { phase: "ready", startup_phase: "ready" });
          return (await this.store.getAgent(row.agent_id)) ?? row;
        }
        return row;
      case "starting": {
        const phase = info.phase ?? "booting_guest";
        if (phase !== row.startup_phase) await this.store.setStartupPhase(row.agent_id, phase);
        return { ...row, startup_phase: phase };
      }
      case "stopped":
      case "failed":
        return this.fail(row, `the agent's VM ${info.status}${info.error ? `: ${info.error}` : ""}`);
    }
  }

  private async fail(row: AgentRow, reason: string): Promise<AgentRow> {
    await this.store.transition(row.agent_id, ["creating", "ready"], { phase: "error", startup_phase: "failed", error: reason });
    this.log({ event: "agent_failed", agent_id: row.agent_id, reason });
    return (await this.store.getAgent(row.agent_id)) ?? { ...row, phase: "error", startup_phase: "failed", error: reason };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
