// The New Agent flow and the allowlist probe (Pika's core/agent.rs, with its review's fixes):
// every async step runs under a token, recovery is bounded, and a failure ends busy with one toast.
import { nip19 } from "nostr-tools";
import type { DispatchReply } from "../../../shared/actions.js";
import { toUserMessage } from "../../../shared/errors.js";
import type { AgentAccess, AgentFlowPhase } from "../../../shared/state.js";
import { userText } from "../../base/errors.js";
import { AgentApiClient, AgentApiError, type AgentInfo, type AgentResponse } from "../../agentApi/client.js";
import type { AccountContext, Step } from "../../state/context.js";
import { refuse, refuseWith } from "../../state/requests.js";

/** At most this many recovers for an agent in `error` per flow; never one per poll. */
export const MAX_ERROR_RECOVERIES = 2;

const AGENT_API_KEY = "agent_api_url";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface AgentPorts {
  /** The direct chat with the agent, created when there is none (direct chats; waits for our KeyPackage). */
  openOrCreateDirectChat(peer: string, step: Step): Promise<string>;
  /** Opens a chat (projection). */
  openChat(chatId: string): void;
  /** Records the account's current agent; earlier ones become past agents (chat registry). */
  setCurrentAgent(agentPubkey: string): void;
}

export class Agent {
  private defaultApiUrl = "";

  constructor(
    private readonly ctx: AccountContext,
    private readonly ports: AgentPorts,
  ) {}

  /** The agent API of an account that has not chosen one. */
  start(defaultApiUrl: string): void {
    this.defaultApiUrl = defaultApiUrl;
    const chosen = this.ctx.store.getMeta<string>(AGENT_API_KEY);
    this.ctx.update((s) => {
      s.settings.agent_api_url = chosen;
      s.agent.api_url = this.apiUrl();
    });
  }

  /** A new agent API: access is unknown again until the probe of that server answers. */
  setApiUrl(url: string | null): void {
    if (url === null) this.ctx.store.deleteMeta(AGENT_API_KEY);
    else this.ctx.store.setMeta(AGENT_API_KEY, url);
    this.ctx.invalidate("agent_flow");
    this.ctx.update((s) => {
      s.settings.agent_api_url = url;
      s.agent.api_url = this.apiUrl();
      s.agent.access = "unknown";
      s.agent.phase = null;
      s.busy.starting_agent = false;
    });
    this.probe();
  }

  /** One signed request to the agent API with this account's key, its answer as it came (headless clients: the CLI). */
  call(request: "me" | "ensure" | "recover"): Promise<AgentResponse> {
    return this.client()[request]();
  }

  /** `onlyIfUnknown`: only when no answer is known yet (the network came back). */
  probeAgain(onlyIfUnknown: boolean): void {
    if (!onlyIfUnknown || this.ctx.state().agent.access === "unknown") this.probe();
  }

  /**
   * Signed GET me: 200/404 → allowlisted, 401/403 → not. No answer (unreachable, timeout, 5xx) keeps
   * what we knew and is recorded as `probe_error` (why and when), so Settings can say so and retry.
   */
  probe(): void {
    if (!this.ctx.state().agent.probing) {
      this.ctx.update((s) => {
        s.agent.probing = true;
      });
    }
    this.ctx.run("agent_probe", () => this.ask(), {
      apply: (outcome) => {
        const answered = outcome === "allowlisted" || outcome === "not_allowlisted";
        this.ctx.log({ event: "agent_probe", access: answered ? outcome : "kept" });
        this.ctx.update((s) => {
          s.agent.probing = false;
          if (answered) {
            s.agent.access = outcome;
            s.agent.probe_error = null;
          } else {
            s.agent.probe_error = { message: toUserMessage("agent_api_unreachable", outcome), at: this.ctx.now() };
          }
        });
      },
    });
  }

  ensure(): DispatchReply {
    const state = this.ctx.state();
    if (state.auth.status !== "logged_in") return refuseWith(this.ctx, "not_logged_in");
    if (state.auth.signer !== "local") return refuse(this.ctx, new AgentApiError("requires_local_signer").toUserMessage());
    // A double click: the flow already running is the one.
    if (state.busy.starting_agent) return { ok: false, error: toUserMessage("agent_already_starting") };
    if (state.agent.access === "unknown") {
      this.probe();
      return refuse(this.ctx, state.agent.probe_error ? state.agent.probe_error.message : toUserMessage("agent_access_checking"));
    }
    if (state.agent.access === "not_allowlisted") return refuse(this.ctx, new AgentApiError("not_allowlisted").toUserMessage());
    if (!state.network.enabled) return refuseWith(this.ctx, "agent_network_off");
    this.ctx.update((s) => {
      s.busy.starting_agent = true;
      s.agent.phase = "requested";
    });
    const client = this.client();
    const started = Date.now();
    const idle = (): void =>
      this.ctx.update((s) => {
        s.busy.starting_agent = false;
        s.agent.phase = null;
      });
    this.ctx.run("agent_flow", (step) => this.flow(client, step, started), {
      apply: ({ agentId, chatId }) => {
        idle();
        this.ports.openChat(chatId);
        this.ctx.log({ event: "agent_flow_done", agent_id: agentId, ms: Date.now() - started, requests: client.requests });
      },
      fail: (error) => {
        const message = userText(error);
        this.ctx.log({ event: "agent_flow_failed", error: message, ms: Date.now() - started, requests: client.requests });
        idle();
        this.ctx.toast("error", message);
      },
    });
    return { ok: true };
  }

