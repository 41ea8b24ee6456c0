// The projection: the chat list, invitations and the open chat's message window, read from the
// store into the state once per tick; and the desktop notification for what just arrived.
import type { DispatchReply } from "../../../shared/actions.js";
import { toUserMessage } from "../../../shared/errors.js";
import { npubFromHex, shortNpub } from "../../../shared/pubkeys.js";
import { compareChats, type ChatSummary, type MessageView, type OpenChatState, type ProfileView } from "../../../shared/state.js";
import { mergeChats } from "../../../shared/statePush.js";
import { timed } from "../../base/stages.js";
import type { CoreEvent } from "../../base/events.js";
import type { ChatFlags, ChatRegistry } from "../../chats/registry.js";
import { SYSTEM_KIND, readSystemLine, type SystemLineData } from "../../chats/systemLines.js";
import { CHAT_MESSAGE_KIND, replyTarget, replyText } from "../../marmot/index.js";
import type { AccountContext } from "../../state/context.js";
import { jsonEqual } from "../../state/diffState.js";
import { refuseWith } from "../../state/requests.js";
import type { ChatSummaryRow, MessageRow, StoreChanges } from "../../storage/accountStore.js";
import { messageChanges, messageText, nameOf, reactionViews, replyQuote, systemText } from "./views.js";

/** The most messages a chat opens with to show its first unread one; older ones load as the reader scrolls up. */
export const UNREAD_WINDOW_MAX = 300;

/** More chats written than this since the last pass: the whole list is read again in one query. */
const WHOLE_LIST_AT = 500;

interface OpenWindow {
  chatId: string;
  limit: number;
  firstUnreadId: string | null;
  unreadAtOpen: number;
  /** The message to show and highlight (a search result, a quoted message). */
  focus: string | null;
}

export class Projection {
  private openWindow: OpenWindow | null = null;
  private scheduled = false;
  /** The chat list as last projected (by `compareChats`), by id, and what it was read with. */
  private listed: ChatSummary[] = [];
  private byId = new Map<string, ChatSummary>();
  private listedWith: { openId: string | null; flags: Readonly<Record<string, ChatFlags>>; agentsKey: string } | null = null;
  /** The window's bounds or focus changed: it is read again at the next pass. */
  private windowStale = true;
  private windowFlags: Readonly<Record<string, ChatFlags>> | null = null;
  /** Picture data by URL, read from the store once until it is written again (while pictures are on). */
  private readonly pictures = new Map<string, string | null>();
  private picturesOn = false;

  constructor(
    private readonly ctx: AccountContext,
    private readonly registry: ChatRegistry,
  ) {}

  openChatId(): string | null {
    return this.openWindow?.chatId ?? null;
  }

  /** With `messageId`, the window grows by whole pages until it holds that message (when the chat has it). */
  open(chatId: string, messageId?: string): DispatchReply {
    if (!this.registry.has(chatId)) return refuseWith(this.ctx, "chat_not_found");
    const holding = messageId === undefined ? null : this.windowHolding(chatId, messageId);
    // Opening the open chat again keeps its window and its "new messages" divider.
    if (this.openWindow?.chatId !== chatId) {
      const pageSize = this.ctx.timings.messagePageSize;
      const unread = this.ctx.store.firstUnread(chatId);
      // One message of context above the divider when it fits.
      const limit = unread ? Math.max(pageSize, Math.min(unread.window + 1, UNREAD_WINDOW_MAX)) : pageSize;
      this.openWindow = { chatId, limit, firstUnreadId: unread?.id ?? null, unreadAtOpen: unread?.unread ?? 0, focus: null };
    }
    // Opened at a message (a search result): the window reaches back to it, and it is the one shown.
    // Opened plainly, no message is singled out any more.
    if (holding !== null) this.openWindow.limit = Math.max(this.openWindow.limit, holding);
    this.openWindow.focus = holding === null ? null : (messageId ?? null);
    this.windowStale = true;
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
    this.windowStale = true;
    this.ctx.update((s) => {
      if (s.open_chat?.chat_id === chatId) s.open_chat = { ...s.open_chat, loading_older: true };
    });
    this.refresh();
    return { ok: true };
  }

