// Splits message text into plain text and http(s) links. Only what starts with http:// or
// https:// and parses as such a URL becomes a link; everything else (javascript:, data:, file:…)
// stays text. The renderer shows the parts as text nodes, never as HTML.

export type TextPart = { kind: "text"; text: string } | { kind: "link"; text: string; url: string };

/** A candidate runs to the next space or character that cannot end a URL in running text. */
const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/giu;
/** Punctuation that ends a sentence rather than the URL. */
const TRAILING = /[.,;:!?…]+$/u;
const CLOSING: Record<string, string> = { ")": "(", "]": "[", "}": "{" };

/** Drops trailing punctuation, and closing brackets that have no opening one inside the URL ("(see https://x.org/a)"). */
function trimEnd(candidate: string): string {
  let text = candidate;
  for (;;) {
    const trimmed = text.replace(TRAILING, "");
    const last = trimmed.at(-1);
    const opening = last === undefined ? undefined : CLOSING[last];
    if (opening !== undefined && count(trimmed, last!) > count(trimmed, opening)) {
      text = trimmed.slice(0, -1);
      continue;
    }
    return trimmed;
  }
}

function count(text: string, char: string): number {
  let n = 0;
  for (const c of text) if (c === char) n += 1;
  return n;
}

/** The URL a link opens, or null when the text is not an http(s) URL with a host. */
export function httpUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") return null;
  return url.href;
}

export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let rest = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const candidate = trimEnd(match[0]);
    const url = httpUrl(candidate);
    if (url === null) continue;
    if (match.index > rest) parts.push({ kind: "text", text: text.slice(rest, match.index) });
    parts.push({ kind: "link", text: candidate, url });
    rest = match.index + candidate.length;
  }
  if (rest < text.length) parts.push({ kind: "text", text: text.slice(rest) });
  return parts;
}
