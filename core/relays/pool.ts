import { AbstractRelay, type Subscription } from "nostr-tools/abstract-relay";
import type { Event } from "nostr-tools/core";
import type { Filter } from "nostr-tools/filter";
import WebSocket from "ws";
import { normalizeRelayUrl, normalizeRelayUrls } from "../../shared/relayUrl.js";
import type { RelayStatus } from "../../shared/state.js";
import type { Logger } from "../base/log.js";

/**
 * ws emits "error" when a socket still connecting is closed, which nostr-tools does on a connect timeout after
 * dropping its own listener: an "error" nobody listens to would end the process. The timeout is reported anyway.
 */
class RelaySocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    this.on("error", () => undefined);
  }
}

export interface RelayPoolOptions {
  log?: Logger;
  /** Called whenever a relay's connection status changes. */
  onStatus?: (statuses: RelayStatus[]) => void;
  /** Reconnect backoff: first delay, doubled up to the max. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
  publishTimeoutMs?: number;
}

/** A subscription that outlives reconnects: its filters are computed again at every (re)subscribe. */
export interface PersistentSubscription {
  /** Called at every (re)subscribe on each relay. */
  filters(relayUrl: string): Filter[];
  onEvent(event: Event, relayUrl: string): void;
  onEose?(relayUrl: string): void;
}

export interface PublishOutcome {
  accepted: string[];
  failed: Array<{ url: string; reason: string }>;
}

/** One relay's connection, reconnected with backoff until the pool drops it. */
class RelayLink {
  status: RelayStatus["status"] = "disconnected";
  private relay: AbstractRelay | null = null;
  private connecting: Promise<AbstractRelay> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private readonly subs = new Map<string, Subscription>();
  private stopped = false;

  constructor(
    readonly url: string,
    private readonly pool: RelayPool,
    private readonly options: Required<Omit<RelayPoolOptions, "log" | "onStatus">>,
  ) {
    this.retryMs = options.reconnectInitialMs;
  }

  start(): void {
    this.stopped = false;
    void this.connect().catch(() => undefined);
  }

  /** The connected relay, waiting for a connection in progress; rejects when there is none. */
  async ready(): Promise<AbstractRelay> {
    if (this.relay?.connected) return this.relay;
    if (this.connecting) return this.connecting;
    throw new Error(`not connected to ${this.url}`);
  }

  private connect(): Promise<AbstractRelay> {
    if (this.connecting) return this.connecting;
    this.setStatus("connecting");
    const relay = new AbstractRelay(this.url, {
      // Signatures are checked by the receive pipeline, on a fresh copy, only for events it uses.
      verifyEvent: () => true,
      websocketImplementation: RelaySocket as unknown as typeof globalThis.WebSocket,
      enablePing: true,
      enableReconnect: false,
    });
    relay.publishTimeout = this.options.publishTimeoutMs;
    this.connecting = relay.connect({ timeout: this.options.connectTimeoutMs }).then(
      () => {
        this.connecting = null;
        if (this.stopped) {
          relay.close();
          throw new Error(`relay ${this.url} was removed`);
        }
        this.relay = relay;
        this.retryMs = this.options.reconnectInitialMs;
        relay.onclose = () => this.lost(relay);
        this.setStatus("connected");
        for (const key of this.pool.subscriptionKeys()) this.resubscribe(key);
        return relay;
      },
      (error: unknown) => {
        this.connecting = null;
        this.lost(relay);
        throw new Error(`could not connect to ${this.url}: ${String(error)}`);
      },
    );
    return this.connecting;
  }

