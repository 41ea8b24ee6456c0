// The client of the spawner service (service.ts), or of any VM host that exposes the same API.
// Nothing it receives is trusted: answers are checked field by field, and a 404 means "no such VM"
// only when it says so (`{error: "not_found"}`), so a wrong base URL is not taken for vanished VMs.
import { SpawnerError } from "../types.js";
import { isAgentStartupPhase } from "../../../shared/agentApi.js";
import type { CreateVmRequest, Spawner, VmInfo, VmStatus } from "../types.js";
import { isLoopbackHost } from "./loopback.js";

export interface HttpSpawnerOptions {
  /** The service's base URL, e.g. http://127.0.0.1:7450 (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Per request, answer included. Default 10 s. */
  timeoutMs?: number;
  /** Plain http to a host beyond loopback would send agent secrets in the clear; refused unless set. */
  allowInsecureHttp?: boolean;
}

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const VM_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const STATUSES: Record<VmStatus, true> = { starting: true, running: true, stopped: true, failed: true };

function malformed(what: string): SpawnerError {
  return new SpawnerError("unavailable", `the spawner sent a malformed ${what}`);
}

function isHex64(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-f]{64}$/.test(value);
}

export function parseVmInfo(value: unknown): VmInfo {
  if (typeof value !== "object" || value === null) throw malformed("VM");
  const v = value as Record<string, unknown>;
  const { vm_id, status, phase, error, agent_pubkey, owner_pubkey, created_at } = v;
  if (typeof vm_id !== "string" || !VM_ID.test(vm_id)) throw malformed("vm_id");
  if (typeof status !== "string" || !Object.hasOwn(STATUSES, status)) throw malformed(`status for ${vm_id}`);
  if (!isHex64(agent_pubkey) || !isHex64(owner_pubkey)) throw malformed(`pubkey for ${vm_id}`);
  if (typeof created_at !== "number" || !Number.isFinite(created_at)) throw malformed(`created_at for ${vm_id}`);
  if (error !== null && typeof error !== "string") throw malformed(`error for ${vm_id}`);
  return {
    vm_id,
    status: status as VmStatus,
    // A phase this build does not know is progress it cannot show, not a broken answer.
    phase: isAgentStartupPhase(phase) ? phase : null,
    error,
    agent_pubkey,
    owner_pubkey,
    created_at,
  };
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ""}`;
  return error instanceof Error ? error.message : String(error);
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new Error(`answer over ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export class HttpSpawner implements Spawner {
  private readonly base: URL;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(options: HttpSpawnerOptions) {
    const { baseUrl } = options;
    if (!URL.canParse(baseUrl)) throw new Error(`spawner URL ${baseUrl} is not a URL`);
    const base = new URL(baseUrl);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error(`spawner URL ${baseUrl} must be http(s)`);
    if (base.protocol === "http:" && !isLoopbackHost(base.hostname) && !options.allowInsecureHttp) {
      throw new Error(`spawner URL ${baseUrl}: plain http beyond loopback would send agent secrets in the clear; use https`);
    }
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    base.search = "";
    base.hash = "";
    this.base = base;
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Safe to retry after a lost answer: the service answers a repeated create for a live agent key with the same vm_id. */
  async create(request: CreateVmRequest): Promise<{ vm_id: string }> {
    const { status, body } = await this.call("POST", "vms", request);
    if (status !== 201) throw this.failure(status, body);
    const vmId = (body as { vm_id?: unknown } | null)?.vm_id;
    if (typeof vmId !== "string" || !VM_ID.test(vmId)) throw malformed("vm_id");
    return { vm_id: vmId };
  }

  async status(vmId: string): Promise<VmInfo | null> {
    const { status, body } = await this.call("GET", `vms/${encodeURIComponent(vmId)}`);
    if (status === 200) return parseVmInfo(body);
    if (this.isNotFound(status, body)) return null;
    throw this.failure(status, body);
  }

  async delete(vmId: string): Promise<boolean> {
    const { status, body } = await this.call("DELETE", `vms/${encodeURIComponent(vmId)}`);
    if (status === 204 || status === 200) return true;
    if (this.isNotFound(status, body)) return false;
    throw this.failure(status, body);
  }

  async list(): Promise<VmInfo[]> {
    const { status, body } = await this.call("GET", "vms");
    if (status !== 200) throw this.failure(status, body);
    const vms = (body as { vms?: unknown } | null)?.vms;
    if (!Array.isArray(vms)) throw malformed("VM list");
    return vms.map(parseVmInfo);
  }

  /** The agents keep running: they belong to the service, not to this client. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private isNotFound(status: number, body: unknown): boolean {
    return status === 404 && (body as { error?: unknown } | null)?.error === "not_found";
  }

  private failure(status: number, body: unknown): SpawnerError {
    const { error, message } = (body ?? {}) as { error?: unknown; message?: unknown };
    const detail = typeof message === "string" && message !== "" ? `: ${message}` : "";
    if (error === "invalid_request" || error === "create_failed") return new SpawnerError(error, `${error}${detail}`);
    if (status === 401) return new SpawnerError("unavailable", `the spawner at ${this.base.origin} refused our token${detail}`);
    return new SpawnerError("unavailable", `the spawner at ${this.base.origin} answered ${status}${typeof error === "string" ? ` ${error}` : ""}${detail}`);
  }

  private async call(method: string, path: string, payload?: unknown): Promise<{ status: number; body: unknown }> {
    if (this.closed) throw new SpawnerError("unavailable", "the spawner client is closed");
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token !== undefined) headers["authorization"] = `Bearer ${this.token}`;
    if (payload !== undefined) headers["content-type"] = "application/json";
    let status: number;
    let text: string;
    try {
      const response = await fetch(new URL(path, this.base), {
        method,
        headers,
        body: payload === undefined ? null : JSON.stringify(payload),
        // A redirect could carry an agent secret to another host.
        redirect: "error",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      text = await readLimited(response);
    } catch (error) {
      throw new SpawnerError("unavailable", `the spawner at ${this.base.origin} is unreachable: ${describeFailure(error, this.timeoutMs)}`);
    }
    if (text === "") return { status, body: null };
    try {
      return { status, body: JSON.parse(text) as unknown };
    } catch {
      // Not our service (a proxy's error page, a wrong URL): only the status is known.
      return { status, body: null };
    }
  }
}
