import { useId, useState, type Ref } from "react";
import type { ChatSummary, MessageView, OpenChatState, ProfileView, RequestOutcome, SearchState } from "../../../shared/state";
import { openChatTitle, profileName } from "../format";
import { useDispatch } from "../hooks/useDispatch";
import { AgentBadge } from "./AgentBadge";
import { Avatar } from "./Avatar";
import { Composer, type ComposerHandle, type ComposerTarget } from "./Composer";
import { MembersPanel } from "./MembersPanel";
import { MessageList } from "./MessageList";
import { SearchBox } from "./SearchBox";
import { SearchResults } from "./SearchResults";

interface ChatViewProps {
  chat: OpenChatState;
  /** Whether this is a chat with this account's agent, from its chat list entry. */
  agent: ChatSummary["agent"];
  /** Our own identity, for the member list. */
  me: ProfileView;
  /** busy.updating_group: a group commit is on its way. */
  updatingGroup: boolean;
  /** Outcomes of the group forms' own requests, shown inline by them. */
  outcomes: RequestOutcome[];
  composerRef?: Ref<ComposerHandle>;
  /** The running search: shown here when it is of this chat. */
  search: SearchState | null;
  chats: ChatSummary[];
}

/**
 * "3 members: Alice, Bob and you", counting us whether or not the core lists us among the members;
 * once we left or were removed, only those still in it ("2 members: Alice, Bob").
 */
function memberSummary(members: ProfileView[], me: ProfileView, left: boolean): string {
  const others = members.filter((member) => member.pubkey !== me.pubkey).map(profileName);
  const count = others.length + (left ? 0 : 1);
  const names = left ? others.join(", ") || "no one" : others.length > 0 ? `${others.join(", ")} and you` : "only you";
  return `${count} ${count === 1 ? "member" : "members"}: ${names}`;
}

/** Why the composer is gone: we left, or someone removed us. */
function leftText(chat: OpenChatState): string {
  if (chat.removed_by) return `You were removed from this group by ${profileName(chat.removed_by)}; its history stays here.`;
  return chat.kind === "group" ? "You left this group; its history stays here." : "You are no longer in this chat; its history stays here.";
}

/** The open chat, a region named by its title. Keyed by chat id by its parent, so a draft never leaks into another chat. */
export function ChatView({ chat, agent, me, updatingGroup, outcomes, composerRef, search, chats }: ChatViewProps) {
  const dispatch = useDispatch();
  const titleId = useId();
  const panelId = useId();
  const [membersOpen, setMembersOpen] = useState(false);
  const [searchOpen, setSearchOpen] = useState(false);
  const closeSearch = (): void => {
    setSearchOpen(false);
    if (search?.scope === chat.chat_id) void dispatch({ type: "ClearSearch" });
  };
  const [target, setTarget] = useState<ComposerTarget | null>(null);
  const compose = (mode: "reply" | "edit", message: MessageView): void => setTarget({ mode, message });
  const group = chat.kind === "group";
  const members = group ? memberSummary(chat.members, me, chat.left) : "";
  // The core lists every member, us included (first, on the creator's side): the header shows the other party.
  const peer = chat.kind === "direct" ? chat.members.find((member) => member.pubkey !== me.pubkey) : undefined;
  return (
    <section className="chat-view" aria-labelledby={titleId}>
      <header className="chat-header">
        <div className="chat-heading">
          <div className="chat-title-line">
            {peer && <Avatar profile={peer} size={28} />}
            <h2 id={titleId} className="chat-view-title truncate">
              {openChatTitle(chat, me.pubkey)}
            </h2>
            {agent && <AgentBadge agent={agent} />}
          </div>
          {group && chat.description && (
            <p className="chat-description truncate" title={chat.description}>
              {chat.description}
            </p>
          )}
          {group && (
            <p className="chat-subtitle truncate" title={members}>
              {members}
            </p>
          )}
          {peer && (
            <p className="chat-subtitle mono truncate" title={peer.npub}>
              {peer.npub}
            </p>
          )}
        </div>
        <div className="chat-actions">
          <button type="button" aria-expanded={searchOpen} onClick={() => (searchOpen ? closeSearch() : setSearchOpen(true))}>
            Search in chat
          </button>
          {group && (
            <button type="button" aria-expanded={membersOpen} aria-controls={membersOpen ? panelId : undefined} onClick={() => setMembersOpen((open) => !open)}>
              Members
            </button>
          )}
          {!chat.left && (
            <button type="button" onClick={() => void dispatch({ type: "SetChatMuted", chat_id: chat.chat_id, muted: !chat.muted })}>
              {chat.muted ? "Unmute notifications" : "Mute notifications"}
            </button>
          )}
          <button type="button" onClick={() => void dispatch({ type: "CloseChat" })}>
            Close chat
          </button>
        </div>
      </header>
      {searchOpen && (
        <div className="chat-search">
          <SearchBox label="Search this chat" chatId={chat.chat_id} autoFocus onEscape={closeSearch} />
          {search?.scope === chat.chat_id && <SearchResults search={search} chats={chats} />}
        </div>
      )}
      <div className="chat-body">
        <MessageList
          chatId={chat.chat_id}
          messages={chat.messages}
          hasOlder={chat.has_older}
          loadingOlder={chat.loading_older}
          canReact={!chat.left}
          focusId={chat.focus_message_id}
          onCompose={compose}
          firstUnreadId={chat.first_unread_id}
          unreadAtOpen={chat.unread_at_open}
        />
        {group && membersOpen && <MembersPanel id={panelId} chat={chat} me={me} updating={updatingGroup} outcomes={outcomes} />}
      </div>
      {chat.left ? (
        <p role="note" className="left-note">
          {leftText(chat)}
        </p>
      ) : (
        <Composer ref={composerRef} chatId={chat.chat_id} target={target} onClearTarget={() => setTarget(null)} />
      )}
    </section>
  );
}
