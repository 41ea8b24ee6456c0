// Kind 445 input that opens under no key we have yet. A real message of an epoch whose commit has not
// arrived looks exactly like junk anyone can publish for the group's public `h` tag, so it is held,
// bounded per group; past the bound it is refused (not "seen") and fetched again after the group's
// next commit; once several commits have passed and it still opens under no key, it is dropped.
// None of it is silent: counted, and logged at most once per interval.
import type { Event } from "nostr-tools/core";
import type { Batch } from "../../chats/receiveBatch.js";
import type { AccountContext } from "../../state/context.js";

/** Ids of events we failed to open, with the epoch at which they first failed: bounded, oldest forgotten first. */
const MAX_FAILED_TRACKED = 50_000;

export type InputCount = "held" | "refused" | "dropped_undecryptable" | "rejected";

export class HeldInput {
  /** Events of epochs we have not reached yet, per group (bounded): tried again after each commit. */
  private readonly held = new Map<string, Event[]>();
  /**
   * Per group, the oldest created_at of events refused because its held list was full. The group's
   * next commit fetches them again ("waiting" until then, "due" after it, "issued" once asked for).
   */
  private readonly refused = new Map<string, { oldest: number; state: "waiting" | "due" | "issued" }>();
  private readonly firstFailed = new Map<string, bigint>();
  private readonly counts: Record<InputCount, number> = { held: 0, refused: 0, dropped_undecryptable: 0, rejected: 0 };
  private report: { last: number; timer: { cancel(): void } | null; dirty: boolean } = { last: 0, timer: null, dirty: false };

  constructor(
    private readonly ctx: AccountContext,
    /** Makes the receive batch read an event again when a relay sends it. */
    private readonly forget: (eventId: string) => void,
  ) {}

  /** Holds, refuses or drops an event that does not open (yet) in a group now at `epoch`. */
  hold(groupId: string, event: Event, epoch: bigint, batch: Batch): void {
    const first = this.firstFailed.get(event.id) ?? epoch;
    if (!this.firstFailed.has(event.id)) {
      if (this.firstFailed.size >= MAX_FAILED_TRACKED) this.firstFailed.delete(this.firstFailed.keys().next().value as string);
      this.firstFailed.set(event.id, epoch);
    }
    if (epoch - first >= BigInt(this.ctx.timings.heldCommitsBeforeDrop)) {
      this.firstFailed.delete(event.id);
      this.count("dropped_undecryptable");
      batch.processed(event);
      return;
    }
    const held = this.held.get(groupId) ?? [];
    this.held.set(groupId, held);
    if (held.length < this.ctx.timings.maxHeldEventsPerGroup) {
      held.push(event);
      this.count("held");
      return;
    }
    this.forget(event.id);
    const refused = this.refused.get(groupId);
    this.refused.set(groupId, { oldest: Math.min(refused?.oldest ?? event.created_at, event.created_at), state: "waiting" });
    this.count("refused");
  }

  /** A commit arrived: the group's held events, to try again; refused ones are due to be fetched again. */
  release(groupId: string): Event[] {
    const refused = this.refused.get(groupId);
    if (refused?.state === "waiting") refused.state = "due";
    const held = this.held.get(groupId) ?? [];
    this.held.delete(groupId);
    return held;
  }

  /** The group's subscription is issued: a due fetch-again is on its way. Returns the oldest input still waiting, if any. */
  issueFetch(groupId: string): number | null {
    const refused = this.refused.get(groupId);
    if (refused?.state === "due") refused.state = "issued";
    return this.floor(groupId);
  }

  /** Any fetch-again due: the groups subscription is issued anew. */
  fetchDue(): boolean {
    return [...this.refused.values()].some((r) => r.state === "due");
  }

  /** A fetch-again whose catch-up has been applied is done: what was refused again is "waiting" anew. */
  fetchesApplied(): void {
    for (const [groupId, refused] of this.refused) if (refused.state === "issued") this.refused.delete(groupId);
  }

  /** A new membership: what waited for a commit of the old one waits no more. */
  clear(groupId: string): void {
    this.held.delete(groupId);
    this.refused.delete(groupId);
  }

  floors(): Array<[string, number]> {
    return [...new Set([...this.held.keys(), ...this.refused.keys()])].flatMap((groupId) => {
      const floor = this.floor(groupId);
      return floor === null ? [] : [[groupId, floor] as [string, number]];
    });
  }

  count(what: InputCount): void {
    this.counts[what] += 1;
    this.report.dirty = true;
    if (this.report.timer) return;
    const wait = Math.max(0, this.report.last + this.ctx.timings.inputReportEveryMs - Date.now());
    this.report.timer = this.ctx.later(wait, () => {
      this.report.timer = null;
      if (!this.report.dirty) return;
      this.report.last = Date.now();
      this.report.dirty = false;
      const heldNow = [...this.held.values()].reduce((sum, list) => sum + list.length, 0);
      this.ctx.log({ event: "group_input_report", ...this.counts, held_now: heldNow, groups_refused: this.refused.size });
    }, { background: true });
  }

  /** Totals since login of held, refused, dropped and rejected input (also in the log). */
  stats(): Readonly<Record<InputCount, number>> {
    return { ...this.counts };
  }

  /** The oldest created_at of this group's input that is held or refused (waiting for a commit), if any. */
  private floor(groupId: string): number | null {
    let floor = this.refused.get(groupId)?.oldest ?? Number.POSITIVE_INFINITY;
    for (const event of this.held.get(groupId) ?? []) floor = Math.min(floor, event.created_at);
    return Number.isFinite(floor) ? floor : null;
  }
}
