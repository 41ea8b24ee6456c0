// The projection: the chat list, invitations and the open chat's message window, read from the
// store into the state once per tick; and the desktop notification for what just arrived.
import type { DispatchReply } from "../../../shared/actions.js";
import { toUserMessage } from "../../../shared/errors.js";
import { npubFromHex, shortNpub } from "../../../shared/pubkeys.js";
import type { ChatSummary, MessageView, ProfileView } from "../../../shared/state.js";
import type { CoreEvent } from "../../base/events.js";
import type { ChatRegistry } from "../../chats/registry.js";
import { SYSTEM_KIND, readSystemLine, type SystemLineData } from "../../chats/systemLines.js";
import { CHAT_MESSAGE_KIND } from "../../marmot/index.js";
import type { AccountContext } from "../../state/context.js";
import { refuseWith } from "../../state/requests.js";
import type { MessageRow } from "../../storage/accountStore.js";
import { nameOf, reactionViews, systemText } from "./views.js";

export class Projection {
  private openWindow: { chatId: string; limit: number } | null = null;
  private scheduled = false;

  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
  ) {}

  openChatId(): string | null {
    return this.openWindow?.chatId ?? null;
  }

  open(chatId: string): DispatchReply {
    if (!this.registry.has(chatId)) return refuseWith(this.ctx, "chat_not_found");
    this.openWindow = { chatId, limit: this.ctx.timings.messagePageSize };
    this.ctx.store.markRead(chatId);
    this.refresh();
    return { ok: true };
  }

  close(): DispatchReply {
    this.openWindow = null;
    this.ctx.update((s) => {
      s.open_chat = null;
    });
    return { ok: true };
  }

  /** One more page of older messages: `loading_older` until the page that holds them is in the state. */
  loadOlder(chatId: string): DispatchReply {
    if (this.openWindow?.chatId !== chatId) return { ok: false, error: toUserMessage("chat_not_open") };
    this.openWindow.limit += this.ctx.timings.messagePageSize;
    this.ctx.update((s) => {
      if (s.open_chat?.chat_id === chatId) s.open_chat.loading_older = true;
    });
    this.refresh();
    return { ok: true };
  }

  /** Re-reads the chat list, invites and the open chat's window from the store, once per tick. */
  refresh(): void {
    if (this.scheduled || !this.ctx.live()) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.ctx.live()) this.project();
    });
  }

  /** The newest message from someone else in an unmuted chat becomes the desktop notification. */
  notify(announced: CoreEvent[]): void {
    const flags = this.registry.flags();
    const last = announced.filter((e) => e.type === "message_received" && !e.message.mine && e.message.kind === CHAT_MESSAGE_KIND && !flags[e.chat_id]?.muted).at(-1);
    if (!last || last.type !== "message_received") return;
    const group = this.registry.get(last.chat_id);
    if (!group) return;
    const senderRow = this.ctx.store.getProfiles([last.message.sender]).get(last.message.sender);
    const sender = senderRow?.name ?? shortNpub(npubFromHex(last.message.sender));
    const title = group.row.kind === "direct" ? sender : group.row.name || "Group chat";
    const body = group.row.kind === "direct" ? last.message.text : `${sender}: ${last.message.text}`;
    this.ctx.update((s) => {
      s.notification = { seq: (s.notification?.seq ?? 0) + 1, chat_id: last.chat_id, title, body: body.slice(0, 200) };
    });
  }

  private project(): void {
    const store = this.ctx.store;
    const me = this.ctx.keys.pubkey;
    const summaries = store.listChatSummaries();
    const invites = store.listPendingInvites();
    const people = new Set<string>([me]);
    for (const s of summaries) for (const m of s.members) people.add(m);
    for (const i of invites) people.add(i.from_pubkey);
    const window = this.openWindow;
    const group = window ? this.registry.get(window.chatId) : undefined;
    const page = window && group ? store.listMessages(window.chatId, { limit: window.limit }) : null;
    const systemLines = new Map<string, SystemLineData>();
    for (const m of page?.messages ?? []) {
      people.add(m.sender);
      if (m.kind !== SYSTEM_KIND) continue;
      const line = readSystemLine(m.content);
      if (!line) continue;
      systemLines.set(m.id, line);
      for (const target of line.targets ?? []) people.add(target);
    }
    const reactions = new Map<string, MessageRow[]>();
    if (page && window) {
      const shown = new Set(page.messages.map((m) => m.id));
      for (const reaction of store.listReactions(window.chatId)) {
        const target = reaction.tags.filter((t) => t[0] === "e").at(-1)?.[1];
        if (target && shown.has(target)) reactions.set(target, [...(reactions.get(target) ?? []), reaction]);
      }
    }
    const profiles = store.getProfiles([...people]);
    const loadPictures = this.ctx.state().settings.load_pictures;
    const profile = (pubkey: string): ProfileView => {
      const row = profiles.get(pubkey);
      const picture = row?.picture ?? null;
      const pictureData = picture && loadPictures ? (store.getPicture(picture)?.data ?? null) : null;
      return { pubkey, npub: npubFromHex(pubkey), name: row?.name ?? null, picture, picture_data: pictureData };
    };
    const name = (pubkey: string | undefined): string => nameOf(profile, me, pubkey);
    const title = (kind: string, groupName: string, peer: string | null): string => {
      if (kind === "direct" && peer) {
        const p = profile(peer);
        return p.name ?? shortNpub(p.npub);
      }
      return groupName || "Unnamed group";
    };
    const flags = this.registry.flags();
    const agents = this.registry.agents();
    const agentMark = (peer: string | null): ChatSummary["agent"] => (peer && peer === agents.current ? "current" : peer && agents.past.includes(peer) ? "past" : null);
    const chats: ChatSummary[] = summaries.map((s) => ({
      id: s.id,
      kind: s.kind,
      title: title(s.kind, s.name, s.peer),
      members: s.members.filter((m) => m !== me).map(npubFromHex),
      peer: s.peer ? profile(s.peer) : null,
      last_message: s.last_message,
      last_message_at: s.last_message_at,
      unread: window?.chatId === s.id ? 0 : s.unread,
      updated_at: s.updated_at,
      agent: s.kind === "direct" ? agentMark(s.peer) : null,
      muted: flags[s.id]?.muted === true,
      left: flags[s.id]?.left === true,
    }));
    const toView = (m: MessageRow): MessageView => {
      const line = m.kind === SYSTEM_KIND ? systemLines.get(m.id) : undefined;
      return {
        id: m.id,
        kind: m.kind === SYSTEM_KIND ? "system" : "text",
        sender: profile(m.sender),
        mine: m.sender === me,
        text: line ? systemText(line, me, name) : m.content,
        created_at: m.created_at,
        status: m.status,
        error: m.error,
        reactions: m.kind === SYSTEM_KIND ? [] : reactionViews(reactions.get(m.id) ?? [], me),
      };
    };
    const chatFlags = window ? flags[window.chatId] : undefined;
    this.ctx.update((s) => {
      s.chats = chats;
      s.invites = invites.map((i) => ({ id: i.id, from: profile(i.from_pubkey), group_name: i.group_name, received_at: i.received_at }));
      s.open_chat =
        window && group && page
          ? {
              chat_id: window.chatId,
              kind: group.row.kind,
              title: title(group.row.kind, group.row.name, group.row.peer),
              description: group.row.description,
              // Once we left or were removed we are no member: the count is of those still in it.
              members: (chatFlags?.left ? group.row.members.filter((m) => m !== me) : group.row.members).map(profile),
              admins: group.row.admins,
              am_admin: group.row.admins.includes(me),
              muted: chatFlags?.muted === true,
              left: chatFlags?.left === true,
              removed_by: chatFlags?.left && chatFlags.removed_by ? profile(chatFlags.removed_by) : null,
              messages: page.messages.filter((m) => m.kind === CHAT_MESSAGE_KIND || m.kind === SYSTEM_KIND).map(toView),
              has_older: page.has_older,
              // The page read just now holds every older message asked for.
              loading_older: false,
            }
          : null;
    });
  }
}
