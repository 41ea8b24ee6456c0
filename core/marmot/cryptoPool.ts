/**
 * A pool of worker threads for the per-event Nostr crypto that does not depend on order: checking
 * signatures and signing with fresh keys made in the worker (kind 445s). A batch is split
 * over the workers and comes back in its own order, so callers keep whatever ordering they need
 * (MLS stays ordered per group on the calling thread).
 * Nothing is lost when a worker fails: its jobs run on the calling thread and a new worker replaces it.
 * With `size: 0`, or where workers cannot start, everything runs on the calling thread.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { copyEvent, generateSecretKey, signEvent, verifySignature, type EventTemplate, type NostrEvent } from "./nostrCrypto.js";

/** Messages between the pool and its workers. */
export type CryptoJob =
  | { id: number; op: "verify"; events: NostrEvent[] }
  | { id: number; op: "sign_fresh"; templates: EventTemplate[] };
export type CryptoJobResult =
  | { id: number; op: "verify"; results: boolean[] }
  | { id: number; op: "sign_fresh"; results: NostrEvent[] }
  | { id: number; op: "error"; message: string };

export interface CryptoPoolOptions {
  /** Worker threads; default one fewer than the machine's cores (at least one). 0 runs everything here. */
  size?: number;
  /** A batch is split into parts of at least this many events (default 16): smaller parts cost more in messages than they save. */
  minPart?: number;
  /** Starts a worker; tests inject one that fails. */
  spawn?: () => Worker;
}

interface Pending {
  job: CryptoJob;
  weight: number;
  resolve(results: CryptoJobResult): void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Pending>;
  load: number;
}

const WORKER_URL = new URL("./cryptoWorker.js", import.meta.url);

/**
 * Events whose signature a pool found good: frozen copies made before the check, so nothing can
 * change them afterwards. Only {@link CryptoPool.checkSignatures} adds to it; nothing a relay sends can.
 */
const checked = new WeakSet<NostrEvent>();

/** Null for what is not shaped like an event (its check would fail anyway). */
function frozenCopy(event: NostrEvent): NostrEvent | null {
  if (typeof event !== "object" || event === null || !Array.isArray(event.tags) || !event.tags.every((tag) => Array.isArray(tag))) return null;
  const copy = copyEvent(event);
  for (const tag of copy.tags) Object.freeze(tag);
  Object.freeze(copy.tags);
  return Object.freeze(copy);
}

/** True for an event {@link CryptoPool.checkSignatures} found good; any other event is checked now (`verifySignature`). */
export function hasValidSignature(event: NostrEvent): boolean {
  return checked.has(event) || verifySignature(event);
}

export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** One job, on whichever thread runs it: the workers and the calling thread answer alike. */
export function runCryptoJob(job: CryptoJob): CryptoJobResult {
  if (job.op === "verify") return { id: job.id, op: "verify", results: job.events.map((event) => verifySignature(event)) };
  // Each key signs one event and is forgotten: it never leaves the thread that made it.
  return { id: job.id, op: "sign_fresh", results: job.templates.map((template) => signEvent(template, generateSecretKey())) };
}

export class CryptoPool {
  readonly size: number;
  private readonly minPart: number;
  private readonly spawn: () => Worker;
  private readonly slots: (Slot | null)[];
  private nextId = 1;
  private closed = false;
  /** Workers that failed to start or died; after a few the pool stops starting them. */
  private failures = 0;

  constructor(options: CryptoPoolOptions = {}) {
    this.size = Math.max(0, Math.floor(options.size ?? defaultPoolSize()));
    this.minPart = Math.max(1, options.minPart ?? 16);
    this.spawn = options.spawn ?? (() => new Worker(WORKER_URL));
    this.slots = Array.from({ length: this.size }, () => null);
  }

  /** `verifySignature` for each event, in order. Never rejects. */
  async verify(events: readonly NostrEvent[]): Promise<boolean[]> {
    const parts = await Promise.all(this.split(events).map((part) => this.submit({ id: 0, op: "verify", events: part }, part.length)));
    return parts.flatMap((result) => (result.op === "verify" ? result.results : []));
  }

