// The agent API's wire vocabulary (PROTOCOL.md): what Burrow's server sends and its client reads.

/** The server's startup phases, in the order provisioning reaches them; `failed` ends a failed one. */
export const AGENT_STARTUP_PHASES = [
  "requested",
  "provisioning_vm",
  "booting_guest",
  "waiting_for_service_ready",
  "waiting_for_keypackage_publish",
  "ready",
  "failed",
] as const;

export type AgentStartupPhase = (typeof AGENT_STARTUP_PHASES)[number];

export function isAgentStartupPhase(value: unknown): value is AgentStartupPhase {
  return typeof value === "string" && (AGENT_STARTUP_PHASES as readonly string[]).includes(value);
}

export const AGENT_API_STATES = ["creating", "ready", "error"] as const;

/** An agent as clients see it; a VM's status maps to it: running → ready, starting → creating, stopped / failed → error. */
export type AgentApiState = (typeof AGENT_API_STATES)[number];

export function isAgentApiState(value: unknown): value is AgentApiState {
  return typeof value === "string" && (AGENT_API_STATES as readonly string[]).includes(value);
}

/** The three calls: each one path and one method. */
export const AGENT_API_ROUTES = {
  ensure: { method: "POST", path: "/v1/agents/ensure" },
  me: { method: "GET", path: "/v1/agents/me" },
  recover: { method: "POST", path: "/v1/agents/me/recover" },
} as const;

export type AgentApiCall = keyof typeof AGENT_API_ROUTES;

/** The agent in a 200 / 202 answer to any of the calls. */
export interface AgentBody {
  /** The agent bot's npub. */
  agent_id: string;
  /** NULL while the row waits for the spawner's answer. */
  vm_id: string | null;
  state: AgentApiState;
  startup_phase: AgentStartupPhase;
  /** Why the agent is in `error`. */
  error?: string;
}

/** The documented error codes: Pika's set plus Burrow's `payload_too_large` and `rate_limited`. */
export type AgentApiErrorCode =
  | "unauthorized"
  | "not_whitelisted"
  | "invalid_request"
  | "agent_exists"
  | "agent_not_found"
  | "recover_failed"
  | "internal"
  | "payload_too_large"
  | "rate_limited";

/** Every response carries the server's request id: an agent or an error code beside it. */
export type AgentApiResponseBody = (AgentBody & { request_id: string }) | { error: AgentApiErrorCode; request_id: string };
