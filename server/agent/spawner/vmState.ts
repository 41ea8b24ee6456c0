// The local spawner's state file, `<dataDir>/vms.json`: each VM's request, status and guest pid, so
// a restarted spawner keeps every agent (localSpawner.ts has the restart policy).
import { readFile } from "node:fs/promises";
import type { AgentStartupPhase } from "../../../shared/agentApi.js";
import type { VmStatus } from "../types.js";
import { errorCode, writeFileAtomic } from "./files.js";

/** What vms.json keeps per VM. Never the secret: its one copy is `<vm dir>/agent_secret`. */
export interface VmRecord {
  vm_id: string;
  agent_pubkey: string;
  owner_pubkey: string;
  relays: string[];
  created_at: number;
  status: VmStatus;
  phase: AgentStartupPhase | null;
  error: string | null;
  /** The guest's pid while one runs, so a restarted spawner can stop a guest that outlived it. */
  pid: number | null;
}

interface StateFile {
  version: 1;
  vms: VmRecord[];
}

const STATUSES: ReadonlySet<string> = new Set(["starting", "running", "stopped", "failed"]);
const VM_ID = /^vm-[0-9a-f]{16}$/;

export function isVmId(value: string): boolean {
  return VM_ID.test(value);
}

function parseRecord(value: unknown): VmRecord | null {
  if (typeof value !== "object" || value === null) return null;
  const r = value as Record<string, unknown>;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((item) => typeof item === "string");
  if (typeof r["vm_id"] !== "string" || !isVmId(r["vm_id"])) return null;
  if (typeof r["agent_pubkey"] !== "string" || typeof r["owner_pubkey"] !== "string" || !strings(r["relays"])) return null;
  if (typeof r["created_at"] !== "number" || typeof r["status"] !== "string" || !STATUSES.has(r["status"])) return null;
  return {
    vm_id: r["vm_id"],
    agent_pubkey: r["agent_pubkey"],
    owner_pubkey: r["owner_pubkey"],
    relays: r["relays"],
    created_at: r["created_at"],
    status: r["status"] as VmStatus,
    phase: typeof r["phase"] === "string" ? (r["phase"] as AgentStartupPhase) : null,
    error: typeof r["error"] === "string" ? r["error"] : null,
    pid: typeof r["pid"] === "number" && Number.isInteger(r["pid"]) && r["pid"] > 0 ? r["pid"] : null,
  };
}

export class VmStateFile {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly log: (line: Record<string, unknown> & { event: string }) => void,
  ) {}

  /** The valid records, and every vm_id the file mentions (a malformed record's directory is kept for an operator). */
  async read(): Promise<{ records: VmRecord[]; mentioned: Set<string> }> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return { records: [], mentioned: new Set() };
      throw error;
    }
    const state = JSON.parse(text) as Partial<StateFile>;
    if (state.version !== 1 || !Array.isArray(state.vms)) throw new Error(`${this.path} is not a spawner state file (version 1)`);
    const records: VmRecord[] = [];
    const mentioned = new Set<string>();
    for (const entry of state.vms) {
      const vmId = (entry as { vm_id?: unknown } | null)?.vm_id;
      if (typeof vmId === "string") mentioned.add(vmId);
      const record = parseRecord(entry);
      if (record) records.push(record);
      else this.log({ event: "vm_record_skipped", reason: "malformed", entry: JSON.stringify(entry).slice(0, 200) });
    }
    return { records, mentioned };
  }

  /** Queued, and each write takes `records()` as it is when it runs: the file never goes back in time. */
  write(records: () => VmRecord[]): Promise<void> {
    const write = this.queue.then(() => {
      const state: StateFile = { version: 1, vms: records() };
      return writeFileAtomic(this.path, `${JSON.stringify(state, null, 2)}\n`);
    });
    this.queue = write.catch(() => {});
    return write;
  }
}
