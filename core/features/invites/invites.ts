// Invitations (Welcomes we received and stored): accepted by joining the group, or declined. A
// Welcome into a group we hold only as history is a new membership that replaces the old one.
import type { DispatchReply } from "../../../shared/actions.js";
import { toUserMessage } from "../../../shared/errors.js";
import { CoreError, userText } from "../../base/errors.js";
import { groupCursorKey, type ChatRegistry, type ClientState } from "../../chats/registry.js";
import { isNewMembership, joinWelcome, type Joined } from "../../chats/welcomes.js";
import type { Receiver } from "../../chats/receiveBatch.js";
import { GROUP_EVENT_KIND, groupMembers, nostrGroupIdHex, parseRumor, parseWelcomeRumor, readGroupData } from "../../marmot/index.js";
import { describeError } from "../../marmot/errors.js";
import type { AccountContext } from "../../state/context.js";

export interface InvitePorts {
  openChat(chatId: string): DispatchReply;
  changed(): void;
  /** A Welcome used one of our KeyPackages: a fresh one replaces it (key packages). */
  rotateKeyPackage(ref: string): Promise<void>;
  /** Makes sure a KeyPackage of ours is out, for the inviter to add us again with (key packages). */
  checkKeyPackage(): void;
  /** Input of the old membership that waited for a commit waits no more (group inbox). */
  membershipReplaced(groupId: string): void;
}

export class Invites {
  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
    private readonly receiver: Receiver,
    private readonly ports: InvitePorts,
  ) {}

  accept(inviteId: string): DispatchReply {
    void this.join(inviteId);
    return { ok: true };
  }

  decline(inviteId: string): DispatchReply {
    this.ctx.store.setInviteStatus(inviteId, "declined");
    this.ports.changed();
    return { ok: true };
  }

  private async join(inviteId: string): Promise<void> {
    const invite = this.ctx.store.getInvite(inviteId);
    if (!invite || invite.status !== "pending") return;
    try {
      const chatId = await this.registry.mls.run(async () => {
        const parsed = parseWelcomeRumor(parseRumor(new TextDecoder().decode(invite.welcome)));
        const joined = await joinWelcome(this.ctx, parsed.welcome, invite.key_package_event_id, invite.from_pubkey);
        if (!joined) throw new CoreError("invite_key_package_gone");
        const groupId = nostrGroupIdHex(joined.groupData);
        if (!this.registry.has(groupId)) await this.saveJoined(joined, invite.from_pubkey, invite.received_at);
        else if (isNewMembership(this.registry, groupId, joined.state)) await this.rejoin(groupId, joined.state, invite.received_at);
        this.ctx.store.setInviteStatus(inviteId, "accepted");
        if (this.ctx.live()) void this.ports.rotateKeyPackage(joined.ref).catch((error: unknown) => this.ctx.log({ event: "key_package_rotate_failed", error: describeError(error) }));
        return groupId;
      });
      if (this.ctx.live()) this.ports.openChat(chatId);
    } catch (error) {
      if (!this.ctx.live()) return;
      // Marmot has no way to answer an invitation: the inviter only sees that we never speak. Say so
      // here, and make sure a fresh KeyPackage of ours is out for them to add us again with.
      this.ctx.log({ event: "join_failed", invite: inviteId.slice(0, 12), error: describeError(error) });
      this.ctx.toast("error", error instanceof CoreError ? error.toUserMessage() : toUserMessage("join_failed", userText(error)));
      this.ports.checkKeyPackage();
    }
  }

  private async saveJoined(joined: Joined, inviter: string, joinedAt: number): Promise<void> {
    const members = groupMembers(joined.state);
    const others = members.filter((m) => m !== this.ctx.keys.pubkey);
    const direct = members.length === 2 && joined.groupData.name === "";
    await this.registry.add({ state: joined.state, kind: direct ? "direct" : "group", peer: direct ? (others[0] ?? inviter) : null, relays: joined.groupData.relays, createdAt: joinedAt });
  }

  /**
   * Re-added after leaving or being removed: the new membership's state, epoch key and cursor replace
   * the old ones (whose keys open nothing of it), and the chat is live again. Events of the group
   * that arrived while it was history were only marked processed: they are fetched and read anew.
   */
  private async rejoin(groupId: string, state: ClientState, joinedAt: number): Promise<void> {
    const missed = await this.ctx.pool
      .query([{ kinds: [GROUP_EVENT_KIND], "#h": [groupId], since: Math.max(0, joinedAt - this.ctx.timings.resumeMarginSec) }], this.ctx.timings.relayQueryMs)
      .catch((error: unknown) => {
        this.ctx.log({ event: "rejoin_fetch_failed", chat: groupId.slice(0, 8), error: describeError(error) });
        return [];
      });
    const store = await this.registry.adopt(groupId, state, { membership: { relays: readGroupData(state).relays } });
    this.ports.membershipReplaced(groupId);
    this.ctx.store.transaction(() => {
      store();
      this.ctx.store.setMeta(groupCursorKey(groupId), joinedAt);
      for (const event of missed) this.ctx.store.forgetProcessed(event.id);
    });
    this.registry.setFlags(groupId, { left: false, removed_by: undefined });
    this.ctx.log({ event: "group_rejoined", chat: groupId.slice(0, 8), epoch: Number(state.groupContext.epoch), refetched: missed.length });
    for (const event of missed) {
      this.receiver.forget(event.id);
      this.receiver.receive(event, null);
    }
    this.registry.following();
  }
}