  /** Grows the window by whole pages until `messageId` is in it, and names it as the one to show. */
  focus(chatId: string, messageId: string): DispatchReply {
    if (this.openWindow?.chatId !== chatId) return { ok: false, error: toUserMessage("chat_not_open") };
    const holding = this.windowHolding(chatId, messageId);
    if (holding === null) return refuseWith(this.ctx, "message_not_found");
    this.openWindow.limit = Math.max(this.openWindow.limit, holding);
    this.openWindow.focus = messageId;
    this.windowStale = true;
    this.refresh();
    return { ok: true };
  }

  /** The window, in whole pages, that reaches back to this chat message; null when the chat has no such message. */
  private windowHolding(chatId: string, messageId: string): number | null {
    const target = this.ctx.store.getMessage(messageId);
    if (target?.group_id !== chatId || target.kind !== CHAT_MESSAGE_KIND) return null;
    const page = this.ctx.timings.messagePageSize;
    return Math.max(1, Math.ceil(this.ctx.store.countMessagesSince(chatId, target) / page)) * page;
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
    const text = replyText(last.message.text);
    const body = group.row.kind === "direct" ? text : `${sender}: ${text}`;
    this.ctx.update((s) => {
      s.notification = { seq: (s.notification?.seq ?? 0) + 1, chat_id: last.chat_id, title, body: body.slice(0, 200) };
    });
  }

  private project(): void {
    const store = this.ctx.store;
    const changes = store.takeChanges();
    const loadPictures = this.ctx.state().settings.load_pictures;
    if (loadPictures !== this.picturesOn) this.pictures.clear();
    this.picturesOn = loadPictures;
    for (const url of changes.pictures) this.pictures.delete(url);
    const chats = timed("projection: chat list", () => this.projectChats(changes));
    const window = this.openWindow;
    const windowStale =
      this.windowStale || changes.messages || changes.people.size > 0 || (window !== null && changes.chats.has(window.chatId)) || this.registry.flags() !== this.windowFlags;
    const openChat = window && !windowStale ? undefined : timed("projection: open window", () => this.projectWindow());
    this.windowStale = false;
    this.windowFlags = this.registry.flags();
    const invites = store.listPendingInvites();
    const profile = this.profiles(invites.map((i) => i.from_pubkey));
    const live = this.ctx.state();
    const pictures = timed("projection: pictures", () => this.shownPictures(loadPictures, chats, openChat === undefined ? live.open_chat : openChat, live.pictures));
    this.ctx.update((s) => {
      s.chats = chats;
      s.invites = invites.map((i) => ({ id: i.id, from: profile(i.from_pubkey), group_name: i.group_name, received_at: i.received_at }));
      if (openChat !== undefined) s.open_chat = openChat;
      s.pictures = pictures;
    });
  }

  /** The fetched pictures of the listed chats' peers and the open chat's members; `held` itself when they are the same. */
  private shownPictures(loadPictures: boolean, chats: readonly ChatSummary[], openChat: OpenChatState | null, held: Record<string, string>): Record<string, string> {
    if (!loadPictures) return Object.keys(held).length === 0 ? held : {};
    const shown: Record<string, string> = {};
    const add = (url: string | null | undefined): void => {
      if (!url || Object.hasOwn(shown, url)) return;
      if (!this.pictures.has(url)) this.pictures.set(url, this.ctx.store.getPicture(url)?.data ?? null);
      const data = this.pictures.get(url);
      if (data) shown[url] = data;
    };
    for (const chat of chats) add(chat.peer?.picture);
    for (const member of openChat?.members ?? []) add(member.picture);
    const urls = Object.keys(shown);
    const same = urls.length === Object.keys(held).length && urls.every((url) => held[url] === shown[url]);
    return same ? held : shown;
  }

