/**
 * Tokens for async effects. Every effect is issued a token for its kind; its result is applied only
 * while that token is still the newest of its kind and the session that started it is still the
 * current one. Logout and login reset everything, so late results of an old session change nothing.
 */
export interface EffectToken<K extends string = string> {
  readonly kind: K;
  readonly seq: number;
  readonly session: number;
}

export class EffectTokens<K extends string = string> {
  private session = 0;
  private seq = 0;
  private readonly newest = new Map<K, number>();

  issue(kind: K): EffectToken<K> {
    const token = { kind, seq: ++this.seq, session: this.session };
    this.newest.set(kind, token.seq);
    return token;
  }

  isCurrent(token: EffectToken<K>): boolean {
    return token.session === this.session && this.newest.get(token.kind) === token.seq;
  }

  /** Makes every outstanding token of this kind stale. */
  invalidate(kind: K): void {
    this.newest.delete(kind);
  }

  /** A new session: every outstanding token of every kind becomes stale. */
  resetAll(): void {
    this.session += 1;
    this.newest.clear();
  }
}