  private lost(relay: AbstractRelay): void {
    if (this.relay === relay) this.relay = null;
    this.subs.clear();
    if (this.stopped) return;
    this.setStatus("disconnected");
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) void this.connect().catch(() => undefined);
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, this.options.reconnectMaxMs);
  }

  resubscribe(key: string): void {
    this.subs.get(key)?.close();
    this.subs.delete(key);
    const relay = this.relay;
    const sub = this.pool.subscriptionFor(key);
    if (!relay?.connected || !sub) return;
    const filters = sub.filters(this.url);
    if (filters.length === 0) return;
    this.subs.set(
      key,
      relay.subscribe(filters, {
        onevent: (event) => sub.onEvent(event, this.url),
        oneose: () => sub.onEose?.(this.url),
        eoseTimeout: 30_000,
      }),
    );
  }

  unsubscribe(key: string): void {
    this.subs.get(key)?.close();
    this.subs.delete(key);
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.subs.clear();
    const relay = this.relay;
    this.relay = null;
    if (relay) {
      relay.onclose = null;
      relay.close();
    }
    this.setStatus("disconnected");
  }

  private setStatus(status: RelayStatus["status"]): void {
    if (this.status === status) return;
    this.status = status;
    this.pool.statusChanged();
  }
}

/**
 * Connections to the user's relays: reconnect with backoff, persistent subscriptions re-issued
 * with fresh filters (so `since` follows the caller's cursor), publish with per-relay outcomes,
 * and one-shot queries that end at EOSE or a timeout.
 *
 * Every URL is taken in its normal form (shared/relayUrl.ts): `ws://h:1` and `ws://h:1/` are one
 * relay, one connection, one publish. `urls`, statuses and outcomes report normal forms.
 */
export interface QueryAnswers {
  /** Every distinct event any relay returned. */
  events: Event[];
  /** The relays (normal form) that answered with EOSE. */
  answered: string[];
  byRelay: Map<string, Event[]>;
}

export class RelayPool {
  private readonly links = new Map<string, RelayLink>();
  private readonly subscriptions = new Map<string, PersistentSubscription>();
  private enabled = true;
  private readonly settings: Required<Omit<RelayPoolOptions, "log" | "onStatus">>;

  constructor(private readonly options: RelayPoolOptions = {}) {
    this.settings = {
      reconnectInitialMs: options.reconnectInitialMs ?? 500,
      reconnectMaxMs: options.reconnectMaxMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      publishTimeoutMs: options.publishTimeoutMs ?? 8_000,
    };
  }

  get urls(): string[] {
    return [...this.links.keys()];
  }

  statuses(): RelayStatus[] {
    return [...this.links.values()].map((link) => ({ url: link.url, status: link.status }));
  }

  /** Invalid URLs are ignored (callers validate them first). */
  setRelays(urls: string[]): void {
    const wanted = new Set(normalizeRelayUrls(urls));
    for (const [url, link] of this.links) {
      if (!wanted.has(url)) {
        link.stop();
        this.links.delete(url);
      }
    }
    for (const url of wanted) {
      if (this.links.has(url)) continue;
      const link = new RelayLink(url, this, this.settings);
      this.links.set(url, link);
      if (this.enabled) link.start();
    }
    this.statusChanged();
  }

  setEnabled(enabled: boolean): void {
    if (this.enabled === enabled) return;
    this.enabled = enabled;
    for (const link of this.links.values()) {
      if (enabled) link.start();
      else link.stop();
    }
  }

  subscribe(key: string, subscription: PersistentSubscription): void {
    this.subscriptions.set(key, subscription);
    for (const link of this.links.values()) link.resubscribe(key);
  }

  /** Re-issues a subscription's filters on every connected relay (e.g. after its set of groups changed). */
  refresh(key: string): void {
    for (const link of this.links.values()) link.resubscribe(key);
  }

  unsubscribe(key: string): void {
    this.subscriptions.delete(key);
    for (const link of this.links.values()) link.unsubscribe(key);
  }

