import { useState } from "react";
import type { ChatSummary } from "../../../shared/state";
import { chatTitle } from "../format";
import { Dialog } from "./Dialog";

interface ChatSwitcherProps {
  chats: ChatSummary[];
  onOpen: (chatId: string) => void;
  onClose: () => void;
}

const SHOWN = 20;

/** What a chat is found by: its title, its peer's name and the members' npubs. */
function matches(chat: ChatSummary, needle: string): boolean {
  const haystack = [chatTitle(chat), chat.peer?.name ?? "", chat.peer?.npub ?? "", ...chat.members].join("\n").toLowerCase();
  return needle.split(/\s+/).every((word) => haystack.includes(word));
}

/** Ctrl/Cmd+K: type part of a chat's name or a member's npub, Enter opens the first match. */
export function ChatSwitcher({ chats, onOpen, onClose }: ChatSwitcherProps) {
  const [filter, setFilter] = useState("");
  const needle = filter.trim().toLowerCase();
  const found = (needle === "" ? chats : chats.filter((chat) => matches(chat, needle))).slice(0, SHOWN);
  const open = (chatId: string): void => {
    onOpen(chatId);
    onClose();
  };
  return (
    <Dialog title="Switch to chat" className="chat-switcher" onCancel={onClose}>
      <input
        type="search"
        className="search-box"
        aria-label="Chat name or member"
        placeholder="Chat name or member"
        autoFocus
        maxLength={200}
        value={filter}
        onChange={(event) => setFilter(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && found[0]) {
            event.preventDefault();
            open(found[0].id);
          }
        }}
      />
      {found.length === 0 ? (
        <p className="empty">No chat matches</p>
      ) : (
        <ul aria-label="Matching chats" className="switcher-list">
          {found.map((chat) => (
            <li key={chat.id}>
              <button type="button" className="switcher-option" onClick={() => open(chat.id)}>
                {chatTitle(chat)}
              </button>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
