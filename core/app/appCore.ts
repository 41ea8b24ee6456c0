import { actionTag, parseAction, type AppAction, type DispatchReply } from "../../shared/actions.js";
import { toUserMessage } from "../../shared/errors.js";
import type { AppState, StatePush, StateSnapshot, ToastKind } from "../../shared/state.js";
import { applyPatch } from "../../shared/statePush.js";
import type { AgentResponse } from "../agentApi/client.js";
import { systemClock, type Clock } from "../base/clock.js";
import { DEFAULT_TIMINGS, PUBLIC_AGENT_API_URL, PUBLIC_RELAYS, type CoreTimings } from "../base/config.js";
import type { CoreEventListener } from "../base/events.js";
import type { Logger } from "../base/log.js";
import type { SecretStore } from "../base/secretStore.js";
import { initNostrCrypto } from "../marmot/index.js";
import { describeError } from "../marmot/errors.js";
import { timed } from "../base/stages.js";
import { diffState } from "../state/diffState.js";
import { agentButton, initialState } from "../state/appState.js";
import { route, type AccountAction } from "./routes.js";
import { Session } from "./session.js";

export type { SecretStore } from "../base/secretStore.js";

export type { LogLine, Logger } from "../base/log.js";

export interface AppCoreOptions {
  secretStore: SecretStore;
  dataDir: string;
  log?: Logger;
  /** Pushes are coalesced: at most one per this many milliseconds. */
  pushIntervalMs?: number;
  /** Relays of an account that has not chosen its own (default: well-known public relays). */
  defaultRelays?: string[];
  /** The agent API of an account that has not chosen one: the environment's or the local stack's (default: the public one). */
  agentApiUrl?: string;
  timings?: Partial<CoreTimings>;
  /** The core's clock (default: the system's); tests skew one core's time with it. */
  clock?: Clock;
}

const MAX_TOASTS = 5;

/**
 * The app core: owns AppState, hands each action to its route, and pushes what changed, coalesced,
 * with a strictly increasing rev: a new subscriber gets the whole state, then patches. Plain Node:
 * runs in Electron's main process, the browser host and the CLI alike.
 */
export class AppCore {
  private readonly state: AppState;
  private rev = 1;
  private published: StateSnapshot;
  private pushTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(push: StatePush) => void>();
  private readonly eventListeners = new Set<CoreEventListener>();
  private nextToastId = 1;
  private closed = false;
  private readonly log: Logger;
  private readonly pushIntervalMs: number;
  private readonly timings: CoreTimings;
  private readonly session: Session;

  private constructor(options: AppCoreOptions) {
    const agentApiUrl = options.agentApiUrl ?? PUBLIC_AGENT_API_URL;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    const log = options.log ?? (() => undefined);
    // A closed core says nothing more: late results of its last work are dropped without a line.
    this.log = (line) => {
      if (!this.closed) log(line);
    };
    this.pushIntervalMs = options.pushIntervalMs ?? 16;
    this.state = initialState(options.secretStore, true, agentApiUrl);
    this.published = { rev: this.rev, state: structuredClone(this.state) };
    this.session = new Session({
      secretStore: options.secretStore,
      dataDir: options.dataDir,
      defaultRelays: options.defaultRelays ?? PUBLIC_RELAYS,
      agentApiUrl,
      timings: this.timings,
      clock: options.clock ?? systemClock,
      log: this.log,
      state: () => this.state,
      update: (mutate) => this.update(mutate),
      toast: (kind, message) => this.toast(kind, message),
      emit: (event) => {
        for (const listener of this.eventListeners) {
          try {
            listener(event);
          } catch (error) {
            this.log({ event: "listener_failed", error: describeError(error) });
          }
        }
      },
      closed: () => this.closed,
    });
  }

  /** Creates the core and restores the stored session, if any. */
  static async create(options: AppCoreOptions): Promise<AppCore> {
    const core = new AppCore(options);
    const backend = await initNostrCrypto();
    core.log({ event: "nostr_crypto", backend });
    await core.session.restore();
    core.flush();
    return core;
  }

  /** The whole state as last pushed (never mutated: a push makes a new one, sharing what did not change). */
  snapshot(): StateSnapshot {
    return this.published;
  }

