import { actionTag, parseAction, type AppAction, type DispatchReply } from "../../shared/actions.js";
import { toUserMessage, type CoreErrorCode } from "../../shared/errors.js";
import { CONTRACT_VERSION, type AppState, type StateSnapshot, type ToastKind } from "../../shared/state.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import type { NetworkStatus, RelayStatus } from "../../shared/state.js";
import { Account } from "./account.js";
import type { EffectKind } from "../state/context.js";
import type { CoreEventListener } from "../base/events.js";
import type { AgentResponse } from "../agentApi/client.js";
import { systemClock, type Clock } from "../base/clock.js";
import type { Logger } from "../base/log.js";
import { DEFAULT_TIMINGS, PUBLIC_AGENT_API_URL, PUBLIC_RELAYS, type CoreTimings } from "../base/config.js";
import { encodeNsec, generateKeys, parsePrivateKey, type LocalKeys } from "../base/keys.js";
import { initNostrCrypto } from "../marmot/index.js";
import { RelayPool } from "../relays/pool.js";
import type { SecretStore } from "../base/secretStore.js";
import { AccountStore } from "../storage/accountStore.js";
import { EffectTokens, type EffectToken } from "../base/tokens.js";

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

/** Results of async effects, reported back to the owner of the state. */
type InternalEvent =
  | { type: "SessionStored"; token: EffectToken<EffectKind>; keys: LocalKeys; created: boolean }
  | { type: "SessionStoreFailed"; token: EffectToken<EffectKind>; error: string };

const MAX_TOASTS = 5;

