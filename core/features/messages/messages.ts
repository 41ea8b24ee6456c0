// Sending: a message, reply, reaction, edit or deletion is stored as pending first (shown at once), encrypted in the
// group's current epoch with its signed event kept for retries, then published a few at a time.
import type { Event } from "nostr-tools/core";
import type { DispatchReply } from "../../../shared/actions.js";
import type { ChatRegistry } from "../../chats/registry.js";
import {
  CHAT_MESSAGE_KIND,
  GROUP_EVENT_KIND,
  chatMessageRumor,
  deletionRumor,
  editRumor,
  reactionRumor,
  replyRumor,
  sendRumor,
  serializeGroupState,
  type Rumor,
} from "../../marmot/index.js";
import { describeError } from "../../marmot/errors.js";
import type { RelayPool } from "../../relays/pool.js";
import type { AccountContext } from "../../state/context.js";
import type { MessageRow } from "../../storage/accountStore.js";
import { refuseWith } from "../../state/requests.js";

const MAX_PUBLISHES_IN_FLIGHT = 64;

export class Messages {
  private publishing = 0;
  private readonly publishSlots: Array<() => void> = [];
  private readonly sentMarks: string[] = [];

  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
    /** Stored messages changed: the projection refreshes. */
    private readonly changed: () => void,
  ) {}

  /** `replyTo`: the id of a message of this chat the new one quotes. */
  send(chatId: string, text: string, replyTo?: string): DispatchReply {
    if (!this.registry.has(chatId)) return refuseWith(this.ctx, "chat_not_found");
    const parent = replyTo === undefined ? null : this.ctx.store.getMessage(replyTo);
    if (replyTo !== undefined && (parent?.group_id !== chatId || parent.kind !== CHAT_MESSAGE_KIND)) return refuseWith(this.ctx, "message_not_found");
    const rumor = parent
      ? replyRumor(this.ctx.keys.pubkey, { id: parent.id, pubkey: parent.sender }, text, this.ctx.now())
      : chatMessageRumor(this.ctx.keys.pubkey, text, [], this.ctx.now());
    this.ctx.store.transaction(() => {
      this.storePending(chatId, rumor);
      this.ctx.store.touchGroup(chatId, rumor.created_at);
    });
    this.changed();
    this.encryptAndPublish(chatId, rumor);
    return { ok: true };
  }

  react(chatId: string, messageId: string, emoji: string): DispatchReply {
    const target = this.ctx.store.getMessage(messageId);
    if (!target || target.group_id !== chatId || !this.registry.has(chatId)) return refuseWith(this.ctx, "message_not_found");
    const rumor = reactionRumor(this.ctx.keys.pubkey, { id: target.id, pubkey: target.sender, kind: target.kind }, emoji, this.ctx.now());
    this.storePending(chatId, rumor);
    this.changed();
    this.encryptAndPublish(chatId, rumor);
    return { ok: true };
  }

  /** A new text for one of our sent messages (kind 1009); shown at once, the original keeps its place. */
  edit(chatId: string, messageId: string, text: string): DispatchReply {
    const target = this.ownSentMessage(chatId, messageId);
    if (!("id" in target)) return target;
    const rumor = editRumor(this.ctx.keys.pubkey, target.id, text, this.ctx.now());
    this.storePending(chatId, rumor);
    this.changed();
    this.encryptAndPublish(chatId, rumor);
    return { ok: true };
  }

  /** Deletes one of our sent messages (kind 5): its text is erased here at once and the deletion sent. */
  delete(chatId: string, messageId: string): DispatchReply {
    const target = this.ownSentMessage(chatId, messageId);
    if (!("id" in target)) return target;
    const rumor = deletionRumor(this.ctx.keys.pubkey, { id: target.id, kind: target.kind }, this.ctx.now());
    this.ctx.store.transaction(() => {
      this.storePending(chatId, rumor);
      this.ctx.store.eraseMessage(chatId, target.id, this.ctx.keys.pubkey);
    });
    this.changed();
    this.encryptAndPublish(chatId, rumor);
    return { ok: true };
  }

  /** Our own chat message of this chat that relays accepted and we did not delete, or the refusal. */
  private ownSentMessage(chatId: string, messageId: string): MessageRow | DispatchReply {
    const target = this.ctx.store.getMessage(messageId);
    if (!target || target.group_id !== chatId || target.kind !== CHAT_MESSAGE_KIND || !this.registry.has(chatId)) return refuseWith(this.ctx, "message_not_found");
    if (target.sender !== this.ctx.keys.pubkey) return refuseWith(this.ctx, "message_not_yours");
    if (this.ctx.store.isDeleted(chatId, target.id, target.sender)) return refuseWith(this.ctx, "message_not_found");
    if (target.status !== "sent") return refuseWith(this.ctx, "message_not_sent");
    return target;
  }

  retry(chatId: string, messageId: string): DispatchReply {
    const message = this.ctx.store.getMessage(messageId);
    if (!message || message.group_id !== chatId) return refuseWith(this.ctx, "message_not_found");
    if (message.status !== "failed") return { ok: true };
    this.ctx.store.updateMessageStatus(messageId, "pending");
    this.changed();
    if (message.event_json) {
      void this.publish(chatId, messageId, JSON.parse(message.event_json) as Event);
    } else {
      const { id, sender: pubkey, created_at, kind, tags, content } = message;
      this.encryptAndPublish(chatId, { id, pubkey, created_at, kind, tags, content });
    }
    return { ok: true };
  }

  /** A relay came (back): what failed to go out, and was signed, goes out again. */
  retryFailed(): void {
    for (const message of this.ctx.store.listUnsentMessages()) {
      if (message.status === "failed" && message.event_json) this.retry(message.group_id, message.id);
    }
  }

  private storePending(chatId: string, rumor: Rumor): void {
    this.ctx.store.insertMessage({
      id: rumor.id,
      group_id: chatId,
      sender: rumor.pubkey,
      kind: rumor.kind,
      content: rumor.content,
      tags: rumor.tags,
      created_at: rumor.created_at,
      status: "pending",
    });
  }

  /** Encrypts in the group's current epoch, keeps the signed event for retries, then publishes. */
  private encryptAndPublish(chatId: string, rumor: Rumor): void {
    void this.registry.mls
      .run(async () => {
        const group = this.registry.get(chatId);
        if (!group || !this.ctx.live()) return null;
        const sent = await sendRumor(group.state, group.keys, rumor, this.ctx.now());
        group.state = sent.state;
        this.ctx.store.transaction(() => {
          this.ctx.store.markProcessed(sent.event.id, GROUP_EVENT_KIND, this.ctx.now());
          this.ctx.store.updateGroupState(chatId, serializeGroupState(sent.state), Number(sent.state.groupContext.epoch));
          this.ctx.store.setMessageEventJson(rumor.id, JSON.stringify(sent.event));
        });
        return sent.event;
      })
      .then(
        (event) => (event ? this.publish(chatId, rumor.id, event) : undefined),
        (error: unknown) => this.markFailed(rumor.id, describeError(error)),
      );
  }

  private async publish(chatId: string, messageId: string, event: Event): Promise<void> {
    const group = this.registry.get(chatId);
    // A burst of sends goes out a few at a time, so relays are not flooded past their timeouts.
    while (this.publishing >= MAX_PUBLISHES_IN_FLIGHT) await new Promise<void>((resolve) => this.publishSlots.push(resolve));
    this.publishing += 1;
    let outcome: Awaited<ReturnType<RelayPool["publish"]>>;
    try {
      outcome = await this.ctx.pool.publish(event, this.registry.publishRelays(group?.row));
    } finally {
      this.publishing -= 1;
      this.publishSlots.shift()?.();
    }
    if (!this.ctx.live()) return;
    if (outcome.accepted.length > 0) this.markSent(messageId);
    else this.markFailed(messageId, outcome.failed[0]?.reason ?? "no relay accepted it");
  }

  /** "sent" marks of a burst are stored together, in one transaction per tick. */
  private markSent(messageId: string): void {
    this.sentMarks.push(messageId);
    if (this.sentMarks.length > 1) return;
    this.ctx.later(0, () => {
      const ids = this.sentMarks.splice(0);
      this.ctx.store.transaction(() => {
        for (const id of ids) this.ctx.store.updateMessageStatus(id, "sent");
      });
      this.changed();
    });
  }

  private markFailed(messageId: string, reason: string): void {
    if (!this.ctx.live()) return;
    this.ctx.store.updateMessageStatus(messageId, "failed", reason);
    this.ctx.log({ event: "message_send_failed", reason });
    this.changed();
  }
}

