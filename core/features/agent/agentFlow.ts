// The New Agent flow and the allowlist probe (Pika's core/agent.rs, with its review's fixes):
// every async step carries a token, recovery is bounded, and a failure ends busy with one toast.
import { nip19 } from "nostr-tools";
import type { DispatchReply } from "../../../shared/actions.js";
import { toUserMessage } from "../../../shared/errors.js";
import type { AgentAccess, AgentFlowPhase } from "../../../shared/state.js";
import type { AccountContext, EffectKind } from "../../state/context.js";
import type { EffectToken } from "../../base/tokens.js";
import { AgentApiClient, AgentApiError, type AgentInfo, type AgentResponse } from "../../agentApi/client.js";

export interface AgentFlowHooks {
  ctx: AccountContext;
  apiUrl(): string;
  /** The direct chat with the agent, created when there is none (waits for our KeyPackage). */
  openOrCreateDirectChat(peer: string, token: EffectToken<EffectKind>): Promise<string | null>;
  openChat(chatId: string): void;
  /** Records the account's current agent; earlier ones become past agents. */
  setCurrentAgent(agentPubkey: string): void;
}

/** At most this many recovers for an agent in `error` per flow; never one per poll. */
export const MAX_ERROR_RECOVERIES = 2;

class Stale extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class AgentManager {
  constructor(private readonly hooks: AgentFlowHooks) {}

  private get ctx(): AccountContext {
    return this.hooks.ctx;
  }

  private client(): AgentApiClient {
    return new AgentApiClient({ baseUrl: this.hooks.apiUrl(), secretKey: this.ctx.keys.secret, timeoutMs: this.ctx.timings.agentRequestTimeoutMs });
  }

  /**
   * Signed GET me: 200/404 → allowlisted, 401/403 → not. No answer (unreachable, timeout, 5xx) keeps
   * what we knew and is recorded as `probe_error` (why and when), so Settings can say so and retry.
   */
  probe(): void {
    const token = this.ctx.tokens.issue("agent_probe");
    if (!this.ctx.state().agent.probing) {
      this.ctx.update((s) => {
        s.agent.probing = true;
      });
    }
    void this.client()
      .me()
      .then(
        (response): AgentAccess | string => {
          if (response.status === 200 || response.status === 404) return "allowlisted";
          if (response.status === 401 || response.status === 403) return "not_allowlisted";
          return `HTTP ${response.status}${response.error ? ` ${response.error}` : ""}`;
        },
        (error: unknown) => {
          const reason = error instanceof AgentApiError ? error.detail || error.kind : error instanceof Error ? error.message : String(error);
          this.ctx.log({ event: "agent_probe_failed", error: reason });
          return reason;
        },
      )
      .then((outcome) => {
        if (!this.current(token)) {
          this.ctx.log({ event: "stale_result_dropped", type: "AgentProbe" });
          return;
        }
        const answered = outcome === "allowlisted" || outcome === "not_allowlisted";
        this.ctx.log({ event: "agent_probe", access: answered ? outcome : "kept" });
        this.ctx.update((s) => {
          s.agent.probing = false;
          if (answered) {
            s.agent.access = outcome;
            s.agent.probe_error = null;
          } else {
            s.agent.probe_error = { message: toUserMessage("agent_api_unreachable", outcome), at: Math.floor(this.ctx.clock.now() / 1000) };
          }
        });
      });
  }

  /** One signed request to the agent API with this account's key, its answer as it came (headless clients: the CLI). */
  call(request: "me" | "ensure" | "recover"): Promise<AgentResponse> {
    return this.client()[request]();
  }

  ensure(): DispatchReply {
    const state = this.ctx.state();
    if (state.auth.status !== "logged_in") return this.refuse("Sign in first.");
    if (state.auth.signer !== "local") return this.refuse(new AgentApiError("requires_local_signer").toUserMessage());
    // A double click: the flow already running is the one.
    if (state.busy.starting_agent) return { ok: false, error: "An agent is already starting." };
    if (state.agent.access === "unknown") {
      this.probe();
      return this.refuse(state.agent.probe_error ? state.agent.probe_error.message : "Checking agent access. Try again in a moment.");
    }
    if (state.agent.access === "not_allowlisted") return this.refuse(new AgentApiError("not_allowlisted").toUserMessage());
    if (!state.network.enabled) return this.refuse("The network is off. Turn it on to start your agent.");
    const token = this.ctx.tokens.issue("agent_flow");
    this.ctx.update((s) => {
      s.busy.starting_agent = true;
      s.agent.phase = "requested";
    });
    void this.run(token);
    return { ok: true };
  }

