import { actionTag, parseAction, type AppAction, type DispatchReply } from "../../shared/actions.js";
import { toUserMessage, type CoreErrorCode } from "../../shared/errors.js";
import { CONTRACT_VERSION, type AppState, type StateSnapshot, type ToastKind } from "../../shared/state.js";
import { encodeNsec, generateKeys, parsePrivateKey, type LocalKeys } from "./keys.js";
import type { SecretStore } from "./secretStore.js";
import { EffectTokens, type EffectToken } from "./tokens.js";

export type { SecretStore } from "./secretStore.js";

export type LogLine = Record<string, unknown> & { event: string };
export type Logger = (line: LogLine) => void;

export interface AppCoreOptions {
  secretStore: SecretStore;
  dataDir: string;
  log?: Logger;
  /** Pushes are coalesced: at most one per this many milliseconds. */
  pushIntervalMs?: number;
}

type EffectKind = "session";

/** Results of async effects, reported back to the owner of the state. */
type InternalEvent =
  | { type: "SessionStored"; token: EffectToken<EffectKind>; keys: LocalKeys; created: boolean }
  | { type: "SessionStoreFailed"; token: EffectToken<EffectKind>; error: string };

const MAX_TOASTS = 5;

function initialState(store: SecretStore, networkEnabled: boolean): AppState {
  return {
    contract_version: CONTRACT_VERSION,
    auth: { status: "logged_out" },
    login_error: null,
    chats: [],
    invites: [],
    open_chat: null,
    key_package: { published: false, publishing: false },
    settings: { relays: [] },
    busy: { logging_in: false, creating_chat: false, starting_agent: false },
    agent_button: null,
    toasts: [],
    network: { enabled: networkEnabled, status: networkEnabled ? "offline" : "off", relays: [] },
    secret_storage: { kind: store.kind, notice: store.notice },
  };
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

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

  private constructor(options: AppCoreOptions) {
    this.store = options.secretStore;
    this.log = options.log ?? (() => undefined);
    this.pushIntervalMs = options.pushIntervalMs ?? 16;
    this.state = initialState(this.store, true);
    this.published = { rev: this.rev, state: structuredClone(this.state) };
  }

  /** Creates the core and restores the stored session, if any. */
  static async create(options: AppCoreOptions): Promise<AppCore> {
    const core = new AppCore(options);
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

  /** Entry point for untrusted input from a renderer: validates, then handles. Never throws. */
  async dispatch(raw: unknown): Promise<DispatchReply> {
    if (this.closed) return { ok: false, error: "Burrow is shutting down" };
    const parsed = parseAction(raw);
    if (!parsed.ok) {
      this.log({ event: "action_refused", reason: parsed.error });
      this.toast("error", toUserMessage("malformed_action", parsed.error));
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

  async close(): Promise<void> {
    this.closed = true;
    this.tokens.resetAll();
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
          s.network.status = action.enabled ? "offline" : "off";
        });
        return { ok: true };
      case "DismissToast":
        this.update((s) => {
          s.toasts = s.toasts.filter((toast) => toast.id !== action.id);
        });
        return { ok: true };
      default:
        return this.refuse("not_logged_in");
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
    const networkEnabled = this.state.network.enabled;
    this.update((s) => {
      Object.assign(s, initialState(this.store, networkEnabled));
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
  }

  private refuse(code: CoreErrorCode): DispatchReply {
    const message = toUserMessage(code);
    this.toast("error", message);
    return { ok: false, error: message };
  }

  private toast(kind: ToastKind, message: string): void {
    const id = this.nextToastId++;
    this.update((s) => {
      s.toasts = [...s.toasts, { id, kind, message }].slice(-MAX_TOASTS);
    });
  }

  /** The only way state changes. Marks it dirty and schedules one coalesced push. */
  private update(mutate: (state: AppState) => void): void {
    mutate(this.state);
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
