// Direct chats: one per peer. A new one is a group of two made on the common commit path, once our
// own KeyPackage is out (the peer could not answer otherwise).
import type { DispatchReply } from "../../../shared/actions.js";
import { toUserMessage } from "../../../shared/errors.js";
import { parsePubkeyInput } from "../../../shared/pubkeys.js";
import type { Commits } from "../../chats/commits.js";
import type { ChatRegistry } from "../../chats/registry.js";
import type { AccountContext, Step } from "../../state/context.js";
import { outcome, refuse, refuseWith, withBusy } from "../../state/requests.js";

export interface DirectChatPorts {
  /** Resolves once our KeyPackage is published (key packages). */
  keyPackageReady(): Promise<void>;
  /** Opens a chat (projection). */
  openChat(chatId: string): DispatchReply;
  /** Something shown changed (projection). */
  changed(): void;
}

export class DirectChats {
  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
    private readonly commits: Commits,
    private readonly ports: DirectChatPorts,
  ) {}

  create(peerInput: string, requestId?: number): DispatchReply {
    const parsed = parsePubkeyInput(peerInput);
    if (!parsed.ok) return refuse(this.ctx, parsed.error, requestId);
    if (parsed.pubkey === this.ctx.keys.pubkey) return refuseWith(this.ctx, "own_key", requestId);
    const existing = this.ctx.store.findDirectGroup(parsed.pubkey);
    if (existing) {
      const reply = this.ports.openChat(existing.id);
      outcome(this.ctx, requestId, reply.ok ? null : reply.error);
      return reply;
    }
    if (this.ctx.state().busy.creating_chat) return refuseWith(this.ctx, "chat_busy", requestId);
    return withBusy(this.ctx, {
      flag: "creating_chat",
      kind: "create_chat",
      work: (step) => this.openOrCreate(parsed.pubkey, step),
      failure: "chat_create_failed",
      requestId,
      done: (chatId) => (chatId ? this.ports.openChat(chatId) : this.ports.changed()),
    });
  }

  /** The direct chat with `peer`: the existing one, or a new one once our own KeyPackage is out. */
  async openOrCreate(peer: string, step: Step): Promise<string> {
    const existing = this.ctx.store.findDirectGroup(peer);
    if (existing) return existing.id;
    await this.ports.keyPackageReady();
    step.check();
    const member = await this.commits.fetchKeyPackage(peer);
    step.check();
    return this.registry.mls.run(async () => {
      const again = this.ctx.store.findDirectGroup(peer);
      if (again) return again.id;
      const { groupId, undelivered } = await this.commits.createGroup({
        members: [member],
        kind: "direct",
        name: "",
        admins: [peer],
        peer,
        notAccepted: "chat_not_accepted",
      });
      const missed = undelivered[0];
      if (missed) this.ctx.toast("error", toUserMessage("invite_not_delivered", missed.reason));
      this.ctx.log({ event: "chat_created", chat: groupId.slice(0, 8), invite_delivered: undelivered.length === 0 });
      return groupId;
    });
  }
}
