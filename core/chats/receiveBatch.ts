// The receive batch: every event relays send goes through here. Events are collected (a catch-up
// until each relay's EOSE, paging back when a page was full), then applied in created_at order in
// chunks; what a chunk writes is gathered as data in its Batch and stored in one transaction, and
// only then are listeners told. Signatures are checked in the crypto pool's workers a few slices
// ahead of where MLS (ordered, on this thread) is applying.
import { createHash } from "node:crypto";
import type { Event } from "nostr-tools/core";
import type { Filter } from "nostr-tools/filter";
import type { CoreEvent } from "../base/events.js";
import { copyEvent, serializeGroupState, sharedCryptoPool, type CryptoPool } from "../marmot/index.js";
import { MarmotError, describeError } from "../marmot/errors.js";
import type { AccountContext } from "../state/context.js";
import type { ChatRegistry } from "./registry.js";

/** The in-memory "already received" filter is only a shortcut (the store knows what was processed): bounded. */
const MAX_SEEN = 200_000;
/**
 * Copies of one id that differ (a forged signature or content under a real event's id) are each read,
 * up to this many: a relay that sends a broken copy first cannot hide the real event from another relay.
 */
const MAX_COPIES_PER_ID = 4;

/** What tells two copies of one id apart: everything but the id, hashed. */
function fingerprint(event: Event): string {
  return createHash("sha256").update(JSON.stringify([event.pubkey, event.created_at, event.kind, event.tags, event.content, event.sig])).digest("base64");
}
// One transaction per this many events (a catch-up is applied and stored together, so it is ordered together).
const INBOX_BATCH = 5_000;
/** Events per page of a catch-up query; relays cap pages, so a full page means there are older ones. */
const CATCH_UP_PAGE = 500;
const MAX_CATCH_UP_PAGE = 8_000;
const MAX_CATCH_UP_PAGES = 200;
/** A backlog at least this long shows "Syncing done/total", updated at most this often. */
const SYNC_PROGRESS_FROM = 50;
const SYNC_PROGRESS_EVERY_MS = 250;
/** Events per signature check in the crypto pool, and how many such slices are checked ahead of the one applied. */
const CHECK_SLICE = 250;
const CHECKS_AHEAD = 2;

type Order = [number, number, number];

/** What applying one chunk of events writes: gathered here, stored together. */
export class Batch {
  readonly writes: Array<() => void> = [];
  readonly inserts: Array<{ order: Order; write: () => void }> = [];
  readonly dirtyStates = new Set<string>();
  readonly cursors = new Map<string, number>();
  readonly announced: CoreEvent[] = [];

  constructor(private readonly ctx: AccountContext) {}

  /** Stored in the batch's transaction, in the order written. */
  write(write: () => void): void {
    this.writes.push(write);
  }

  /** Stored after the writes, by (second, epoch, message number): a backlog shuffled within a second is stored in the order it was written. */
  insert(order: Order, write: () => void): void {
    this.inserts.push({ order, write });
  }

  /** The group's state is serialized and stored once per batch, not once per message. */
  dirty(groupId: string): void {
    this.dirtyStates.add(groupId);
  }

  /** A subscription cursor moves with the batch; the sender chose created_at, so never past our clock plus a small skew. */
  cursor(key: string, createdAt: number): void {
    const at = Math.min(createdAt, this.ctx.now() + this.ctx.timings.futureSkewSec);
    this.cursors.set(key, Math.max(at, this.cursors.get(key) ?? 0));
  }

  /** Told to listeners once the batch is stored: a listener never sees something a crash could lose. */
  announce(event: CoreEvent): void {
    this.announced.push(event);
  }

  /** Marks the event processed (in the batch's transaction). */
  processed(event: Pick<Event, "id" | "kind">): void {
    this.write(() => this.ctx.store.markProcessed(event.id, event.kind, this.ctx.now()));
  }
}