  /**
   * For each event, in order: a frozen copy whose signature is known good (handlers given it do not
   * check again, see {@link hasValidSignature}), or null where the id or signature is wrong. Never rejects.
   */
  async checkSignatures(events: readonly NostrEvent[]): Promise<Array<NostrEvent | null>> {
    const copies = events.map(frozenCopy);
    const shaped = copies.filter((copy): copy is NostrEvent => copy !== null);
    const verdicts = await this.verify(shaped);
    let next = 0;
    return copies.map((copy) => {
      if (copy === null || verdicts[next++] !== true) return null;
      checked.add(copy);
      return copy;
    });
  }

  /** Each template signed by a fresh key of its own, made where it is signed (never seen by the caller), in order. */
  async signFresh(templates: readonly EventTemplate[]): Promise<NostrEvent[]> {
    const parts = await Promise.all(this.split(templates).map((part) => this.submit({ id: 0, op: "sign_fresh", templates: part }, part.length)));
    return parts.flatMap((result) => (result.op === "sign_fresh" ? result.results : []));
  }

  /** Starts every worker now instead of on first use, so that the first batch does not wait for them. */
  warmUp(): void {
    if (this.closed || this.failures > this.size * 2) return;
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i] === null) this.start(i);
  }

  /** Stops the workers; later calls run on the calling thread. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0).filter((slot): slot is Slot => slot !== null);
    await Promise.all(
      slots.map(async (slot) => {
        const pending = [...slot.inFlight.values()];
        slot.inFlight.clear();
        await slot.worker.terminate();
        for (const job of pending) job.resolve(runCryptoJob(job.job));
      }),
    );
  }

  private split<T>(items: readonly T[]): T[][] {
    const workers = this.closed ? 0 : this.size;
    if (items.length === 0) return [];
    const parts = Math.max(1, Math.min(workers, Math.floor(items.length / this.minPart)));
    const size = Math.ceil(items.length / parts);
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
  }

  private submit(job: CryptoJob, weight: number): Promise<CryptoJobResult> {
    const slot = this.pick();
    if (slot === null) return Promise.resolve(runCryptoJob(job));
    return new Promise((resolve) => {
      const pending: Pending = { job: { ...job, id: this.nextId++ }, weight, resolve };
      slot.inFlight.set(pending.job.id, pending);
      slot.load += weight;
      if (slot.inFlight.size === 1) slot.worker.ref();
      slot.worker.postMessage(pending.job);
    });
  }

  /** The least loaded worker, started on first use; null when work runs here. */
  private pick(): Slot | null {
    if (this.closed || this.size === 0 || this.failures > this.size * 2) return null;
    let best: Slot | null = null;
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i] ?? this.start(i);
      if (slot === null) continue;
      if (slot.load === 0) return slot;
      if (best === null || slot.load < best.load) best = slot;
    }
    return best;
  }

  private start(index: number): Slot | null {
    let worker: Worker;
    try {
      worker = this.spawn();
    } catch {
      this.failures += 1;
      return null;
    }
    const slot: Slot = { worker, inFlight: new Map(), load: 0 };
    worker.unref();
    worker.on("message", (result: CryptoJobResult) => {
      const pending = slot.inFlight.get(result.id);
      if (pending === undefined) return;
      slot.inFlight.delete(result.id);
      slot.load -= pending.weight;
      if (slot.inFlight.size === 0) worker.unref();
      pending.resolve(result.op === "error" ? runCryptoJob(pending.job) : result);
    });
    const fail = () => {
      if (this.slots[index] !== slot) return;
      this.slots[index] = null;
      this.failures += 1;
      const pending = [...slot.inFlight.values()];
      slot.inFlight.clear();
      void worker.terminate();
      // The work is pure: what the worker did not answer is done here.
      for (const job of pending) job.resolve(runCryptoJob(job.job));
    };
    worker.on("error", fail);
    worker.on("exit", fail);
    this.slots[index] = slot;
    return slot;
  }
}

let shared: CryptoPool | undefined;

/** The process's pool, started on first use. */
export function sharedCryptoPool(): CryptoPool {
  shared ??= new CryptoPool();
  return shared;
}

/** Replaces the process's pool (a host sizing it, a test injecting a failing worker); returns the one it replaced. */
export function setSharedCryptoPool(pool: CryptoPool): CryptoPool | undefined {
  const previous = shared;
  shared = pool;
  return previous;
}
