import { useMemo } from "react";
import { linkify } from "../linkify";

/**
 * A message's text with its http(s) links; the parts are text nodes. A link opens only through
 * `onOpenLink` (which shows the full URL first), never by the browser following it.
 */
export function MessageText({ text, onOpenLink }: { text: string; onOpenLink: (url: string) => void }) {
  const parts = useMemo(() => linkify(text), [text]);
  return (
    <p className="message-text" dir="auto">
      {parts.map((part, index) =>
        part.kind === "text" ? (
          part.text
        ) : (
          <a
            key={index}
            href={part.url}
            className="message-link"
            title={part.url}
            rel="noopener noreferrer"
            onClick={(event) => {
              event.preventDefault();
              onOpenLink(part.url);
            }}
            onAuxClick={(event) => event.preventDefault()}
          >
            {part.text}
          </a>
        ),
      )}
    </p>
  );
}