  /** A pass's profile views of `people`, read at once (anyone else on demand). */
  private profiles(people: Iterable<string>): (pubkey: string) => ProfileView {
    const store = this.ctx.store;
    const rows = store.getProfiles([...new Set(people)]);
    const views = new Map<string, ProfileView>();
    return (pubkey) => {
      let view = views.get(pubkey);
      if (!view) {
        const row = rows.get(pubkey) ?? store.getProfiles([pubkey]).get(pubkey);
        view = { pubkey, npub: npubFromHex(pubkey), name: row?.name ?? null, picture: row?.picture ?? null };
        views.set(pubkey, view);
      }
      return view;
    };
  }

  /**
   * The chat list: only the chats whose rows, peers, flags or agent marks changed are read again
   * (all of them at the first pass, or after many writes); an unchanged chat keeps its object.
   */
  private projectChats(changes: StoreChanges): ChatSummary[] {
    const store = this.ctx.store;
    const me = this.ctx.keys.pubkey;
    const flags = this.registry.flags();
    const agents = this.registry.agents();
    const agentsKey = JSON.stringify(agents);
    const openId = this.openWindow?.chatId ?? null;
    const last = this.listedWith;
    const agentMark = (peer: string | null): ChatSummary["agent"] => (peer && peer === agents.current ? "current" : peer && agents.past.includes(peer) ? "past" : null);
    let rows: ChatSummaryRow[];
    const gone: string[] = [];
    const whole = last === null || changes.chats.size > WHOLE_LIST_AT;
    if (whole) {
      rows = store.listChatSummaries();
    } else {
      const stale = new Set(changes.chats);
      if (openId !== last.openId) for (const id of [openId, last.openId]) if (id) stale.add(id);
      const recheck = flags !== last.flags || agentsKey !== last.agentsKey || changes.people.size > 0;
      for (const chat of recheck ? this.listed : []) {
        const peer = chat.peer;
        if (
          (flags !== last.flags && (chat.muted !== (flags[chat.id]?.muted === true) || chat.left !== (flags[chat.id]?.left === true))) ||
          (agentsKey !== last.agentsKey && chat.kind === "direct" && chat.agent !== agentMark(peer?.pubkey ?? null)) ||
          (peer && changes.people.has(peer.pubkey))
        ) {
          stale.add(chat.id);
        }
      }
      rows = [];
      for (const id of stale) {
        const row = store.chatSummary(id);
        if (row) rows.push(row);
        else if (this.byId.has(id)) gone.push(id);
      }
    }
    this.listedWith = { openId, flags, agentsKey };
    const profile = this.profiles(rows.flatMap((r) => (r.peer ? [r.peer] : [])));
    // A deleted message is blank; an edited one reads as its newest edit; a reply's first line is its parent's reference.
    const lastMessage = (s: ChatSummaryRow): string | null => {
      if (s.last_message === null || s.last_message_id === null || s.last_message_sender === null) return s.last_message;
      if (s.last_message === "") return "Message deleted";
      return store.latestEditText(s.id, s.last_message_id, s.last_message_sender) ?? replyText(s.last_message);
    };
    const put: ChatSummary[] = [];
    const next = new Map<string, ChatSummary>();
    for (const s of rows) {
      const peer = s.peer ? profile(s.peer) : null;
      const chat: ChatSummary = {
        id: s.id,
        kind: s.kind,
        title: s.kind === "direct" && peer ? (peer.name ?? shortNpub(peer.npub)) : s.name || "Unnamed group",
        members: s.members.filter((m) => m !== me).map(npubFromHex),
        peer,
        last_message: lastMessage(s),
        last_message_at: s.last_message_at,
        unread: openId === s.id ? 0 : s.unread,
        updated_at: s.updated_at,
        agent: s.kind === "direct" ? agentMark(s.peer) : null,
        muted: flags[s.id]?.muted === true,
        left: flags[s.id]?.left === true,
      };
      const before = this.byId.get(s.id);
      const kept = before && jsonEqual(before, chat) ? before : Object.freeze(chat);
      next.set(s.id, kept);
      if (kept !== before) put.push(kept);
    }
    if (whole) {
      this.byId = next;
      this.listed = [...next.values()].sort(compareChats);
    } else {
      for (const [id, chat] of next) this.byId.set(id, chat);
      for (const id of gone) this.byId.delete(id);
      this.listed = mergeChats(this.listed, put, gone);
    }
    return this.listed;
  }

