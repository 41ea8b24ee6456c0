import type { ChatSummary } from "../../../shared/state";

export function ChatList({ chats }: { chats: ChatSummary[] }) {
  if (chats.length === 0) return <p className="empty">No chats yet</p>;
  return (
    <ul role="list" aria-label="Chats" className="chat-list">
      {chats.map((chat) => (
        <li key={chat.id} className="chat">
          <span className="chat-title">{chat.title}</span>
          {chat.unread > 0 && (
            <span className="badge">
              {chat.unread}
              <span className="visually-hidden"> unread</span>
            </span>
          )}
          <span className="chat-last">{chat.last_message ?? "No messages yet"}</span>
        </li>
      ))}
    </ul>
  );
}
