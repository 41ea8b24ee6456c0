import { useCallback, useEffect, useRef, type KeyboardEvent, type RefObject } from "react";

const ITEMS = "[data-roving]:not(:disabled)";

const NEXT: Record<string, (index: number, count: number) => number> = {
  ArrowRight: (i, n) => Math.min(i + 1, n - 1),
  ArrowDown: (i, n) => Math.min(i + 1, n - 1),
  ArrowLeft: (i) => Math.max(i - 1, 0),
  ArrowUp: (i) => Math.max(i - 1, 0),
  Home: () => 0,
  End: (_, n) => n - 1,
};

/**
 * One tab stop for every `[data-roving]` control inside the container (the messages' action and
 * reaction buttons): the one focused last, else the first shown; arrow keys, Home and End move
 * between them. Rows come and go while the list scrolls, so the tab stop is kept as they change.
 */
export function useRovingFocus(container: RefObject<HTMLElement | null>): (event: KeyboardEvent<HTMLElement>) => void {
  const current = useRef<HTMLElement | null>(null);

  const settle = useCallback(() => {
    const root = container.current;
    if (!root) return;
    const items = [...root.querySelectorAll<HTMLElement>(ITEMS)];
    const stop = current.current && items.includes(current.current) ? current.current : items[0];
    for (const item of items) item.tabIndex = item === stop ? 0 : -1;
  }, [container]);

  useEffect(() => {
    const root = container.current;
    if (!root) return;
    const onFocusIn = (event: FocusEvent): void => {
      if (event.target instanceof HTMLElement && event.target.matches(ITEMS)) {
        current.current = event.target;
        settle();
      }
    };
    root.addEventListener("focusin", onFocusIn);
    const observer = new MutationObserver(settle);
    observer.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["disabled"] });
    settle();
    return () => {
      root.removeEventListener("focusin", onFocusIn);
      observer.disconnect();
    };
  }, [container, settle]);

  return useCallback(
    (event: KeyboardEvent<HTMLElement>) => {
      const move = NEXT[event.key];
      const root = container.current;
      if (!move || !root || !(event.target instanceof HTMLElement) || !event.target.matches(ITEMS)) return;
      const items = [...root.querySelectorAll<HTMLElement>(ITEMS)];
      const index = items.indexOf(event.target);
      if (index === -1) return;
      event.preventDefault();
      items[move(index, items.length)]?.focus();
    },
    [container],
  );
}
