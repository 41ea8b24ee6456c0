// Sending: a message, reply, reaction, edit or deletion is stored as pending first (shown at once), encrypted in the
// group's current epoch with its signed event kept for retries, then published a few at a time, in the order typed.
//
// A burst costs a few transactions per tick, not per message: the pending rows of a tick are stored together; the
// MLS queue encrypts up to SEND_CHUNK messages in one turn and stores each group's state once; their kind 445s are
// signed as one batch in the crypto pool (fresh keys made there) and stored in one transaction; the "sent" marks of a
// tick are stored together. Invariant (crash safety): a group's state after an encryption is committed before the event carrying
// that ciphertext is published, so a restart never reuses a ratchet generation; the event id is marked processed
// (its echo is skipped) and the event kept for retries before it is published too. A message shows as sent only
// once a relay accepted it.
import type { Event } from "nostr-tools/core";
import type { DispatchReply } from "../../../shared/actions.js";
import { toUserMessage } from "../../../shared/errors.js";
import { SerialQueue } from "../../base/serialQueue.js";
import type { ChatRegistry, LoadedGroup } from "../../chats/registry.js";
import {
  CHAT_MESSAGE_KIND,
  GROUP_EVENT_KIND,
  chatMessageRumor,
  deletionRumor,
  editRumor,
  reactionRumor,
  replyRumor,
  sealRumor,
  serializeGroupState,
  sharedCryptoPool,
  type EventTemplate,
  type Rumor,
} from "../../marmot/index.js";
import { describeError } from "../../marmot/errors.js";
import type { RelayPool } from "../../relays/pool.js";
import type { AccountContext } from "../../state/context.js";
import type { MessageRow } from "../../storage/accountStore.js";
import { refuseWith } from "../../state/requests.js";

const MAX_PUBLISHES_IN_FLIGHT = 64;
/** Messages encrypted in one turn of the MLS queue (other MLS work waits no longer than this), signed as one batch. */
const SEND_CHUNK = 64;
/** Chunks encrypted and not yet accepted or failed: enough to keep the pool and the relays busy, few enough that a crash strands little. */
const CHUNKS_AHEAD = 4;

interface Outgoing {
  chatId: string;
  rumor: Rumor;
}

interface Sealed extends Outgoing {
  template: EventTemplate;
}

