import type { ChatSummary, SearchState } from "../../../shared/state";
import { chatTitle, fullTime, isoTime, profileName, relativeTime } from "../format";
import { useDispatch } from "../hooks/useDispatch";
import { useNow } from "../hooks/useNow";

interface SearchResultsProps {
  search: SearchState;
  /** To name each result's chat. */
  chats: ChatSummary[];
}

/** The search's results, newest first; opening one opens its chat at the message. */
export function SearchResults({ search, chats }: SearchResultsProps) {
  const dispatch = useDispatch();
  const now = useNow(30_000);
  const titles = new Map(chats.map((chat) => [chat.id, chatTitle(chat)]));
  const count = search.results.length;
  return (
    <div className="search-results">
      <p role="status" className="search-count">
        {count === 0 ? "No messages found" : `${count}${search.has_more ? "+" : ""} ${count === 1 ? "message" : "messages"} found`}
      </p>
      {count > 0 && (
        <ul aria-label="Search results" className="search-list">
          {search.results.map((result) => (
            <li key={result.message_id}>
              <button
                type="button"
                className="search-result"
                onClick={() => void dispatch({ type: "OpenChat", chat_id: result.chat_id, message_id: result.message_id })}
              >
                <span className="search-result-line">
                  <span className="search-result-chat truncate">{titles.get(result.chat_id) ?? "Chat"}</span>
                  <time className="chat-time" dateTime={isoTime(result.created_at)} title={fullTime(result.created_at)}>
                    {relativeTime(result.created_at, now)}
                  </time>
                </span>
                <span className="search-result-text">
                  <span className="search-result-sender">{result.mine ? "You" : profileName(result.sender)}: </span>
                  {result.snippet.map((part, i) => (part.match ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {search.has_more && (
        <button type="button" className="small-button" onClick={() => void dispatch({ type: "LoadMoreSearchResults" })}>
          More results
        </button>
      )}
    </div>
  );
}