function initialState(store: SecretStore, networkEnabled: boolean, agentApiUrl: string): AppState {
  return {
    contract_version: CONTRACT_VERSION,
    auth: { status: "logged_out" },
    login_error: null,
    chats: [],
    invites: [],
    open_chat: null,
    key_package: { published: false, publishing: false },
    settings: { relays: [], agent_api_url: null },
    busy: { logging_in: false, creating_chat: false, updating_group: false, starting_agent: false },
    agent_button: null,
    agent: { access: "unknown", phase: null, api_url: agentApiUrl, probe_error: null, probing: false },
    sync: null,
    notification: null,
    toasts: [],
    outcomes: [],
    key_backup_prompt: false,
    network: { enabled: networkEnabled, status: networkEnabled ? "offline" : "off", relays: [] },
    secret_storage: { kind: store.kind, notice: store.notice },
  };
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Shown for a local-key session that may have an agent, with the network on; also while access is
 * unknown because the agent API gave no answer, then disabled with that reason (never a silent
 * disappearance). A probe error never overrides a known allowlist state.
 */
function agentButton(state: AppState): AppState["agent_button"] {
  if (state.auth.status !== "logged_in" || state.auth.signer !== "local" || !state.network.enabled) return null;
  if (state.agent.access === "unknown" && state.agent.probe_error) {
    return { title: "New Agent", is_busy: false, phase: null, disabled_reason: state.agent.probe_error.message };
  }
  if (state.agent.access !== "allowlisted") return null;
  return { title: "New Agent", is_busy: state.busy.starting_agent, phase: state.busy.starting_agent ? state.agent.phase : null, disabled_reason: null };
}

function networkStatus(enabled: boolean, relays: RelayStatus[]): NetworkStatus {
  if (!enabled) return "off";
  if (relays.some((r) => r.status === "connected")) return "online";
  if (relays.some((r) => r.status === "connecting")) return "connecting";
  return "offline";
}

/**
 * The app core: owns AppState, handles actions and effect results in one place, and pushes
 * coalesced snapshots with a strictly increasing rev. Plain Node: runs in Electron's main process,
 * the browser host and the CLI alike.
 */
export class AppCore {
  private state: AppState;
  private rev = 1;
  private published: StateSnapshot;
  private pushTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(snapshot: StateSnapshot) => void>();
  private readonly tokens = new EffectTokens<EffectKind>();
  private keys: LocalKeys | null = null;
  private nextToastId = 1;
  private closed = false;
  private readonly store: SecretStore;
  private readonly log: Logger;
  private readonly pushIntervalMs: number;
  private readonly dataDir: string;
  private readonly defaultRelays: string[];
  private readonly agentApiUrl: string;
  private readonly timings: CoreTimings;
  private readonly clock: Clock;
  private account: Account | null = null;
  private readonly eventListeners = new Set<CoreEventListener>();

  private constructor(options: AppCoreOptions) {
    this.dataDir = options.dataDir;
    this.defaultRelays = options.defaultRelays ?? PUBLIC_RELAYS;
    this.agentApiUrl = options.agentApiUrl ?? PUBLIC_AGENT_API_URL;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.clock = options.clock ?? systemClock;
    this.store = options.secretStore;
    this.log = options.log ?? (() => undefined);
    this.pushIntervalMs = options.pushIntervalMs ?? 16;
    this.state = initialState(this.store, true, this.agentApiUrl);
    this.published = { rev: this.rev, state: structuredClone(this.state) };
  }

  /** Creates the core and restores the stored session, if any. */
  static async create(options: AppCoreOptions): Promise<AppCore> {
    const core = new AppCore(options);
    const backend = await initNostrCrypto();
    core.log({ event: "nostr_crypto", backend });
    await core.restoreSession();
    core.flush();
    return core;
  }

  snapshot(): StateSnapshot {
    return this.published;
  }

  /** Calls `listener` with the current snapshot now and with every later push. */
  subscribe(listener: (snapshot: StateSnapshot) => void): () => void {
    this.listeners.add(listener);
    listener(this.published);
    return () => this.listeners.delete(listener);
  }

  /** Headless clients (agent bot, CLI) hear about each stored incoming message and invite here. */
  onEvent(listener: CoreEventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Entry point for untrusted input from a renderer: validates, then handles. Never throws. */
  async dispatch(raw: unknown): Promise<DispatchReply> {
    if (this.closed) return { ok: false, error: "Burrow is shutting down" };
    const parsed = parseAction(raw);
    if (!parsed.ok) {
      this.log({ event: "action_refused", reason: parsed.error });
      this.toast("error", parsed.user ? parsed.error : toUserMessage("malformed_action", parsed.error));
      return { ok: false, error: parsed.error };
    }
    this.log({ event: "action", tag: actionTag(parsed.action) });
    try {
      return this.handleAction(parsed.action);
    } catch (error) {
      this.log({ event: "action_failed", tag: actionTag(parsed.action), error: describe(error) });
      this.toast("error", toUserMessage("internal", describe(error)));
      return { ok: false, error: describe(error) };
    }
  }

  /**
   * One signed request to the agent API as the signed-in account (`me`, `ensure`, `recover`), for
   * headless clients; the answer as the server gave it. Throws AgentApiError, or when signed out.
   */
  agentRequest(request: "me" | "ensure" | "recover"): Promise<AgentResponse> {
    if (!this.account) return Promise.reject(new Error(toUserMessage("not_logged_in")));
    return this.account.agentRequest(request);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.tokens.resetAll();
    this.account?.close();
    this.account = null;
    this.flush();
    this.listeners.clear();
  }

  private handleAction(action: AppAction): DispatchReply {
    switch (action.type) {
      case "CreateAccount":
        return this.startSession(generateKeys(), true);
      case "Login": {
        const keys = parsePrivateKey(action.nsec);
        if (!keys) {
          this.update((s) => {
            s.login_error = toUserMessage("invalid_private_key");
          });
          return { ok: false, error: toUserMessage("invalid_private_key") };
        }
        return this.startSession(keys, false);
      }
      case "Logout":
        this.logout();
        return { ok: true };
      case "ExportSecretKey":
        if (!this.keys) return this.refuse("not_logged_in");
        this.log({ event: "secret_key_exported" });
        return { ok: true, nsec: encodeNsec(this.keys.secretHex) };
      case "SetNetworkEnabled":
        this.update((s) => {
          s.network.enabled = action.enabled;
          s.network.status = networkStatus(action.enabled, s.network.relays);
        });
        this.account?.setNetworkEnabled(action.enabled);
        return { ok: true };
      case "EnsureAgent":
        if (!this.account) return this.refuse("not_logged_in");
        return this.account.ensureAgent();
      case "RetryAgentProbe":
        if (!this.account) return this.refuse("not_logged_in");
        this.account.retryAgentProbe();
        return { ok: true };
      case "DismissKeyBackup":
        if (!this.account) return this.refuse("not_logged_in");
        this.account.dismissKeyBackup();
        return { ok: true };
      case "SetAgentApiUrl":
        if (!this.account) return this.refuse("not_logged_in");
        this.account.setAgentApiUrl(action.url);
        return { ok: true };
      case "SetRelays":
        if (!this.account) return this.refuse("not_logged_in");
        this.account.setRelays(action.relays);
        return { ok: true };
      case "DismissToast":
        this.update((s) => {
          s.toasts = s.toasts.filter((toast) => toast.id !== action.id);
        });
        return { ok: true };
      case "CreateGroup":
      case "AddMembers":
      case "RemoveMember":
      case "RenameGroup":
      case "LeaveGroup":
        if (!this.account) return this.refuse("not_logged_in");
        return this.account.handleGroup(action);
      case "React":
      case "SetChatMuted":
      case "CreateChat":
      case "OpenChat":
      case "CloseChat":
      case "LoadOlderMessages":
      case "SendMessage":
      case "RetryMessage":
      case "AcceptInvite":
      case "DeclineInvite":
        if (!this.account) return this.refuse("not_logged_in");
        return this.account.handle(action);
    }
  }

  private handleInternal(event: InternalEvent): void {
    if (!this.tokens.isCurrent(event.token)) {
      this.log({ event: "stale_result_dropped", type: event.type });
      return;
    }
    switch (event.type) {
      case "SessionStored":
        this.keys = event.keys;
        this.update((s) => {
          s.auth = { status: "logged_in", npub: event.keys.npub, pubkey: event.keys.pubkey, signer: "local" };
          s.busy.logging_in = false;
          s.login_error = null;
        });
        this.log({ event: event.created ? "account_created" : "logged_in", npub: event.keys.npub });
        this.openAccount(event.keys, event.created);
        return;
      case "SessionStoreFailed":
        this.update((s) => {
          s.busy.logging_in = false;
        });
        this.toast("error", toUserMessage("secret_storage_failed", event.error));
        return;
    }
  }

  /** Stores the key first; the session starts only once the key is safely stored. */
  private startSession(keys: LocalKeys, created: boolean): DispatchReply {
    if (this.keys) this.logout();
    const token = this.tokens.issue("session");
    this.update((s) => {
      s.busy.logging_in = true;
      s.login_error = null;
    });
    this.store.save(keys.secretHex).then(
      () => this.handleInternal({ type: "SessionStored", token, keys, created }),
      (error: unknown) => this.handleInternal({ type: "SessionStoreFailed", token, error: describe(error) }),
    );
    return { ok: true };
  }

  private logout(): void {
    this.tokens.resetAll();
    this.keys = null;
    this.account?.close();
    this.account = null;
    const networkEnabled = this.state.network.enabled;
    this.update((s) => {
      Object.assign(s, initialState(this.store, networkEnabled, this.agentApiUrl));
    });
    this.store.clear().catch((error: unknown) => {
      this.toast("error", toUserMessage("secret_storage_failed", describe(error)));
    });
    this.log({ event: "logged_out" });
  }

  private async restoreSession(): Promise<void> {
    let secretHex: string | null;
    try {
      secretHex = await this.store.load();
    } catch (error) {
      this.toast("error", `Could not read your stored key: ${describe(error)}`);
      return;
    }
    if (!secretHex) return;
    const keys = parsePrivateKey(secretHex);
    if (!keys) {
      this.toast("error", "Your stored key is not a valid private key. Import your key again.");
      return;
    }
    this.keys = keys;
    this.update((s) => {
      s.auth = { status: "logged_in", npub: keys.npub, pubkey: keys.pubkey, signer: "local" };
    });
    this.log({ event: "session_restored", npub: keys.npub });
    this.openAccount(keys);
  }

  /** Opens the account's store and relays; its chats and KeyPackages start from there. */
  private openAccount(keys: LocalKeys, created = false): void {
    let store: AccountStore;
    try {
      store = AccountStore.open(this.dataDir, keys.pubkey);
    } catch (error) {
      this.log({ event: "account_store_failed", error: describe(error) });
      this.toast("error", `Could not open your chats on this device: ${describe(error)}`);
      return;
    }
    let account: Account | null = null;
    const pool = new RelayPool({
      log: this.log,
      connectTimeoutMs: this.timings.connectTimeoutMs,
      publishTimeoutMs: this.timings.publishTimeoutMs,
      reconnectInitialMs: this.timings.reconnectInitialMs,
      reconnectMaxMs: this.timings.reconnectMaxMs,
      onStatus: (relays) => {
        if (!account || this.account !== account) return;
        const wasOnline = this.state.network.status === "online";
        this.update((s) => {
          s.network.relays = relays;
          s.network.status = networkStatus(s.network.enabled, relays);
        });
        if (!wasOnline && this.state.network.status === "online") account.networkBack();
      },
    });
    pool.setEnabled(this.state.network.enabled);
    account = new Account({
      keys: { pubkey: keys.pubkey, npub: keys.npub, secret: hexToBytes(keys.secretHex) },
      store,
      pool,
      timings: this.timings,
      clock: this.clock,
      tokens: this.tokens,
      log: this.log,
      state: () => this.state,
      update: (mutate) => this.update(mutate),
      toast: (kind, message) => this.toast(kind, message),
      emit: (event) => {
        for (const listener of this.eventListeners) {
          try {
            listener(event);
          } catch (error) {
            this.log({ event: "listener_failed", error: describe(error) });
          }
        }
      },
      live: () => this.account === account && !this.closed,
    });
    this.account = account;
    if (created) account.offerKeyBackup();
    account.start(this.defaultRelays, this.agentApiUrl);
  }

  private refuse(code: CoreErrorCode): DispatchReply {
    const message = toUserMessage(code);
    this.toast("error", message);
    return { ok: false, error: message };
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
    this.rev += 1;
    this.published = { rev: this.rev, state: structuredClone(this.state) };
    for (const listener of this.listeners) {
      try {
        listener(this.published);
      } catch (error) {
        this.log({ event: "listener_failed", error: describe(error) });
      }
    }
  }
}
