// Profiles (kind 0) of the people in our chats and invitations: their names and pictures.
import type { Event } from "nostr-tools/core";
import type { Filter } from "nostr-tools/filter";
import { resumeFrom, type Batch } from "../../chats/receiveBatch.js";
import type { ChatRegistry } from "../../chats/registry.js";
import { verifySignature } from "../../marmot/index.js";
import type { AccountContext } from "../../state/context.js";

export const PROFILE_KIND = 0;
const PROFILE_CURSOR = "cursor:0";

export class Profiles {
  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
  ) {}

  filters(): Filter[] {
    const people = new Set<string>();
    for (const { row } of this.registry.all()) for (const member of row.members) people.add(member);
    for (const invite of this.ctx.store.listPendingInvites()) people.add(invite.from_pubkey);
    people.delete(this.ctx.keys.pubkey);
    if (people.size === 0) return [];
    const cursor = this.ctx.store.getMeta<number>(PROFILE_CURSOR);
    return [{ kinds: [PROFILE_KIND], authors: [...people], ...(cursor !== null ? { since: resumeFrom(this.ctx, cursor) } : {}) }];
  }

  async apply(event: Event, batch: Batch): Promise<void> {
    if (!verifySignature(event)) throw new Error("bad profile signature");
    let profile: Record<string, unknown>;
    try {
      profile = JSON.parse(event.content) as Record<string, unknown>;
    } catch {
      throw new Error("profile content is not JSON");
    }
    const text = (value: unknown, max: number): string | null => (typeof value === "string" && value.trim() !== "" ? value.trim().slice(0, max) : null);
    const name = text(profile["display_name"], 100) ?? text(profile["name"], 100);
    const pictureText = text(profile["picture"], 1000);
    const picture = pictureText && /^https:\/\//.test(pictureText) ? pictureText : null;
    const createdAt = Math.min(event.created_at, this.ctx.now() + this.ctx.timings.futureSkewSec);
    batch.write(() => this.ctx.store.upsertProfile({ pubkey: event.pubkey, name, picture, created_at: createdAt }));
    batch.processed(event);
    batch.cursor(PROFILE_CURSOR, event.created_at);
  }
}