  private apiUrl(): string {
    return this.ctx.store.getMeta<string>(AGENT_API_KEY) ?? this.defaultApiUrl;
  }

  private client(): AgentApiClient {
    return new AgentApiClient({ baseUrl: this.apiUrl(), secretKey: this.ctx.keys.secret, timeoutMs: this.ctx.timings.agentRequestTimeoutMs });
  }

  /** The probe's answer: an access, or why there was none. */
  private async ask(): Promise<AgentAccess | string> {
    try {
      const response = await this.client().me();
      if (response.status === 200 || response.status === 404) return "allowlisted";
      if (response.status === 401 || response.status === 403) return "not_allowlisted";
      return `HTTP ${response.status}${response.error ? ` ${response.error}` : ""}`;
    } catch (error) {
      const reason = error instanceof AgentApiError ? error.detail || error.kind : error instanceof Error ? error.message : String(error);
      this.ctx.log({ event: "agent_probe_failed", error: reason });
      return reason;
    }
  }

  private async flow(client: AgentApiClient, step: Step, started: number): Promise<{ agentId: string; chatId: string }> {
    const agent = await this.untilReady(client, step, started);
    this.phase(step, "opening_chat");
    const pubkey = nip19.decode(agent.agent_id as `npub1${string}`).data as string;
    this.ports.setCurrentAgent(pubkey);
    const chatId = await this.ports.openOrCreateDirectChat(pubkey, step);
    return { agentId: agent.agent_id, chatId };
  }

  /** ensure → follow `me` (backoff from ~250 ms) until ready, within a bounded wait and bounded recovery. */
  private async untilReady(client: AgentApiClient, step: Step, started: number): Promise<AgentInfo> {
    const t = this.ctx.timings;
    const ensured = await this.request(step, () => client.ensure());
    if (ensured.status !== 202 && ensured.status !== 409) throw this.failure(ensured);
    let agent: AgentInfo | null = ensured.agent;
    let errorRecoveries = 0;
    let stallRecovered = false;
    let creatingSince = Date.now();
    let notFound = 0;
    let delay = t.agentPollInitialMs;
    for (;;) {
      if (agent?.state === "ready") return agent;
      if (agent?.state === "creating") {
        this.phase(step, agent.startup_phase ?? "requested");
        if (!stallRecovered && Date.now() - creatingSince > t.agentStallMs) {
          // One recover for a provisioning that stopped moving.
          stallRecovered = true;
          agent = await this.recover(client, step);
          creatingSince = Date.now();
          continue;
        }
      }
      if (agent?.state === "error") {
        if (errorRecoveries >= MAX_ERROR_RECOVERIES) throw new AgentApiError("request_failed", agent.error ?? toUserMessage("agent_failed_to_start"));
        errorRecoveries += 1;
        agent = await this.recover(client, step);
        creatingSince = Date.now();
        continue;
      }
      if (Date.now() - started > t.agentReadyTimeoutMs) throw new AgentApiError("still_starting");
      await sleep(delay);
      step.check();
      delay = Math.min(Math.round(delay * 1.5), t.agentPollMaxMs);
      const me = await this.request(step, () => client.me());
      if (me.status === 200) {
        agent = me.agent;
        notFound = 0;
      } else if (me.status === 404) {
        notFound += 1;
        if (notFound >= 2) throw new AgentApiError("not_found_after_create");
      } else {
        throw this.failure(me);
      }
    }
  }

  private async recover(client: AgentApiClient, step: Step): Promise<AgentInfo> {
    this.phase(step, "recovering");
    const response = await this.request(step, () => client.recover());
    if (response.status === 202 && response.agent) return response.agent;
    // The server could not reprovision: counts as one more failed attempt.
    if (response.status === 503) return { agent_id: "", vm_id: null, state: "error", startup_phase: "failed", error: "the agent could not be recovered" };
    throw this.failure(response);
  }

  private async request(step: Step, call: () => Promise<AgentResponse>): Promise<AgentResponse> {
    const response = await call();
    step.check();
    if (response.status === 403) this.setAccess("not_allowlisted");
    return response;
  }

  private failure(response: AgentResponse): AgentApiError {
    switch (response.status) {
      case 401:
        return new AgentApiError("auth", "", 401);
      case 403:
        return new AgentApiError("not_allowlisted", "", 403);
      case 404:
        return new AgentApiError("not_found_after_create", "", 404);
      case 429:
        return new AgentApiError("request_failed", "too many agents started today; try again later", 429);
      default:
        return new AgentApiError("request_failed", `${response.status} ${response.error ?? ""}`.trim(), response.status);
    }
  }

  private phase(step: Step, phase: AgentFlowPhase): void {
    step.check();
    if (this.ctx.state().agent.phase === phase) return;
    this.ctx.update((s) => {
      s.agent.phase = phase;
    });
  }

  private setAccess(access: AgentAccess): void {
    if (this.ctx.state().agent.access === access) return;
    this.ctx.update((s) => {
      s.agent.access = access;
    });
  }
}