  /**
   * Calls `listener` with the whole current state now, then with every later push (patches onto the
   * rev before; `foldPushes` of shared/statePush.ts turns them into whole states).
   */
  subscribe(listener: (push: StatePush) => void): () => void {
    this.listeners.add(listener);
    listener({ rev: this.published.rev, snapshot: this.published.state });
    return () => this.listeners.delete(listener);
  }

  /** Headless clients (agent bot, CLI) hear about each stored incoming message and invite here. */
  onEvent(listener: CoreEventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Entry point for untrusted input from a renderer: validates, then handles. Never throws. */
  async dispatch(raw: unknown): Promise<DispatchReply> {
    if (this.closed) return { ok: false, error: toUserMessage("shutting_down") };
    const parsed = parseAction(raw);
    if (!parsed.ok) {
      this.log({ event: "action_refused", reason: parsed.error });
      this.toast("error", parsed.user ? parsed.error : toUserMessage("malformed_action", parsed.error));
      return { ok: false, error: parsed.error };
    }
    this.log({ event: "action", tag: actionTag(parsed.action) });
    try {
      return this.handle(parsed.action);
    } catch (error) {
      this.log({ event: "action_failed", tag: actionTag(parsed.action), error: describeError(error) });
      this.toast("error", toUserMessage("internal", describeError(error)));
      return { ok: false, error: describeError(error) };
    }
  }

  /**
   * One signed request to the agent API as the signed-in account (`me`, `ensure`, `recover`), for
   * headless clients; the answer as the server gave it. Throws AgentApiError, or when signed out.
   */
  agentRequest(request: "me" | "ensure" | "recover"): Promise<AgentResponse> {
    const account = this.session.account();
    if (!account) return Promise.reject(new Error(toUserMessage("not_logged_in")));
    return account.agentRequest(request);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.session.close();
    this.flush();
    this.listeners.clear();
  }

  private handle(action: AppAction): DispatchReply {
    switch (action.type) {
      case "CreateAccount":
        return this.session.createAccount();
      case "Login":
        return this.session.login(action.nsec);
      case "Logout":
        return this.session.logout();
      case "ExportSecretKey":
        return this.session.exportSecretKey();
      case "SetNetworkEnabled":
        return this.session.setNetworkEnabled(action.enabled);
      case "DismissToast":
        this.update((s) => {
          s.toasts = s.toasts.filter((toast) => toast.id !== action.id);
        });
        return { ok: true };
      default: {
        const account = this.session.account();
        if (!account) return this.session.refuse();
        return route(account, action satisfies AccountAction);
      }
    }
  }

  private toast(kind: ToastKind, message: string): void {
    const id = this.nextToastId++;
    this.update((s) => {
      // The same error again replaces the older one rather than stacking a copy.
      s.toasts = [...s.toasts.filter((t) => !(t.kind === kind && t.message === message)), { id, kind, message }].slice(-MAX_TOASTS);
    });
    if (kind === "info") {
      setTimeout(() => {
        if (this.closed || !this.state.toasts.some((t) => t.id === id)) return;
        this.update((s) => {
          s.toasts = s.toasts.filter((t) => t.id !== id);
        });
      }, this.timings.infoToastMs).unref();
    }
  }

  /** The only way state changes. Marks it dirty and schedules one coalesced push. */
  private update(mutate: (state: AppState) => void): void {
    mutate(this.state);
    // Derived here, so every input that changes it (session, access, network, busy, phase) updates it.
    this.state.agent_button = agentButton(this.state);
    if (this.pushTimer || this.closed) return;
    this.pushTimer = setTimeout(() => this.flush(), this.pushIntervalMs);
  }

  private flush(): void {
    if (this.pushTimer) clearTimeout(this.pushTimer);
    this.pushTimer = null;
    const patch = timed("push: diff and clone of the changed fields", () => diffState(this.published.state, this.state));
    if (!patch) return;
    const push: StatePush = { rev: this.rev + 1, base_rev: this.rev, patch };
    this.rev += 1;
    this.published = { rev: this.rev, state: timed("push: the whole state after it (shared)", () => applyPatch(this.published.state, patch)) };
    for (const listener of this.listeners) {
      try {
        listener(push);
      } catch (error) {
        this.log({ event: "listener_failed", error: describeError(error) });
      }
    }
  }
}
