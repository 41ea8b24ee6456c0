import type { AppState, ToastKind } from "../../shared/state.js";
import type { Logger } from "../base/log.js";
import type { Clock } from "../base/clock.js";
import type { CoreTimings } from "../base/config.js";
import type { CoreEvent } from "../base/events.js";
import type { RelayPool } from "../relays/pool.js";
import type { AccountStore } from "../storage/accountStore.js";
import type { EffectTokens } from "../base/tokens.js";

export type EffectKind = "session" | "key_package_publish" | "create_chat" | "agent_probe" | "agent_flow" | "group_update";

export interface AccountKeys {
  pubkey: string;
  npub: string;
  secret: Uint8Array;
}

/** What an account's feature modules get from the core: state goes through `update`, the one owner. */
export interface AccountContext {
  keys: AccountKeys;
  store: AccountStore;
  pool: RelayPool;
  timings: CoreTimings;
  clock: Clock;
  tokens: EffectTokens<EffectKind>;
  log: Logger;
  state(): Readonly<AppState>;
  update(mutate: (state: AppState) => void): void;
  toast(kind: ToastKind, message: string): void;
  /** Tells the core's event listeners (headless clients) what arrived. */
  emit(event: CoreEvent): void;
  /** False once the session that owns this account ended: late work must change nothing. */
  live(): boolean;
}
