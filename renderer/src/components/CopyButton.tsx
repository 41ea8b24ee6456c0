import { useClipboard } from "../hooks/useClipboard";

const FEEDBACK = { copied: "Copied", failed: "Copy failed" } as const;

export function CopyButton({ label, text }: { label: string; text: string }) {
  const [result, copy] = useClipboard();
  return (
    <span className="copy">
      <button type="button" onClick={() => copy(text)}>
        {label}
      </button>
      <span role="status" className="copy-feedback">
        {result && FEEDBACK[result]}
      </span>
    </span>
  );
}
