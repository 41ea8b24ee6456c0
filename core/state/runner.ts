// Async work and its results: every effect runs under a token, and its result is applied only while
// that token is the newest of its kind and its session is still live. This is the only place where
// staleness is decided (ARCHITECTURE.md, core model).
import type { Logger } from "../base/log.js";
import { describeError } from "../marmot/errors.js";
import type { EffectToken, EffectTokens } from "../base/tokens.js";

export type EffectKind = "session" | "key_package_publish" | "create_chat" | "agent_probe" | "agent_flow" | "group_update" | "profile_publish" | "picture_fetch";

/** Thrown by `Step.check()` inside work whose token went stale: the work stops, nothing is applied. */
export class Stale extends Error {
  constructor() {
    super("stale");
    this.name = "Stale";
  }
}

/** What running work sees of its own token. */
export interface Step {
  readonly token: EffectToken<EffectKind>;
  /** false once a newer effect of this kind started or the session ended. */
  current(): boolean;
  /** Throws `Stale` unless current: for work that must stop midway. */
  check(): void;
}

export interface Handlers<T> {
  /** The result, applied only while current. */
  apply(result: T): void;
  /** The failure, handled only while current (a `Stale` is never reported). */
  fail?(error: unknown): void;
}

export class Runner {
  constructor(
    private readonly tokens: EffectTokens<EffectKind>,
    private readonly log: Logger,
    private readonly live: () => boolean,
  ) {}

  /** Starts `work` under a fresh token of `kind` (older ones of that kind become stale). */
  run<T>(kind: EffectKind, work: (step: Step) => Promise<T>, handlers: Handlers<T>): EffectToken<EffectKind> {
    const token = this.tokens.issue(kind);
    const current = (): boolean => this.live() && this.tokens.isCurrent(token);
    const step: Step = {
      token,
      current,
      check: () => {
        if (!current()) throw new Stale();
      },
    };
    let running: Promise<T>;
    try {
      running = work(step);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (result) => {
        if (!current()) return this.dropped(kind);
        handlers.apply(result);
      },
      (error: unknown) => {
        if (error instanceof Stale || !current()) return this.dropped(kind);
        if (handlers.fail) handlers.fail(error);
        else this.log({ event: "effect_failed", kind, error: describeError(error) });
      },
    );
    return token;
  }

  /** Every outstanding effect of `kind` becomes stale. */
  invalidate(kind: EffectKind): void {
    this.tokens.invalidate(kind);
  }

  private dropped(kind: EffectKind): void {
    this.log({ event: "stale_result_dropped", type: kind });
  }
}
