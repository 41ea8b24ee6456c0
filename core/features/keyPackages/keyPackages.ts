// Our KeyPackages: published as kind 443 + 30443 (and the 10051 relay list) after login and
// whenever one of our relays lacks them; rotated after a Welcome used one.
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import type { Event } from "nostr-tools/core";
import { CLIENT_NAME } from "../../base/config.js";
import { CoreError } from "../../base/errors.js";
import type { AccountContext } from "../../state/context.js";
import {
  ADDRESSABLE_KEY_PACKAGE_KIND,
  KEY_PACKAGE_KIND,
  KEY_PACKAGE_RELAY_LIST_KIND,
  generateKeyPackage,
  keyPackageDeletionTemplate,
  keyPackageEventTemplates,
  keyPackageRef,
  keyPackageRelayListRelays,
  keyPackageRelayListTemplate,
  serializeKeyPackageBundle,
  signEvent,
} from "../../marmot/index.js";
import { describeError } from "../../marmot/errors.js";
import { normalizeRelayUrls } from "../../../shared/relayUrl.js";

const D_TAG_KEY = "key_package_d_tag";
const LAST_REPLACEABLE_KEY = "key_package_last_created_at";

/** Exactly one `i` tag, with exactly our ref. */
function carriesRef(event: Event, ref: string): boolean {
  const refs = event.tags.filter((tag) => tag[0] === "i");
  return refs.length === 1 && refs[0]?.length === 2 && refs[0][1] === ref;
}

/** The `relays` tag of one of our KeyPackage events, in normal form. */
function relaysTag(event: Event): string[] {
  return normalizeRelayUrls(event.tags.find((tag) => tag[0] === "relays")?.slice(1) ?? []);
}

function sameRelays(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(normalizeRelayUrls(a));
  const right = new Set(normalizeRelayUrls(b));
  return left.size === right.size && [...left].every((url) => right.has(url));
}

export class KeyPackages {
  private checking = false;
  /** Asked again while a check ran (e.g. the relay list changed): check once more after it. */
  private recheck = false;
  private readonly waiters: Array<{ resolve(): void; reject(error: Error): void }> = [];
  private retry: { cancel(): void } | null = null;

  constructor(
    private readonly ctx: AccountContext,
    /** A failed publish is due to be tried again (with everything else a reconnect retries). */
    private readonly retryDue: () => void,
  ) {}

  /** Checks every relay for our KeyPackage, logging (not throwing) a failed check. */
  check(): void {
    void this.ensurePublished().catch((error: unknown) => this.ctx.log({ event: "key_package_check_failed", error: describeError(error) }));
  }

