// The gift-wrap inbox (kind 1059 addressed to us): Welcomes become pending invitations.
import type { Event } from "nostr-tools/core";
import type { Filter } from "nostr-tools/filter";
import { resumeFrom, type Batch } from "../../chats/receiveBatch.js";
import type { ChatRegistry } from "../../chats/registry.js";
import { isNewMembership, joinWelcome } from "../../chats/welcomes.js";
import { GIFT_WRAP_KIND, groupMembers, nostrGroupIdHex, readWelcome } from "../../marmot/index.js";
import { MarmotError } from "../../marmot/errors.js";
import { serializeRumor } from "../../marmot/rumor.js";
import type { AccountContext } from "../../state/context.js";

const GIFT_WRAP_CURSOR = "cursor:1059";

export class Inbox {
  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
  ) {}

  filters(): Filter[] {
    const cursor = this.ctx.store.getMeta<number>(GIFT_WRAP_CURSOR);
    const filter: Filter = { kinds: [GIFT_WRAP_KIND], "#p": [this.ctx.keys.pubkey] };
    // Gift wraps are backdated by their senders (NIP-59): resume that far before the cursor.
    if (cursor !== null) filter.since = Math.max(0, resumeFrom(this.ctx, cursor) - this.ctx.timings.giftWrapBackdateSec);
    return [filter];
  }

  async apply(event: Event, batch: Batch): Promise<void> {
    const advance = (): void => {
      batch.cursor(GIFT_WRAP_CURSOR, event.created_at);
      batch.processed(event);
    };
    const received = readWelcome(event, this.ctx.keys.secret);
    const joined = await joinWelcome(this.ctx, received.welcome, received.keyPackageEventId ?? "", received.sender);
    if (!joined) throw new MarmotError("invalid_welcome", "Welcome for a key package we do not have");
    const groupId = nostrGroupIdHex(joined.groupData);
    if (this.registry.has(groupId) && !isNewMembership(this.registry, groupId, joined.state)) {
      // We are in this group already, or this Welcome is older than where we stopped: nothing to join.
      advance();
      return;
    }
    const members = groupMembers(joined.state);
    const name = joined.groupData.name || (members.length === 2 ? "Direct chat" : "Group chat");
    const keyPackageEventId = received.keyPackageEventId ?? "";
    const receivedAt = this.ctx.receivedAt(received.rumor.created_at);
    batch.write(() => {
      const saved = this.ctx.store.saveInvite({
        id: received.rumor.id,
        from_pubkey: received.sender,
        group_name: name,
        welcome: new TextEncoder().encode(serializeRumor(received.rumor)),
        key_package_event_id: keyPackageEventId,
        relays: received.relays,
        received_at: receivedAt,
      });
      if (saved) batch.announce({ type: "invite_received", invite: { id: received.rumor.id, from: received.sender, group_name: name, received_at: receivedAt } });
    });
    advance();
    this.ctx.pool.refresh("profiles");
  }
}
