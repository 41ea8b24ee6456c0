import { useCallback, useEffect, useRef, useState } from "react";

export type CopyResult = "copied" | "failed" | null;

const FEEDBACK_MS = 1_500;

/** Copies text and reports the outcome briefly, for a "Copied" hint beside the button. */
export function useClipboard(): [CopyResult, (text: string) => void] {
  const [result, setResult] = useState<CopyResult>(null);
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => () => window.clearTimeout(timer.current), []);

  const copy = useCallback((text: string) => {
    const show = (outcome: Exclude<CopyResult, null>): void => {
      window.clearTimeout(timer.current);
      setResult(outcome);
      timer.current = window.setTimeout(() => setResult(null), FEEDBACK_MS);
    };
    if (!navigator.clipboard) {
      show("failed");
      return;
    }
    navigator.clipboard.writeText(text).then(
      () => show("copied"),
      () => show("failed"),
    );
  }, []);

  return [result, copy];
}