/**
 * `since` for a stored cursor, the same on every (re)subscription: the margin before it, and never
 * later than our clock allows (a cursor stored by an older version may lie in the future).
 */
export function resumeFrom(ctx: AccountContext, cursor: number): number {
  return Math.max(0, Math.min(cursor, ctx.now() + ctx.timings.futureSkewSec) - ctx.timings.resumeMarginSec);
}

export type EventHandler = (event: Event, batch: Batch) => Promise<void>;

export interface ReceiveHooks {
  /** By event kind. */
  handlers: Record<number, EventHandler>;
  /** Lowest cursors that must hold (input still waiting for its commit), written with each batch. */
  cursorFloors(): Array<[key: string, floor: number]>;
  /** After each stored batch, with what it announced. */
  stored(announced: CoreEvent[]): void;
  /** After the inbox ran empty. */
  drained(): void;
  /** An event its handler threw on (logged already; it is never read again). */
  rejected(event: Event): void;
}

/**
 * The signatures of a drain's events, checked in the crypto pool slice by slice ahead of where the
 * drain applies: what a handler gets is a copy the pool found good (not checked again), null for a
 * bad signature, or, where nothing was checked (no handler, or processed before), a plain copy.
 */
class SignatureChecks {
  private readonly slices = new Map<number, Promise<Array<Event | null>>>();

  constructor(
    private readonly events: readonly Event[],
    private readonly wanted: (event: Event) => boolean,
    private readonly pool: CryptoPool,
  ) {}

  /** Indexes are asked for in order: a slice behind the one asked for is done with. */
  async get(index: number): Promise<Event | null> {
    const slice = Math.floor(index / CHECK_SLICE);
    this.slices.delete(slice - 1);
    for (let ahead = slice; ahead <= slice + CHECKS_AHEAD; ahead++) this.start(ahead);
    return (await this.slices.get(slice)!)[index % CHECK_SLICE]!;
  }

  private start(slice: number): void {
    if (this.slices.has(slice) || slice * CHECK_SLICE >= this.events.length) return;
    const events = this.events.slice(slice * CHECK_SLICE, (slice + 1) * CHECK_SLICE);
    const wanted = events.map(this.wanted);
    const checking = this.pool.checkSignatures(events.filter((_, i) => wanted[i]));
    this.slices.set(
      slice,
      checking.then((checked) => {
        let next = 0;
        return events.map((event, i) => (wanted[i] ? checked[next++]! : copyEvent(event)));
      }),
    );
  }
}