  /**
   * A connected relay for one operation: the pool's own link, or a temporary connection to a relay
   * outside the pool (someone else's inbox or key-package relays), closed by `release`.
   */
  private async borrow(url: string): Promise<{ relay: AbstractRelay; release(): void }> {
    const link = this.links.get(url);
    if (link) return { relay: await link.ready(), release: () => undefined };
    const relay = new AbstractRelay(url, {
      verifyEvent: () => true,
      websocketImplementation: RelaySocket as unknown as typeof globalThis.WebSocket,
    });
    relay.publishTimeout = this.settings.publishTimeoutMs;
    await relay.connect({ timeout: this.settings.connectTimeoutMs });
    return { relay, release: () => relay.close() };
  }

  /** Publishes to the given relays (default: all of the pool's), waiting for each relay's OK. */
  async publish(event: Event, urls: string[] = this.urls): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { accepted: [], failed: [] };
    const targets = normalizeRelayUrls(urls);
    for (const url of urls) if (normalizeRelayUrl(url) === null) outcome.failed.push({ url, reason: "not a valid relay URL" });
    if (!this.enabled) {
      outcome.failed.push(...targets.map((url) => ({ url, reason: "network is off" })));
      return outcome;
    }
    await Promise.all(
      targets.map(async (url) => {
        try {
          const { relay, release } = await this.borrow(url);
          try {
            await relay.publish(event);
          } finally {
            release();
          }
          outcome.accepted.push(url);
        } catch (error) {
          outcome.failed.push({ url, reason: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
    this.options.log?.({ event: "relay_publish", kind: event.kind, accepted: outcome.accepted.length, failed: outcome.failed.length });
    return outcome;
  }

  /** Collects matching events from every connected relay until each sent EOSE, or the timeout. */
  async query(filters: Filter[], timeoutMs: number, urls: string[] = this.urls): Promise<Event[]> {
    return (await this.queryEach(filters, timeoutMs, urls)).events;
  }

  /**
   * The same query, reporting per relay: `answered` lists the relays that sent EOSE (an empty answer
   * counts), `byRelay` what each of them returned. A relay that could not be reached, closed the
   * subscription or timed out did not answer.
   */
  async queryEach(filters: Filter[], timeoutMs: number, urls: string[] = this.urls): Promise<QueryAnswers> {
    const found = new Map<string, Event>();
    const answers: QueryAnswers = { events: [], answered: [], byRelay: new Map() };
    if (!this.enabled) return answers;
    await Promise.all(
      normalizeRelayUrls(urls).map(async (url) => {
        let borrowed: { relay: AbstractRelay; release(): void };
        try {
          borrowed = await this.borrow(url);
        } catch {
          return;
        }
        const { relay, release } = borrowed;
        const mine: Event[] = [];
        const answered = await new Promise<boolean>((resolve) => {
          let sub: Subscription | undefined;
          const timer = setTimeout(() => {
            sub?.close();
            resolve(false);
          }, timeoutMs);
          if (!relay.connected) {
            clearTimeout(timer);
            resolve(false);
            return;
          }
          try {
            sub = relay.subscribe(filters, {
              onevent: (event) => {
                found.set(event.id, event);
                mine.push(event);
              },
              oneose: () => {
                clearTimeout(timer);
                resolve(true);
                sub?.close();
              },
              onclose: () => {
                clearTimeout(timer);
                resolve(false);
              },
              eoseTimeout: timeoutMs,
            });
          } catch {
            // The connection closed under us: this relay did not answer.
            clearTimeout(timer);
            resolve(false);
          }
        }).finally(release);
        if (answered) {
          answers.answered.push(url);
          answers.byRelay.set(url, mine);
        }
      }),
    );
    answers.events = [...found.values()];
    return answers;
  }

  close(): void {
    this.subscriptions.clear();
    for (const link of this.links.values()) link.stop();
    this.links.clear();
  }

  /** @internal for RelayLink */
  subscriptionKeys(): string[] {
    return [...this.subscriptions.keys()];
  }

  /** @internal for RelayLink */
  subscriptionFor(key: string): PersistentSubscription | undefined {
    return this.subscriptions.get(key);
  }

  /** @internal for RelayLink */
  statusChanged(): void {
    this.options.onStatus?.(this.statuses());
  }
}
