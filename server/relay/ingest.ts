// Batched ingest of the relay's EVENT messages: signatures checked in worker threads, one SQLite
// transaction per batch, OK sent only after the commit, then live delivery in publication order.
import { EventKind, EventType, EventUtils, getTimestampInSeconds } from "@nostr-relay/common";
import type { Event } from "@nostr-relay/common";
import { extractSearchableContent } from "@nostr-relay/event-repository-sqlite/dist/search.js";
import type { Database, Statement } from "better-sqlite3";
import type { CryptoPool } from "../../core/marmot/index.js";

export interface IngestLimits {
  /** Events of one connection waiting for their OK. */
  perConnectionEvents: number;
  /** Frame bytes of one connection waiting for their OK. */
  perConnectionBytes: number;
  /** Events of all connections waiting for their OK. */
  totalEvents: number;
  totalBytes: number;
  /** Largest batch verified and committed together. */
  batchEvents: number;
}

// A 150-member group's Welcomes, each up to the 256 KiB frame limit, come from one connection at once.
export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  perConnectionEvents: 4096,
  perConnectionBytes: 64 * 1024 * 1024,
  totalEvents: 16_384,
  totalBytes: 256 * 1024 * 1024,
  batchEvents: 1024,
};

export const CONNECTION_BUSY_REFUSAL = "rate-limited: too many events of this connection are waiting for their OK";
export const RELAY_BUSY_REFUSAL = "rate-limited: the relay has too many events waiting; send again shortly";
export const DUPLICATE = "duplicate: the event already exists";

// Batches verified or being committed at once: one verifying while the previous one commits keeps the
// workers busy; events arriving meanwhile wait and form a larger batch.
const BATCHES_IN_FLIGHT = 2;

export interface IngestPorts<C> {
  db: Database;
  pool: Pick<CryptoPool, "verify">;
  answer(client: C, eventId: string, success: boolean, message: string): void;
  /** Events newly stored, ephemeral ones and deletion requests, in publication order. */
  deliver(events: Event[]): void;
  /** NIP-09 deletion and storage of the request itself (the repository's, asynchronous). */
  deleteByRequest(request: Event): Promise<void>;
  log(line: { event: string; message: string }): void;
}

interface Pending<C> {
  client: C;
  event: Event;
  bytes: number;
}

interface Outcome {
  success: boolean;
  message: string;
  deliver: boolean;
}

interface ClientLoad {
  events: number;
  bytes: number;
  settled: Array<() => void>;
}

export class Ingest<C> {
  private readonly queue: Pending<C>[] = [];
  private readonly loads = new Map<C, ClientLoad>();
  private totalEvents = 0;
  private totalBytes = 0;
  private scheduled = false;
  private inFlight = 0;
  private commits: Promise<void> = Promise.resolve();
  private idleWaiters: Array<() => void> = [];
  private readonly statements: Statements;
  private readonly writeBatch: (items: Array<[Pending<C>, boolean]>) => Outcome[];

  constructor(
    private readonly ports: IngestPorts<C>,
    private readonly limits: IngestLimits = DEFAULT_INGEST_LIMITS,
  ) {
    this.statements = prepare(ports.db);
    // A failing event rolls back to its savepoint only; a failing commit rolls back the whole batch.
    const writeOne = ports.db.transaction((event: Event) => this.upsert(event));
    this.writeBatch = ports.db.transaction((items: Array<[Pending<C>, boolean]>) => items.map(([pending, valid]) => this.writeEvent(pending.event, valid, writeOne)));
  }