  private async run(token: EffectToken<EffectKind>): Promise<void> {
    const client = this.client();
    const started = Date.now();
    try {
      const agent = await this.untilReady(client, token, started);
      this.phase(token, "opening_chat");
      const pubkey = nip19.decode(agent.agent_id as `npub1${string}`).data as string;
      this.hooks.setCurrentAgent(pubkey);
      const chatId = await this.hooks.openOrCreateDirectChat(pubkey, token);
      this.check(token);
      if (chatId === null) throw new Stale();
      this.ctx.update((s) => {
        s.busy.starting_agent = false;
        s.agent.phase = null;
      });
      this.hooks.openChat(chatId);
      this.ctx.log({ event: "agent_flow_done", agent_id: agent.agent_id, ms: Date.now() - started, requests: client.requests });
    } catch (error) {
      if (error instanceof Stale || !this.current(token)) {
        this.ctx.log({ event: "stale_result_dropped", type: "AgentFlow" });
        return;
      }
      const message = error instanceof AgentApiError ? error.toUserMessage() : error instanceof Error ? error.message : String(error);
      this.ctx.log({ event: "agent_flow_failed", error: message, ms: Date.now() - started, requests: client.requests });
      this.ctx.update((s) => {
        s.busy.starting_agent = false;
        s.agent.phase = null;
      });
      this.ctx.toast("error", message);
    }
  }

  /** ensure → follow `me` (backoff from ~250 ms) until ready, within a bounded wait and bounded recovery. */
  private async untilReady(client: AgentApiClient, token: EffectToken<EffectKind>, started: number): Promise<AgentInfo> {
    const t = this.ctx.timings;
    const ensured = await this.request(token, () => client.ensure());
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
        this.phase(token, agent.startup_phase ?? "requested");
        if (!stallRecovered && Date.now() - creatingSince > t.agentStallMs) {
          // One recover for a provisioning that stopped moving.
          stallRecovered = true;
          agent = await this.recover(client, token);
          creatingSince = Date.now();
          continue;
        }
      }
      if (agent?.state === "error") {
        if (errorRecoveries >= MAX_ERROR_RECOVERIES) throw new AgentApiError("request_failed", agent.error ?? "the agent failed to start");
        errorRecoveries += 1;
        agent = await this.recover(client, token);
        creatingSince = Date.now();
        continue;
      }
      if (Date.now() - started > t.agentReadyTimeoutMs) throw new AgentApiError("still_starting");
      await sleep(delay);
      this.check(token);
      delay = Math.min(Math.round(delay * 1.5), t.agentPollMaxMs);
      const me = await this.request(token, () => client.me());
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

  private async recover(client: AgentApiClient, token: EffectToken<EffectKind>): Promise<AgentInfo> {
    this.phase(token, "recovering");
    const response = await this.request(token, () => client.recover());
    if (response.status === 202 && response.agent) return response.agent;
    // The server could not reprovision: counts as one more failed attempt.
    if (response.status === 503) return { agent_id: "", vm_id: null, state: "error", startup_phase: "failed", error: "the agent could not be recovered" };
    throw this.failure(response);
  }

  private async request(token: EffectToken<EffectKind>, call: () => Promise<AgentResponse>): Promise<AgentResponse> {
    const response = await call();
    this.check(token);
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

  private phase(token: EffectToken<EffectKind>, phase: AgentFlowPhase): void {
    this.check(token);
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

  private check(token: EffectToken<EffectKind>): void {
    if (!this.current(token)) throw new Stale();
  }

  private current(token: EffectToken<EffectKind>): boolean {
    return this.ctx.live() && this.ctx.tokens.isCurrent(token);
  }

  private refuse(message: string): DispatchReply {
    this.ctx.toast("error", message);
    return { ok: false, error: message };
  }
}
