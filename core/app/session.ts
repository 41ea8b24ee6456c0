// The session: who is signed in. Login stores the key first and opens the account only once it is
// safely stored; logout closes the account, and every token and pending result with it.
import { hexToBytes } from "@noble/hashes/utils.js";
import type { DispatchReply } from "../../shared/actions.js";
import { toUserMessage } from "../../shared/errors.js";
import type { AppState, ToastKind } from "../../shared/state.js";
import type { Clock } from "../base/clock.js";
import type { CoreTimings } from "../base/config.js";
import type { CoreEvent } from "../base/events.js";
import { encodeNsec, generateKeys, parsePrivateKey, type LocalKeys } from "../base/keys.js";
import type { Logger } from "../base/log.js";
import type { SecretStore } from "../base/secretStore.js";
import { EffectTokens } from "../base/tokens.js";
import { describeError } from "../marmot/errors.js";
import { RelayPool } from "../relays/pool.js";
import { initialState, networkStatus } from "../state/appState.js";
import { Runner, type EffectKind } from "../state/runner.js";
import { AccountStore } from "../storage/accountStore.js";
import { Account } from "./account.js";

/** What the session needs from the core that owns the state. */
export interface SessionOwner {
  secretStore: SecretStore;
  dataDir: string;
  defaultRelays: string[];
  agentApiUrl: string;
  timings: CoreTimings;
  clock: Clock;
  log: Logger;
  state(): Readonly<AppState>;
  update(mutate: (state: AppState) => void): void;
  toast(kind: ToastKind, message: string): void;
  emit(event: CoreEvent): void;
  closed(): boolean;
}

export class Session {
  private readonly tokens = new EffectTokens<EffectKind>();
  private readonly runner: Runner;
  private keys: LocalKeys | null = null;
  private current: Account | null = null;

  constructor(private readonly owner: SessionOwner) {
    this.runner = new Runner(this.tokens, owner.log, () => !owner.closed());
  }

  /** The signed-in account, if its store opened. */
  account(): Account | null {
    return this.current;
  }

  createAccount(): DispatchReply {
    return this.start(generateKeys(), true);
  }

  login(nsec: string): DispatchReply {
    const keys = parsePrivateKey(nsec);
    if (!keys) {
      this.owner.update((s) => {
        s.login_error = toUserMessage("invalid_private_key");
      });
      return { ok: false, error: toUserMessage("invalid_private_key") };
    }
    return this.start(keys, false);
  }

  exportSecretKey(): DispatchReply {
    if (!this.keys) return this.refuse();
    this.owner.log({ event: "secret_key_exported" });
    return { ok: true, nsec: encodeNsec(this.keys.secretHex) };
  }

  setNetworkEnabled(enabled: boolean): DispatchReply {
    this.owner.update((s) => {
      s.network.enabled = enabled;
      s.network.status = networkStatus(enabled, s.network.relays);
    });
    this.current?.network.setEnabled(enabled);
    return { ok: true };
  }

  logout(): DispatchReply {
    this.end();
    const networkEnabled = this.owner.state().network.enabled;
    this.owner.update((s) => {
      Object.assign(s, initialState(this.owner.secretStore, networkEnabled, this.owner.agentApiUrl));
    });
    this.owner.secretStore.clear().catch((error: unknown) => {
      this.owner.toast("error", toUserMessage("secret_storage_failed", describeError(error)));
    });
    this.owner.log({ event: "logged_out" });
    return { ok: true };
  }

  /** The stored session, if any, comes back at start. */
  async restore(): Promise<void> {
    let secretHex: string | null;
    try {
      secretHex = await this.owner.secretStore.load();
    } catch (error) {
      this.owner.toast("error", toUserMessage("stored_key_unreadable", describeError(error)));
      return;
    }
    if (!secretHex) return;
    const keys = parsePrivateKey(secretHex);
    if (!keys) {
      this.owner.toast("error", toUserMessage("stored_key_invalid"));
      return;
    }
    this.signedIn(keys);
    this.owner.log({ event: "session_restored", npub: keys.npub });
    this.open(keys, false);
  }

  /** The core shuts down: nothing late changes anything. */
  close(): void {
    this.end();
  }

  refuse(): DispatchReply {
    const message = toUserMessage("not_logged_in");
    this.owner.toast("error", message);
    return { ok: false, error: message };
  }

  /** Stores the key first; the session starts only once the key is safely stored. */
  private start(keys: LocalKeys, created: boolean): DispatchReply {
    if (this.keys) this.logout();
    this.owner.update((s) => {
      s.busy.logging_in = true;
      s.login_error = null;
    });
    this.runner.run("session", () => this.owner.secretStore.save(keys.secretHex), {
      apply: () => {
        this.signedIn(keys);
        this.owner.update((s) => {
          s.busy.logging_in = false;
          s.login_error = null;
        });
        this.owner.log({ event: created ? "account_created" : "logged_in", npub: keys.npub });
        this.open(keys, created);
      },
      fail: (error) => {
        this.owner.update((s) => {
          s.busy.logging_in = false;
        });
        this.owner.toast("error", toUserMessage("secret_storage_failed", describeError(error)));
      },
    });
    return { ok: true };
  }

  private signedIn(keys: LocalKeys): void {
    this.keys = keys;
    this.owner.update((s) => {
      s.auth = { status: "logged_in", npub: keys.npub, pubkey: keys.pubkey, signer: "local" };
    });
  }

  private end(): void {
    this.tokens.resetAll();
    this.keys = null;
    this.current?.close();
    this.current = null;
  }

  /** Opens the account's store and relays; its chats and KeyPackages start from there. */
  private open(keys: LocalKeys, created: boolean): void {
    const { owner } = this;
    let store: AccountStore;
    try {
      store = AccountStore.open(owner.dataDir, keys.pubkey);
    } catch (error) {
      owner.log({ event: "account_store_failed", error: describeError(error) });
      owner.toast("error", toUserMessage("account_store_failed", describeError(error)));
      return;
    }
    let account: Account | null = null;
    const pool = new RelayPool({
      log: owner.log,
      connectTimeoutMs: owner.timings.connectTimeoutMs,
      publishTimeoutMs: owner.timings.publishTimeoutMs,
      reconnectInitialMs: owner.timings.reconnectInitialMs,
      reconnectMaxMs: owner.timings.reconnectMaxMs,
      onStatus: (relays) => {
        if (!account || this.current !== account) return;
        const wasOnline = owner.state().network.status === "online";
        owner.update((s) => {
          s.network.relays = relays;
          s.network.status = networkStatus(s.network.enabled, relays);
        });
        if (!wasOnline && owner.state().network.status === "online") account.network.back();
      },
    });
    pool.setEnabled(owner.state().network.enabled);
    account = new Account({
      keys: { pubkey: keys.pubkey, npub: keys.npub, secret: hexToBytes(keys.secretHex) },
      store,
      pool,
      timings: owner.timings,
      clock: owner.clock,
      tokens: this.tokens,
      log: owner.log,
      state: () => owner.state(),
      update: (mutate) => owner.update(mutate),
      toast: (kind, message) => owner.toast(kind, message),
      emit: (event) => owner.emit(event),
      live: () => this.current === account && !owner.closed(),
    });
    this.current = account;
    if (created) account.offerKeyBackup();
    account.start(owner.defaultRelays, owner.agentApiUrl);
  }
}
