import { useClipboard } from "../hooks/useClipboard";

/** Copies a message's text; says "Copied" (or that copying failed) for a moment. */
export function CopyMessageButton({ text }: { text: string }) {
  const [result, copy] = useClipboard();
  return (
    <button type="button" className="message-action" data-roving="" title="Copy message" onClick={() => copy(text)}>
      {result === "copied" ? "Copied" : result === "failed" ? "Copy failed" : "Copy"}
    </button>
  );
}