  /** The open chat's window of messages, read again whole. */
  private projectWindow(): OpenChatState | null {
    const store = this.ctx.store;
    const me = this.ctx.keys.pubkey;
    const window = this.openWindow;
    const group = window ? this.registry.get(window.chatId) : undefined;
    if (!window || !group) return null;
    const page = store.listMessages(window.chatId, { limit: window.limit });
    const people = new Set<string>([me, ...group.row.members]);
    const systemLines = new Map<string, SystemLineData>();
    for (const m of page.messages) {
      people.add(m.sender);
      if (m.kind !== SYSTEM_KIND) continue;
      const line = readSystemLine(m.content);
      if (!line) continue;
      systemLines.set(m.id, line);
      for (const target of line.targets ?? []) people.add(target);
    }
    const changes = messageChanges(store.listMessageChanges(window.chatId));
    const inPage = new Map(page.messages.map((m) => [m.id, m]));
    const parents = new Map<string, MessageRow | null>();
    for (const m of page.messages) {
      const parentId = m.kind === CHAT_MESSAGE_KIND ? replyTarget(m.tags) : null;
      if (!parentId || parents.has(parentId)) continue;
      const parent = inPage.get(parentId) ?? store.getMessage(parentId);
      const same = parent && parent.group_id === m.group_id && parent.kind === CHAT_MESSAGE_KIND ? parent : null;
      parents.set(parentId, same);
      if (same) people.add(same.sender);
    }
    const reactions = new Map<string, MessageRow[]>();
    for (const reaction of store.listReactions(window.chatId)) {
      const target = reaction.tags.filter((t) => t[0] === "e").at(-1)?.[1];
      if (target && inPage.has(target)) reactions.set(target, [...(reactions.get(target) ?? []), reaction]);
    }
    const chatFlags = this.registry.flags()[window.chatId];
    if (chatFlags?.removed_by) people.add(chatFlags.removed_by);
    const profile = this.profiles(people);
    const name = (pubkey: string | undefined): string => nameOf(profile, me, pubkey);
    const toView = (m: MessageRow): MessageView => {
      const line = m.kind === SYSTEM_KIND ? systemLines.get(m.id) : undefined;
      const parentId = m.kind === CHAT_MESSAGE_KIND ? replyTarget(m.tags) : null;
      const deleted = m.kind === CHAT_MESSAGE_KIND && changes.deleted(m);
      return {
        id: m.id,
        kind: m.kind === SYSTEM_KIND ? "system" : "text",
        sender: profile(m.sender),
        mine: m.sender === me,
        text: line ? systemText(line, me, name) : m.kind === CHAT_MESSAGE_KIND ? messageText(m, changes) : m.content,
        created_at: m.created_at,
        status: m.status,
        error: m.error,
        reactions: m.kind === SYSTEM_KIND || deleted ? [] : reactionViews(reactions.get(m.id) ?? [], me),
        edited: m.kind === CHAT_MESSAGE_KIND && !deleted && changes.editedText(m) !== null,
        deleted,
        reply_to: parentId && !deleted ? replyQuote(parentId, parents.get(parentId) ?? null, changes, profile) : null,
      };
    };
    const kind = group.row.kind;
    const peer = kind === "direct" && group.row.peer ? profile(group.row.peer) : null;
    // Frozen: replaced by the next pass, never changed, so a push sends it as it is.
    return Object.freeze({
      chat_id: window.chatId,
      kind,
      title: peer ? (peer.name ?? shortNpub(peer.npub)) : group.row.name || "Unnamed group",
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
      focus_message_id: window.focus,
      first_unread_id: window.firstUnreadId,
      unread_at_open: window.unreadAtOpen,
    });
  }
}
