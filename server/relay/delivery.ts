// Live delivery of new events to open subscriptions, with the subscriptions indexed so that an
// event is tested only against filters that could match it, and serialized once for all of them.
import { EventUtils } from "@nostr-relay/common";
import type { Client, ClientContext, Event, Filter, HandleMessagePlugin, HandleMessageResult, IncomingMessage } from "@nostr-relay/common";

interface Subscription {
  ctx: ClientContext;
  /** `["EVENT",<subscription id>,` : the frame's start, the same for every event. */
  framePrefix: string;
  entries: IndexEntry[];
}

interface IndexEntry {
  key: string;
  filter: Filter;
  subscription: Subscription;
}

/**
 * The relay's live delivery, in place of the library's: @nostr-relay 0.0.40 matches with
 * `EventUtils.isMatchingFilter`, which ignores tag filters (`#h`, `#p`, ...), and tests every filter
 * of every client. The library keeps each client's subscriptions (REQ, CLOSE, eviction past its
 * limit); after each REQ and CLOSE this index follows them.
 */
export class LiveDelivery implements HandleMessagePlugin {
  private readonly byClient = new Map<Client, Map<string, Subscription>>();
  /** Each filter under one key it requires (an id, a tag value, an author, a kind), or "*". */
  private readonly index = new Map<string, Set<IndexEntry>>();

  async handleMessage(ctx: ClientContext, message: IncomingMessage, next: () => Promise<HandleMessageResult>): Promise<HandleMessageResult> {
    const result = await next();
    if (message[0] === "REQ" || message[0] === "CLOSE") this.follow(ctx, message[1]);
    return result;
  }

  deliver(events: Event[]): void {
    for (const event of events) {
      const matched = new Set<Subscription>();
      const consider = (key: string): void => {
        for (const entry of this.index.get(key) ?? []) {
          if (!matched.has(entry.subscription) && matchesFilter(event, entry.filter)) matched.add(entry.subscription);
        }
      };
      consider(`i${event.id}`);
      consider(`a${EventUtils.getAuthor(event)}`);
      consider(`k${event.kind}`);
      for (const [name, value] of event.tags) {
        if (name !== undefined && name.length === 1 && value !== undefined) consider(`t${name}:${value}`);
      }
      consider("*");
      if (matched.size === 0) continue;
      const frameEnd = `${JSON.stringify(event)}]`;
      for (const subscription of matched) {
        if (subscription.ctx.isOpen) subscription.ctx.client.send(subscription.framePrefix + frameEnd);
      }
    }
  }

  forget(client: Client): void {
    for (const subscription of this.byClient.get(client)?.values() ?? []) this.unindex(subscription);
    this.byClient.delete(client);
  }

  /** Mirrors the library's subscriptions of `ctx` after a REQ or CLOSE of `subscriptionId`. */
  private follow(ctx: ClientContext, subscriptionId: string): void {
    const mine = this.byClient.get(ctx.client) ?? new Map<string, Subscription>();
    const previous = mine.get(subscriptionId);
    if (previous !== undefined) this.unindex(previous);
    mine.delete(subscriptionId);
    const filters = ctx.subscriptions.peek(subscriptionId);
    if (filters !== undefined) {
      const subscription: Subscription = { ctx, framePrefix: `["EVENT",${JSON.stringify(subscriptionId)},`, entries: [] };
      for (const filter of filters) {
        for (const key of indexKeys(filter)) subscription.entries.push({ key, filter, subscription });
      }
      for (const entry of subscription.entries) {
        const bucket = this.index.get(entry.key) ?? new Set<IndexEntry>();
        bucket.add(entry);
        this.index.set(entry.key, bucket);
      }
      mine.set(subscriptionId, subscription);
    }
    // A REQ past the client's limit made the library evict its oldest subscription.
    for (const [id, subscription] of mine) {
      if (!ctx.subscriptions.has(id)) {
        this.unindex(subscription);
        mine.delete(id);
      }
    }
    if (mine.size > 0) this.byClient.set(ctx.client, mine);
    else this.byClient.delete(ctx.client);
  }

  private unindex(subscription: Subscription): void {
    for (const entry of subscription.entries) {
      const bucket = this.index.get(entry.key);
      bucket?.delete(entry);
      if (bucket?.size === 0) this.index.delete(entry.key);
    }
  }
}

/** Keys under which an event matching `filter` is always found: the filter's most selective field. */
function indexKeys(filter: Filter): string[] {
  if (filter.ids) return filter.ids.map((id) => `i${id}`);
  for (const [key, values] of Object.entries(filter)) {
    if (key.length === 2 && key.startsWith("#") && Array.isArray(values)) return values.map((value) => `t${key[1]}:${String(value)}`);
  }
  if (filter.authors) return filter.authors.map((author) => `a${author}`);
  if (filter.kinds) return filter.kinds.map((kind) => `k${kind}`);
  return ["*"];
}

/** NIP-01 matching: the library's checks of ids, authors, kinds, since and until, plus tag filters. */
export function matchesFilter(event: Event, filter: Filter): boolean {
  if (!EventUtils.isMatchingFilter(event, filter)) return false;
  for (const [key, values] of Object.entries(filter)) {
    if (key.length !== 2 || !key.startsWith("#") || !Array.isArray(values)) continue;
    const wanted = new Set<unknown>(values);
    const name = key.slice(1);
    if (!event.tags.some((tag) => tag[0] === name && wanted.has(tag[1]))) return false;
  }
  return true;
}