export class Receiver {
  private inbox: Event[] = [];
  private draining = false;
  /** Event id → fingerprints of the copies read. */
  private readonly seen = new Map<string, string[]>();
  /** Subscriptions (per relay) whose stored events are still coming: the inbox waits for them. */
  private readonly catchingUp = new Map<string, { count: number; oldest: number; filters: Filter[] }>();
  private catchUpTimer: { cancel(): void } | undefined;
  private hooks: ReceiveHooks | null = null;

  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
  ) {}

  connect(hooks: ReceiveHooks): void {
    this.hooks = hooks;
  }

  /** Follows `key` on every relay: `filters` on each (re)subscription, its events into the inbox. */
  follow(key: string, filters: () => Filter[], onEose?: (relay: string) => void): void {
    this.ctx.pool.subscribe(key, {
      filters: (relay) => this.catchUpFrom(key, relay, filters()),
      onEvent: (event, relay) => this.receive(event, `${key}|${relay}`),
      onEose: (relay) => {
        void this.caughtUp(key, relay);
        onEose?.(relay);
      },
    });
  }

  /** An event from a relay, or (`from` null) one fetched again. */
  receive(event: Event, from: string | null): void {
    if (!this.ctx.live()) return;
    const page = from ? this.catchingUp.get(from) : undefined;
    if (page) {
      page.count += 1;
      page.oldest = Math.min(page.oldest, event.created_at);
    }
    if (this.firstSight(event)) this.enqueue(event);
  }

  private enqueue(event: Event): void {
    this.inbox.push(event);
    if (this.catchingUp.size === 0) this.scheduleDrain();
  }

  /** Notes the copy as seen; false when this very copy was read already (or too many copies of its id were). */
  private firstSight(event: Event): boolean {
    const copy = fingerprint(event);
    const copies = this.seen.get(event.id);
    if (copies) {
      if (copies.includes(copy) || copies.length >= MAX_COPIES_PER_ID) return false;
      copies.push(copy);
      return true;
    }
    if (this.seen.size >= MAX_SEEN) this.seen.clear();
    this.seen.set(event.id, [copy]);
    return true;
  }

  /** Not "seen" any more: the next time a relay sends it, it is read again. */
  forget(eventId: string): void {
    this.seen.delete(eventId);
  }

  /** No catch-up is collecting: a fetch-again has been applied. */
  idle(): boolean {
    return this.catchingUp.size === 0;
  }

  /**
   * A (re)subscription starts a catch-up: stored events are collected until the relay's EOSE (and
   * older pages fetched when a page was full), then applied together in created_at order.
   */
  private catchUpFrom(key: string, relay: string, filters: Filter[]): Filter[] {
    const id = `${key}|${relay}`;
    if (filters.length === 0) {
      this.catchingUp.delete(id);
      return filters;
    }
    this.catchingUp.set(id, { count: 0, oldest: Number.MAX_SAFE_INTEGER, filters });
    this.catchUpTimer?.cancel();
    // A relay that never sends EOSE must not hold the inbox back for long.
    this.catchUpTimer = this.ctx.later(this.ctx.timings.relayQueryMs * 5, () => {
      this.catchingUp.clear();
      this.scheduleDrain();
    });
    return filters.map((filter) => ({ ...filter, limit: CATCH_UP_PAGE }));
  }

  private async caughtUp(key: string, relay: string): Promise<void> {
    const id = `${key}|${relay}`;
    const first = this.catchingUp.get(id);
    let backfilled = 0;
    if (first && first.count >= CATCH_UP_PAGE) {
      // A full page: older events may be missing. Page back by `until`; when a page brings nothing new
      // (many events in the same seconds), ask for bigger pages, up to the most relays serve.
      let until = first.oldest;
      let limit = CATCH_UP_PAGE;
      for (let pages = 0; this.ctx.live() && pages < MAX_CATCH_UP_PAGES; pages++) {
        const older = await this.ctx.pool.query(first.filters.map((f) => ({ ...f, until, limit })), this.ctx.timings.relayQueryMs, [relay]);
        const fresh = older.filter((e) => this.firstSight(e));
        for (const event of fresh) if (this.ctx.live()) this.enqueue(event);
        backfilled += fresh.length;
        if (older.length < limit) break;
        const oldest = Math.min(...older.map((e) => e.created_at));
        if (fresh.length > 0) until = oldest;
        else if (limit < MAX_CATCH_UP_PAGE) limit *= 2;
        // Nothing new even in the biggest page the relay serves: what else is in this second is out
        // of reach through this relay; go on with the seconds before it.
        else until = oldest - 1;
      }
    }
    this.ctx.log({ event: "caught_up", subscription: id, received: first?.count ?? 0, backfilled });
    this.catchingUp.delete(id);
    if (this.catchingUp.size === 0) {
      this.catchUpTimer?.cancel();
      this.scheduleDrain();
    }
  }

  private scheduleDrain(): void {
    if (this.draining || this.inbox.length === 0) return;
    this.draining = true;
    setImmediate(() => void this.drain());
  }

  /** Applies received events in created_at order, each chunk stored in one transaction; progress shown for a backlog. */
  private async drain(): Promise<void> {
    const hooks = this.hooks;
    if (!hooks) throw new Error("the receive batch is not connected");
    let done = 0;
    let lastProgress = 0;
    try {
      while (this.inbox.length > 0 && this.ctx.live()) {
        // Stable: events of the same second keep their arrival order (a sender's messages arrive in the order sent).
        const pending = this.inbox.splice(0).sort((a, b) => a.created_at - b.created_at);
        // What was processed before (a catch-up's margin sends it again) is skipped below: not checked either.
        const checks = new SignatureChecks(pending, (event) => event.kind in hooks.handlers && !this.ctx.store.isProcessed(event.id), sharedCryptoPool());
        for (let start = 0; start < pending.length && this.ctx.live(); start += INBOX_BATCH) {
          const end = Math.min(start + INBOX_BATCH, pending.length);
          const batch = new Batch(this.ctx);
          await this.registry.mls.run(async () => {
            for (let index = start; index < end; index++) {
              if (!this.ctx.live()) return;
              done += 1;
              const total = done + (pending.length - index - 1) + this.inbox.length;
              if (total >= SYNC_PROGRESS_FROM && Date.now() - lastProgress >= SYNC_PROGRESS_EVERY_MS) {
                lastProgress = Date.now();
                this.ctx.update((s) => {
                  s.sync = { done, total };
                });
                // Crypto here rarely waits on I/O: give the event loop a turn so the progress is pushed.
                await new Promise((resolve) => setImmediate(resolve));
                if (!this.ctx.live()) return;
              }
              const checked = await checks.get(index);
              if (!this.ctx.live()) return;
              const event = pending[index]!;
              if (this.ctx.store.isProcessed(event.id)) continue;
              // Not marked processed: the id may be a real event's, whose genuine copy must still be read.
              if (checked === null) this.refuse(hooks, event, new MarmotError("bad_signature", "Event signature is invalid"));
              else await this.apply(hooks, checked, batch);
            }
          });
          if (!this.ctx.live()) return;
          this.store(hooks, batch);
          hooks.stored(batch.announced);
        }
      }
    } finally {
      this.draining = false;
      if (this.ctx.state().sync) {
        this.ctx.update((s) => {
          s.sync = null;
        });
      }
      if (this.ctx.live()) hooks.drained();
    }
  }

  /** One event through its kind's handler; one that throws is logged, reported, and never read again. */
  private async apply(hooks: ReceiveHooks, event: Event, batch: Batch): Promise<void> {
    const handler = hooks.handlers[event.kind];
    if (!handler) return;
    try {
      await handler(event, batch);
    } catch (error) {
      this.reject(hooks, event, error, batch);
    }
  }

  private reject(hooks: ReceiveHooks, event: Event, error: unknown, batch: Batch): void {
    this.refuse(hooks, event, error);
    batch.processed(event);
  }

  private refuse(hooks: ReceiveHooks, event: Event, error: unknown): void {
    this.ctx.log({ event: "event_rejected", kind: event.kind, id: event.id.slice(0, 12), error: describeError(error) });
    hooks.rejected(event);
  }

  private store(hooks: ReceiveHooks, batch: Batch): void {
    const inserts = batch.inserts.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1] || a.order[2] - b.order[2]);
    const states = [...batch.dirtyStates].flatMap((id) => {
      const group = this.registry.get(id);
      return group ? [{ id, bytes: serializeGroupState(group.state), epoch: Number(group.state.groupContext.epoch) }] : [];
    });
    const store = this.ctx.store;
    store.transaction(() => {
      for (const write of batch.writes) write();
      for (const insert of inserts) insert.write();
      for (const state of states) store.updateGroupState(state.id, state.bytes, state.epoch);
      for (const [key, createdAt] of batch.cursors) {
        if (createdAt > (store.getMeta<number>(key) ?? 0)) store.setMeta(key, createdAt);
      }
      // A cursor never passes input still waiting for its commit, so a restart fetches it again.
      for (const [key, floor] of hooks.cursorFloors()) {
        if (floor < (store.getMeta<number>(key) ?? 0)) store.setMeta(key, floor);
      }
    });
  }
}