  /** Resolves once our KeyPackage is out (publishing it if needed); rejects when that publish fails. */
  ready(): Promise<void> {
    if (this.ctx.state().key_package.published) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.ctx.state().key_package.publishing) this.publish();
    });
  }

  /** The relays changed: a publish still waiting on the old ones no longer counts. */
  relaysChanged(): void {
    this.ctx.invalidate("key_package_publish");
    this.ctx.update((s) => {
      s.key_package.published = false;
      s.key_package.publishing = false;
    });
  }

  close(): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error("signed out"));
  }

  /**
   * Makes sure one of our KeyPackages and our relay list (kind 10051) are on every relay we use. Each
   * relay is asked; those that answer without them get the same events again. A fresh KeyPackage is
   * published when none of ours is on any relay, or when ours names other relays than we use now.
   * Relays that do not answer are asked again the next time (a relay or the network comes back).
   */
  async ensurePublished(): Promise<void> {
    if (this.ctx.state().key_package.publishing) return;
    if (this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = true;
    let fresh: boolean;
    try {
      do {
        this.recheck = false;
        fresh = await this.checkEveryRelay();
      } while (this.recheck && !fresh && this.ctx.live());
    } finally {
      this.checking = false;
    }
    if (fresh && this.ctx.live() && !this.ctx.state().key_package.publishing) this.publish();
  }

  /** true when a fresh KeyPackage is needed. */
  private async checkEveryRelay(): Promise<boolean> {
    const relays = this.ctx.pool.urls;
    const answers = await this.ctx.pool.queryEach(
      [{ kinds: [KEY_PACKAGE_KIND, ADDRESSABLE_KEY_PACKAGE_KIND, KEY_PACKAGE_RELAY_LIST_KIND], authors: [this.ctx.keys.pubkey] }],
      this.ctx.timings.relayQueryMs,
    );
    if (!this.ctx.live()) return false;
    // One published before Burrow wrote `i` does not count: MDK 0.7 refuses it, so a fresh one replaces it.
    // Looked up once per event: the same events are consulted per relay below.
    const refs = new Map<string, string | null>();
    for (const event of answers.events) {
      if (refs.has(event.id)) continue;
      const row = event.kind === KEY_PACKAGE_KIND || event.kind === ADDRESSABLE_KEY_PACKAGE_KIND ? this.ctx.store.findKeyPackageByEventId(event.id) : undefined;
      refs.set(event.id, row?.used_at === null && carriesRef(event, row.ref) ? row.ref : null);
    }
    const refOf = (event: Event): string | null => refs.get(event.id) ?? null;
    const known = answers.events.filter((event) => refOf(event) !== null).sort((a, b) => b.created_at - a.created_at);
    const newest = known[0];
    if (!newest) return true;
    if (!sameRelays(relaysTag(newest), relays)) return true;
    const ref = refOf(newest);
    const packageEvents = known.filter((event) => refOf(event) === ref);
    const newestList = answers.events.filter((event) => event.kind === KEY_PACKAGE_RELAY_LIST_KIND).sort((a, b) => b.created_at - a.created_at)[0];
    let relayList = newestList && sameRelays(keyPackageRelayListRelays([newestList]), relays) ? newestList : undefined;
    const freshList = !relayList;
    relayList ??= signEvent(keyPackageRelayListTemplate(relays, this.replaceableCreatedAt()), this.ctx.keys.secret);

    const republished: Promise<unknown>[] = [];
    let missing = 0;
    for (const url of answers.answered) {
      const held = answers.byRelay.get(url) ?? [];
      if (!held.some((event) => refOf(event) !== null)) {
        missing += 1;
        for (const event of packageEvents) republished.push(this.ctx.pool.publish(event, [url]));
      }
      if (!freshList && !held.some((event) => event.id === relayList.id)) republished.push(this.ctx.pool.publish(relayList, [url]));
    }
    if (freshList) republished.push(this.ctx.pool.publish(relayList, relays));
    await Promise.all(republished);
    if (missing > 0 || freshList) this.ctx.log({ event: "key_package_republished", relays: missing, relay_list: freshList });
    if (!this.ctx.live()) return false;
    this.ctx.update((s) => {
      s.key_package.published = true;
    });
    return false;
  }

  /** Generates, stores and publishes a fresh KeyPackage; waiters hear the outcome. */
  publish(): void {
    this.ctx.update((s) => {
      s.key_package.publishing = true;
    });
    this.ctx.run("key_package_publish", () => this.publishFresh(), {
      apply: () => this.published(null),
      fail: (error) => this.published(describeError(error)),
    });
  }

  private published(error: string | null): void {
    this.ctx.update((s) => {
      s.key_package.publishing = false;
      s.key_package.published = error === null;
    });
    this.ctx.log({ event: "key_package_published", ok: error === null, ...(error === null ? {} : { error }) });
    if (error !== null && !this.retry) {
      this.retry = this.ctx.later(this.ctx.timings.keyPackageRetryMs, () => {
        this.retry = null;
        this.retryDue();
      });
    }
    for (const waiter of this.waiters.splice(0)) {
      if (error === null) waiter.resolve();
      else waiter.reject(new CoreError("key_package_publish_failed", error));
    }
  }

  /** After a Welcome used one of ours: a fresh one replaces it, and the old events are deleted. */
  async rotate(usedRef: string): Promise<void> {
    const now = this.ctx.now();
    this.ctx.store.markKeyPackageUsed(usedRef, now);
    this.ctx.update((s) => {
      s.key_package.published = false;
    });
    this.publish();
    const used = this.ctx.store.getKeyPackage(usedRef);
    if (!used) return;
    const refs = [
      ...(used.event_443_id ? [{ id: used.event_443_id, kind: KEY_PACKAGE_KIND, pubkey: this.ctx.keys.pubkey, tags: [] }] : []),
      ...(used.event_30443_id
        ? [{ id: used.event_30443_id, kind: ADDRESSABLE_KEY_PACKAGE_KIND, pubkey: this.ctx.keys.pubkey, tags: [["d", used.d_tag]] }]
        : []),
    ];
    if (refs.length === 0) return;
    const deletion = signEvent(keyPackageDeletionTemplate(refs), this.ctx.keys.secret);
    const outcome = await this.ctx.pool.publish(deletion);
    // The private part stays until pending invites that used it are settled; only the relays forget it.
    if (outcome.accepted.length > 0) this.ctx.store.markKeyPackageDeleted(usedRef, now);
  }

  /**
   * created_at for our replaceable events (30443 under one `d`, 10051): later than the last we
   * signed, since a relay keeps the lower id of two with the same second and would drop the new one.
   */
  private replaceableCreatedAt(): number {
    const now = Math.max(this.ctx.now(), (this.ctx.store.getMeta<number>(LAST_REPLACEABLE_KEY) ?? 0) + 1);
    this.ctx.store.setMeta(LAST_REPLACEABLE_KEY, now);
    return now;
  }

  private dTag(): string {
    const existing = this.ctx.store.getMeta<string>(D_TAG_KEY);
    if (existing) return existing;
    const fresh = bytesToHex(randomBytes(32));
    this.ctx.store.setMeta(D_TAG_KEY, fresh);
    return fresh;
  }

  private async publishFresh(): Promise<void> {
    const bundle = await generateKeyPackage(this.ctx.keys.pubkey);
    const ref = await keyPackageRef(bundle.publicPackage);
    const relays = this.ctx.pool.urls;
    if (relays.length === 0) throw new Error("no relays configured");
    const dTag = this.dTag();
    const now = this.replaceableCreatedAt();
    // Stored before it is published, so a Welcome that uses it can always be opened.
    this.ctx.store.saveKeyPackage({
      ref,
      private: serializeKeyPackageBundle(bundle),
      public: new Uint8Array(),
      d_tag: dTag,
      created_at: now,
    });
    const templates = await keyPackageEventTemplates(bundle.publicPackage, dTag, { relays, client: CLIENT_NAME, createdAt: now });
    const legacy = signEvent(templates.legacy, this.ctx.keys.secret);
    const addressable = signEvent(templates.addressable, this.ctx.keys.secret);
    const relayList = signEvent(keyPackageRelayListTemplate(relays, now), this.ctx.keys.secret);
    const [legacyOutcome, addressableOutcome] = await Promise.all([
      this.ctx.pool.publish(legacy),
      this.ctx.pool.publish(addressable),
      this.ctx.pool.publish(relayList),
    ]);
    const accepted = (e: Event, outcome: { accepted: string[] }) => (outcome.accepted.length > 0 ? e.id : null);
    const event443 = accepted(legacy, legacyOutcome);
    const event30443 = accepted(addressable, addressableOutcome);
    if (!event443 && !event30443) {
      const reason = legacyOutcome.failed[0]?.reason ?? "no relay accepted it";
      throw new Error(reason);
    }
    this.ctx.store.markKeyPackagePublished(ref, { event_443_id: event443, event_30443_id: event30443 }, now);
  }
}