export class Messages {
  private publishing = 0;
  /** Publishes waiting for a slot, first come first served: events leave in the order they were encrypted. */
  private readonly publishSlots: Array<() => void> = [];
  private readonly sentMarks: string[] = [];
  /** This tick's new messages: their pending rows (and what goes with them) are stored together. */
  private readonly typed: Array<Outgoing & { alsoStore?: (() => void) | undefined }> = [];
  /** Waiting for the MLS queue, in the order typed. */
  private readonly toEncrypt: Outgoing[] = [];
  private encrypting = false;
  /** Chunks encrypted whose publishes have not all settled. */
  private chunksAhead = 0;
  /** Encrypted chunks, signed and published one after another, in the order they were encrypted. */
  private readonly signing = new SerialQueue();

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
    this.sendNew(chatId, rumor, () => this.ctx.store.touchGroup(chatId, rumor.created_at));
    return { ok: true };
  }

  react(chatId: string, messageId: string, emoji: string): DispatchReply {
    const target = this.ctx.store.getMessage(messageId);
    if (!target || target.group_id !== chatId || !this.registry.has(chatId)) return refuseWith(this.ctx, "message_not_found");
    const rumor = reactionRumor(this.ctx.keys.pubkey, { id: target.id, pubkey: target.sender, kind: target.kind }, emoji, this.ctx.now());
    this.sendNew(chatId, rumor);
    return { ok: true };
  }

  /** A new text for one of our sent messages (kind 1009); shown at once, the original keeps its place. */
  edit(chatId: string, messageId: string, text: string): DispatchReply {
    const target = this.ownSentMessage(chatId, messageId);
    if (!("id" in target)) return target;
    const rumor = editRumor(this.ctx.keys.pubkey, target.id, text, this.ctx.now());
    this.sendNew(chatId, rumor);
    return { ok: true };
  }

  /** Deletes one of our sent messages (kind 5): its text is erased here at once and the deletion sent. */
  delete(chatId: string, messageId: string): DispatchReply {
    const target = this.ownSentMessage(chatId, messageId);
    if (!("id" in target)) return target;
    const rumor = deletionRumor(this.ctx.keys.pubkey, { id: target.id, kind: target.kind }, this.ctx.now());
    this.sendNew(chatId, rumor, () => this.ctx.store.eraseMessage(chatId, target.id, this.ctx.keys.pubkey));
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
      this.toEncrypt.push({ chatId, rumor: { id, pubkey, created_at, kind, tags, content } });
      this.encryptNext();
    }
    return { ok: true };
  }

  /** A relay came (back): what failed to go out, and was signed, goes out again. */
  retryFailed(): void {
    for (const message of this.ctx.store.listUnsentMessages()) {
      if (message.status === "failed" && message.event_json) this.retry(message.group_id, message.id);
    }
  }

  /** Stored as pending at the end of this tick, with `alsoStore`'s writes, then encrypted and published. */
  private sendNew(chatId: string, rumor: Rumor, alsoStore?: () => void): void {
    this.typed.push({ chatId, rumor, alsoStore });
    if (this.typed.length > 1) return;
    this.ctx.later(0, () => {
      const typed = this.typed.splice(0);
      try {
        this.ctx.store.transaction(() => {
          for (const { chatId: group_id, rumor: r, alsoStore: also } of typed) {
            this.ctx.store.insertMessage({ id: r.id, group_id, sender: r.pubkey, kind: r.kind, content: r.content, tags: r.tags, created_at: r.created_at, status: "pending" });
            also?.();
          }
        });
      } catch (error) {
        // Nothing of the tick was stored, so nothing of it is sent: the user sees the failure, as a refused dispatch would show it.
        this.ctx.log({ event: "message_store_failed", error: describeError(error) });
        this.ctx.toast("error", toUserMessage("internal", describeError(error)));
        return;
      }
      this.toEncrypt.push(...typed.map(({ chatId: id, rumor: r }) => ({ chatId: id, rumor: r })));
      this.changed();
      this.encryptNext();
    });
  }

  /** One turn of the MLS queue at a time: other MLS work (received messages, commits) runs between chunks. */
  private encryptNext(): void {
    if (this.encrypting || this.chunksAhead >= CHUNKS_AHEAD || this.toEncrypt.length === 0 || !this.ctx.live()) return;
    this.encrypting = true;
    const chunk = this.toEncrypt.splice(0, SEND_CHUNK);
    void this.registry.mls.run(() => this.encrypt(chunk)).then(
      (sealed) => {
        this.encrypting = false;
        if (sealed.length > 0) this.signAndPublish(sealed);
        this.encryptNext();
      },
      (error: unknown) => {
        this.encrypting = false;
        for (const { rumor } of chunk) this.markFailed(rumor.id, describeError(error));
        this.encryptNext();
      },
    );
  }

  /** Encrypts in each group's current epoch, in order; then stores each group's state once (before anything leaves). */
  private async encrypt(chunk: Outgoing[]): Promise<Sealed[]> {
    if (!this.ctx.live()) return [];
    const sealed: Sealed[] = [];
    const advanced = new Map<string, LoadedGroup>();
    for (const item of chunk) {
      const group = this.registry.get(item.chatId);
      if (!group) continue;
      try {
        const out = await sealRumor(group.state, group.keys, item.rumor, this.ctx.now());
        group.state = out.state;
        advanced.set(item.chatId, group);
        sealed.push({ ...item, template: out.template });
      } catch (error) {
        this.markFailed(item.rumor.id, describeError(error));
      }
    }
    this.ctx.store.transaction(() => {
      for (const [chatId, { state }] of advanced) this.ctx.store.updateGroupState(chatId, serializeGroupState(state), Number(state.groupContext.epoch));
    });
    return sealed;
  }

  /** Signs the chunk's kind 445s in the pool while the next chunk is encrypted; stored and published after the chunks before it. */
  private signAndPublish(sealed: Sealed[]): void {
    const signed = sharedCryptoPool().signFresh(sealed.map((item) => item.template));
    // Awaited in its turn; until then a rejection is not unhandled.
    signed.catch(() => undefined);
    this.chunksAhead += 1;
    const settled = (): void => {
      this.chunksAhead -= 1;
      this.encryptNext();
    };
    void this.signing.run(() => this.storeAndPublish(sealed, signed, settled));
  }

  /** The signed events are stored (for retries; their echoes skipped), then published in order; `settled` once all are answered. */
  private async storeAndPublish(sealed: Sealed[], signed: Promise<Event[]>, settled: () => void): Promise<void> {
    let events: Event[];
    try {
      events = await signed;
      if (!this.ctx.live()) return settled();
      this.ctx.store.transaction(() => {
        events.forEach((event, i) => {
          this.ctx.store.markProcessed(event.id, GROUP_EVENT_KIND, this.ctx.now());
          this.ctx.store.setMessageEventJson(sealed[i]!.rumor.id, JSON.stringify(event));
        });
      });
    } catch (error) {
      for (const { rumor } of sealed) this.markFailed(rumor.id, describeError(error));
      return settled();
    }
    void Promise.all(events.map((event, i) => this.publish(sealed[i]!.chatId, sealed[i]!.rumor.id, event))).finally(settled);
  }

  private async publish(chatId: string, messageId: string, event: Event): Promise<void> {
    const group = this.registry.get(chatId);
    // A burst of sends goes out a few at a time, so relays are not flooded past their timeouts; a freed slot
    // passes to the longest waiting publish, so none overtakes another.
    if (this.publishing >= MAX_PUBLISHES_IN_FLIGHT || this.publishSlots.length > 0) await new Promise<void>((resolve) => this.publishSlots.push(resolve));
    else this.publishing += 1;
    let outcome: Awaited<ReturnType<RelayPool["publish"]>>;
    try {
      outcome = await this.ctx.pool.publish(event, this.registry.publishRelays(group?.row));
    } finally {
      const next = this.publishSlots.shift();
      if (next) next();
      else this.publishing -= 1;
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

