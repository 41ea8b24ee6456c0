// The agent API client: NIP-98-signed requests, answers checked field by field, typed errors with
// their user messages in the one table of shared/errors.ts (Pika's core/agent.rs).
import { AGENT_API_ROUTES, isAgentApiState, isAgentStartupPhase, type AgentApiCall, type AgentApiState, type AgentStartupPhase } from "../../shared/agentApi.js";
import { toUserMessage } from "../../shared/errors.js";
import { nip98Header } from "../marmot/nip98.js";

export type AgentErrorKind =
  | "auth"
  | "not_allowlisted"
  | "not_found_after_create"
  | "still_starting"
  | "invalid_response"
  | "requires_local_signer"
  | "request_failed"
  | "network";

export class AgentApiError extends Error {
  constructor(
    readonly kind: AgentErrorKind,
    readonly detail = "",
    readonly status: number | null = null,
  ) {
    super(detail ? `${kind}: ${detail}` : kind);
    this.name = "AgentApiError";
  }

  toUserMessage(): string {
    return agentErrorMessage(this.kind, this.detail);
  }
}

/** The agent's failures in the one table of user-facing strings (shared/errors.ts). */
export function agentErrorMessage(kind: AgentErrorKind, detail = ""): string {
  return toUserMessage(`agent_${kind}`, detail);
}

/** An agent as the flow reads it; a phase this build does not know is progress it cannot show, so null. */
export interface AgentInfo {
  agent_id: string;
  vm_id: string | null;
  state: AgentApiState;
  startup_phase: AgentStartupPhase | null;
  error: string | null;
}

/** A response as the flow needs it: the status, and the agent when the body carried one. */
export interface AgentResponse {
  status: number;
  agent: AgentInfo | null;
  error: string | null;
}

function parseAgent(body: Record<string, unknown>): AgentInfo | null {
  const { agent_id, vm_id, state, startup_phase, error } = body;
  if (typeof agent_id !== "string" || !/^npub1[02-9ac-hj-np-z]{58}$/.test(agent_id)) return null;
  if (vm_id !== null && vm_id !== undefined && typeof vm_id !== "string") return null;
  if (!isAgentApiState(state)) return null;
  return {
    agent_id,
    vm_id: typeof vm_id === "string" ? vm_id : null,
    state,
    startup_phase: isAgentStartupPhase(startup_phase) ? startup_phase : null,
    error: typeof error === "string" ? error.slice(0, 300) : null,
  };
}

export interface AgentApiClientOptions {
  baseUrl: string;
  secretKey: Uint8Array;
  timeoutMs: number;
}

export class AgentApiClient {
  /** HTTP requests made so far (the benchmark reports requests per flow). */
  requests = 0;
  private readonly baseUrl: string;

  constructor(private readonly options: AgentApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  ensure(): Promise<AgentResponse> {
    return this.call("ensure");
  }

  me(): Promise<AgentResponse> {
    return this.call("me");
  }

  recover(): Promise<AgentResponse> {
    return this.call("recover");
  }

  /** Any HTTP answer with a JSON body comes back (the flow decides what a status means); transport failures throw `network`. */
  private async call(name: AgentApiCall): Promise<AgentResponse> {
    const { method, path } = AGENT_API_ROUTES[name];
    const url = `${this.baseUrl}${path}`;
    this.requests += 1;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { Authorization: nip98Header(url, method, this.options.secretKey), Accept: "application/json" },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = error instanceof Error && error.name === "TimeoutError" ? "the agent API did not answer in time" : (cause?.code ?? cause?.message ?? String(error));
      throw new AgentApiError("network", reason);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new AgentApiError("invalid_response", `status ${response.status} without a JSON body`, response.status);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new AgentApiError("invalid_response", "body is not an object", response.status);
    const record = body as Record<string, unknown>;
    const agent = parseAgent(record);
    if ((response.status === 200 || response.status === 202) && !agent) throw new AgentApiError("invalid_response", `status ${response.status} without an agent`, response.status);
    return { status: response.status, agent, error: typeof record["error"] === "string" ? record["error"] : null };
  }
}
