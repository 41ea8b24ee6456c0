import { useState, type Ref } from "react";
import { MAX_SEARCH_QUERY_LENGTH } from "../../../shared/actions";
import { useDispatch } from "../hooks/useDispatch";

interface SearchBoxProps {
  label: string;
  /** Searches this chat only; every chat when absent. */
  chatId?: string;
  ref?: Ref<HTMLInputElement>;
  autoFocus?: boolean;
  /** Escape on an empty box. */
  onEscape?: () => void;
}

/** Searches the messages stored on this device as the user types; an empty box ends the search. */
export function SearchBox({ label, chatId, ref, autoFocus, onEscape }: SearchBoxProps) {
  const dispatch = useDispatch();
  const [query, setQuery] = useState("");
  const change = (value: string): void => {
    setQuery(value);
    if (value.trim() === "") void dispatch({ type: "ClearSearch" });
    else void dispatch({ type: "Search", query: value, ...(chatId === undefined ? {} : { chat_id: chatId }) });
  };
  return (
    <input
      ref={ref}
      type="search"
      className="search-box"
      aria-label={label}
      placeholder={label}
      maxLength={MAX_SEARCH_QUERY_LENGTH}
      autoFocus={autoFocus}
      value={query}
      onChange={(event) => change(event.target.value)}
      onKeyDown={(event) => {
        if (event.key !== "Escape") return;
        if (query === "") onEscape?.();
        else change("");
      }}
    />
  );
}
