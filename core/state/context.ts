// What an account's parts get from the core: its keys, store and relays, the one owner of the state
// (`update`), the runner for async work, and timers that stop with the account.
import type { AppState, ToastKind } from "../../shared/state.js";
import { unixSeconds, type Clock } from "../base/clock.js";
import type { CoreTimings } from "../base/config.js";
import type { CoreEvent } from "../base/events.js";
import type { Logger } from "../base/log.js";
import type { EffectTokens } from "../base/tokens.js";
import type { RelayPool } from "../relays/pool.js";
import type { AccountStore } from "../storage/accountStore.js";
import { Runner, type EffectKind, type Handlers, type Step } from "./runner.js";

export type { EffectKind, Handlers, Step } from "./runner.js";

export interface AccountKeys {
  pubkey: string;
  npub: string;
  secret: Uint8Array;
}

/** What the core hands an account when it opens it. */
export interface AccountBase {
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
  /** False once the session that owns this account ended. */
  live(): boolean;
}

export class AccountContext {
  readonly keys: AccountKeys;
  readonly store: AccountStore;
  readonly pool: RelayPool;
  readonly timings: CoreTimings;
  readonly clock: Clock;
  readonly log: Logger;
  private readonly runner: Runner;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly base: AccountBase) {
    ({ keys: this.keys, store: this.store, pool: this.pool, timings: this.timings, clock: this.clock, log: this.log } = base);
    this.runner = new Runner(base.tokens, base.log, () => this.live());
  }

  state(): Readonly<AppState> {
    return this.base.state();
  }

  update(mutate: (state: AppState) => void): void {
    this.base.update(mutate);
  }

  toast(kind: ToastKind, message: string): void {
    this.base.toast(kind, message);
  }

  emit(event: CoreEvent): void {
    this.base.emit(event);
  }

  /** False once the account closed or its session ended: late work must change nothing. */
  live(): boolean {
    return !this.closed && this.base.live();
  }

  /** Runs async work under a token of `kind`; see Runner. */
  run<T>(kind: EffectKind, work: (step: Step) => Promise<T>, handlers: Handlers<T>): void {
    this.runner.run(kind, work, handlers);
  }

  invalidate(kind: EffectKind): void {
    this.runner.invalidate(kind);
  }

  /**
   * Calls `job` after `ms` while the account is live; nothing runs after close. A `background` timer
   * (a log report) never keeps the process alive.
   */
  later(ms: number, job: () => void, options: { background?: boolean } = {}): { cancel(): void } {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.live()) job();
    }, ms);
    if (options.background) timer.unref();
    this.timers.add(timer);
    return {
      cancel: () => {
        clearTimeout(timer);
        this.timers.delete(timer);
      },
    };
  }

  /** Unix seconds on this core's clock. */
  now(): number {
    return unixSeconds(this.clock);
  }

  /** Where a received item sorts (chat list, messages, invites): its sender's time, but never later than now. */
  receivedAt(createdAt: number): number {
    return Math.min(createdAt, this.now());
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
