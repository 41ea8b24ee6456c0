import { useId, type Ref } from "react";
import type { ChatSummary, OpenChatState } from "../../../shared/state";
import { openChatTitle, profileName } from "../format";
import { useDispatch } from "../hooks/useDispatch";
import { AgentBadge } from "./AgentBadge";
import { Composer, type ComposerHandle } from "./Composer";
import { MessageList } from "./MessageList";

interface ChatViewProps {
  chat: OpenChatState;
  /** Whether this is a chat with this account's agent, from its chat list entry. */
  agent: ChatSummary["agent"];
  composerRef?: Ref<ComposerHandle>;
}

/** The open chat, a region named by its title. Keyed by chat id by its parent, so a draft never leaks into another chat. */
export function ChatView({ chat, agent, composerRef }: ChatViewProps) {
  const dispatch = useDispatch();
  const titleId = useId();
  const members = chat.members.map(profileName).join(", ");
  const peer = chat.kind === "direct" ? chat.members[0] : undefined;
  return (
    <section className="chat-view" aria-labelledby={titleId}>
      <header className="chat-header">
        <div className="chat-heading">
          <div className="chat-title-line">
            <h2 id={titleId} className="chat-view-title">
              {openChatTitle(chat)}
            </h2>
            {agent && <AgentBadge agent={agent} />}
          </div>
          {chat.kind === "group" && (
            <p className="chat-subtitle" title={members}>
              {chat.members.length} {chat.members.length === 1 ? "member" : "members"}: {members}
            </p>
          )}
          {peer && (
            <p className="chat-subtitle mono" title={peer.npub}>
              {peer.npub}
            </p>
          )}
        </div>
        <button type="button" onClick={() => void dispatch({ type: "CloseChat" })}>
          Close chat
        </button>
      </header>
      <MessageList chatId={chat.chat_id} messages={chat.messages} hasOlder={chat.has_older} loadingOlder={chat.loading_older} />
      <Composer ref={composerRef} chatId={chat.chat_id} />
    </section>
  );
}