  /** Queues a checked-in-shape event; answers OK false at once when over a bound. */
  submit(client: C, event: Event, bytes: number): void {
    const load = this.loads.get(client) ?? { events: 0, bytes: 0, settled: [] };
    const refusal =
      load.events + 1 > this.limits.perConnectionEvents || load.bytes + bytes > this.limits.perConnectionBytes
        ? CONNECTION_BUSY_REFUSAL
        : this.totalEvents + 1 > this.limits.totalEvents || this.totalBytes + bytes > this.limits.totalBytes
          ? RELAY_BUSY_REFUSAL
          : undefined;
    if (refusal !== undefined) {
      this.ports.answer(client, event.id, false, refusal);
      return;
    }
    load.events += 1;
    load.bytes += bytes;
    this.loads.set(client, load);
    this.totalEvents += 1;
    this.totalBytes += bytes;
    this.queue.push({ client, event, bytes });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.cut();
      });
    }
  }

  /** Resolves once every event this client submitted so far is answered. */
  settled(client: C): Promise<void> {
    const load = this.loads.get(client);
    if (load === undefined) return Promise.resolve();
    return new Promise((resolve) => load.settled.push(resolve));
  }

  /** Resolves once nothing is queued or being written. */
  idle(): Promise<void> {
    if (this.totalEvents === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private cut(): void {
    while (this.queue.length > 0 && this.inFlight < BATCHES_IN_FLIGHT) {
      const batch = this.queue.splice(0, this.limits.batchEvents);
      this.inFlight += 1;
      const verdicts = this.ports.pool.verify(batch.map((pending) => pending.event));
      this.commits = this.commits.then(async () => {
        try {
          await this.commit(batch, await verdicts);
        } catch (error) {
          this.ports.log({ event: "relay_ingest_error", message: errorMessage(error) });
        } finally {
          this.inFlight -= 1;
          this.cut();
        }
      });
    }
  }

  /** Writes a batch in order; a deletion request waits for the events before it and runs alone. */
  private async commit(batch: Pending<C>[], verdicts: boolean[]): Promise<void> {
    let start = 0;
    for (let i = 0; i <= batch.length; i++) {
      const pending = batch[i];
      if (pending !== undefined && pending.event.kind !== EventKind.DELETION) continue;
      if (i > start) this.finish(batch.slice(start, i), this.writeSegment(batch.slice(start, i), verdicts.slice(start, i)));
      if (pending !== undefined) this.finish([pending], [await this.writeDeletion(pending.event, verdicts[i] === true)]);
      start = i + 1;
    }
  }

  private writeSegment(segment: Pending<C>[], verdicts: boolean[]): Outcome[] {
    try {
      return this.writeBatch(segment.map((pending, i) => [pending, verdicts[i] === true]));
    } catch (error) {
      const message = errorMessage(error);
      this.ports.log({ event: "relay_ingest_error", message });
      return segment.map(() => ({ success: false, message: `error: ${message}`, deliver: false }));
    }
  }

  /** The library's order of checks (EventService.handleEvent), each with its message. */
  private writeEvent(event: Event, valid: boolean, writeOne: (event: Event) => boolean): Outcome {
    const ephemeral = EventUtils.getType(event.kind) === EventType.EPHEMERAL;
    if (!ephemeral && this.exists(event.id)) return { success: true, message: DUPLICATE, deliver: false };
    const refusal = refusalOf(event, valid);
    if (refusal !== undefined) return { success: false, message: refusal, deliver: false };
    if (ephemeral) return { success: true, message: "", deliver: true };
    try {
      return writeOne(event) ? { success: true, message: "", deliver: true } : { success: true, message: DUPLICATE, deliver: false };
    } catch (error) {
      const message = errorMessage(error);
      if (message.includes("UNIQUE constraint failed")) return { success: true, message: DUPLICATE, deliver: false };
      this.ports.log({ event: "relay_ingest_error", message });
      return { success: false, message: `error: ${message}`, deliver: false };
    }
  }

  private async writeDeletion(event: Event, valid: boolean): Promise<Outcome> {
    try {
      if (this.exists(event.id)) return { success: true, message: DUPLICATE, deliver: false };
      const refusal = refusalOf(event, valid);
      if (refusal !== undefined) return { success: false, message: refusal, deliver: false };
      await this.ports.deleteByRequest(event);
      return { success: true, message: "", deliver: true };
    } catch (error) {
      const message = errorMessage(error);
      this.ports.log({ event: "relay_ingest_error", message });
      return { success: false, message: `error: ${message}`, deliver: false };
    }
  }

  /** Answers, then delivers, then frees the bounds the events held. */
  private finish(batch: Pending<C>[], outcomes: Outcome[]): void {
    const delivered: Event[] = [];
    batch.forEach((pending, i) => {
      const outcome = outcomes[i] ?? { success: false, message: "error: no outcome", deliver: false };
      this.ports.answer(pending.client, pending.event.id, outcome.success, outcome.message);
      if (outcome.deliver) delivered.push(pending.event);
    });
    try {
      if (delivered.length > 0) this.ports.deliver(delivered);
    } catch (error) {
      this.ports.log({ event: "relay_delivery_error", message: errorMessage(error) });
    }
    for (const pending of batch) {
      this.totalEvents -= 1;
      this.totalBytes -= pending.bytes;
      const load = this.loads.get(pending.client);
      if (load === undefined) continue;
      load.events -= 1;
      load.bytes -= pending.bytes;
      if (load.events === 0) {
        this.loads.delete(pending.client);
        for (const resolve of load.settled) resolve();
      }
    }
    if (this.totalEvents === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private exists(id: string): boolean {
    return this.statements.exists.get(id) !== undefined;
  }

  /** EventRepositorySqlite.upsert's statements, inside the batch's transaction: false when not newer. */
  private upsert(event: Event): boolean {
    const s = this.statements;
    const author = EventUtils.getAuthor(event);
    const dTagValue = EventUtils.extractDTagValue(event);
    const replaced = dTagValue === null ? undefined : (s.findAddress.get(author, event.kind, dTagValue) as { id: string } | undefined);
    const { changes } = s.insertEvent.run({
      id: event.id,
      pubkey: event.pubkey,
      author,
      kind: event.kind,
      created_at: event.created_at,
      tags: JSON.stringify(event.tags),
      content: event.content,
      sig: event.sig,
      d_tag_value: dTagValue,
    });
    if (changes === 0) return false;
    const tags = genericTags(event);
    if (tags.length > 0) {
      s.deleteTags.run(event.id);
      for (const tag of tags) s.insertTag.run(tag, event.id, event.kind, author, event.created_at);
    }
    if (replaced !== undefined) s.deleteSearch.run(replaced.id);
    const searchable = extractSearchableContent(event);
    if (searchable) s.insertSearch.run(event.id, searchable);
    return true;
  }
}

interface Statements {
  exists: Statement;
  findAddress: Statement;
  insertEvent: Statement;
  deleteTags: Statement;
  insertTag: Statement;
  deleteSearch: Statement;
  insertSearch: Statement;
}

/** The repository's schema (@nostr-relay/event-repository-sqlite migrations 001 and 002). */
function prepare(db: Database): Statements {
  return {
    exists: db.prepare("SELECT 1 FROM events WHERE id = ?"),
    findAddress: db.prepare("SELECT id FROM events WHERE author = ? AND kind = ? AND d_tag_value = ?"),
    insertEvent: db.prepare(
      `INSERT INTO events (id, pubkey, author, kind, created_at, tags, content, sig, d_tag_value)
       VALUES (@id, @pubkey, @author, @kind, @created_at, @tags, @content, @sig, @d_tag_value)
       ON CONFLICT (author, kind, d_tag_value) WHERE d_tag_value IS NOT NULL DO UPDATE SET
         id = excluded.id, pubkey = excluded.pubkey, created_at = excluded.created_at,
         tags = excluded.tags, content = excluded.content, sig = excluded.sig
       WHERE events.created_at < excluded.created_at OR (events.created_at = excluded.created_at AND events.id > excluded.id)`,
    ),
    deleteTags: db.prepare("DELETE FROM generic_tags WHERE event_id = ?"),
    insertTag: db.prepare("INSERT INTO generic_tags (tag, event_id, kind, author, created_at) VALUES (?, ?, ?, ?, ?)"),
    deleteSearch: db.prepare("DELETE FROM events_fts WHERE id = ?"),
    insertSearch: db.prepare("INSERT INTO events_fts (id, content) VALUES (?, ?)"),
  };
}

/** Single-letter tags as the repository indexes them ("h:<group id>"), each once. */
function genericTags(event: Event): string[] {
  const tags = new Set<string>();
  for (const [name, value] of event.tags) {
    if (name !== undefined && /^[a-zA-Z]$/.test(name)) tags.add(`${name}:${value}`);
  }
  return [...tags];
}

/** EventUtils.validate's checks and messages, the signature's verdict given. */
function refusalOf(event: Event, valid: boolean): string | undefined {
  if (!valid) return EventUtils.isIdValid(event) ? "invalid: signature is wrong" : "invalid: id is wrong";
  const expiresAt = EventUtils.extractExpirationTimestamp(event);
  if (expiresAt && expiresAt < getTimestampInSeconds()) return "reject: event is expired";
  if (!EventUtils.isDelegationEventValid(event)) return "invalid: delegation tag verification failed";
  return undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
