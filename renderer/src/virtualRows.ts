import { measureElement, type Virtualizer } from "@tanstack/react-virtual";

/**
 * Measures a virtualized row, except that a row in a hidden pane (display: none measures 0) keeps
 * its last size: taking the 0 would collapse the list and shift its scroll position on return.
 */
export function measureShownRow<TScroll extends Element>(element: Element, entry: ResizeObserverEntry | undefined, instance: Virtualizer<TScroll, Element>): number {
  const size = measureElement(element, entry, instance);
  if (size > 0) return size;
  const index = instance.indexFromElement(element);
  return instance.itemSizeCache.get(instance.options.getItemKey(index)) ?? instance.options.estimateSize(index);
}

/**
 * Whether two values are the same `depth` levels down: identical, or arrays / plain objects of the
 * same length whose items are the same one level further. Each push brings fresh copies of rows
 * that did not change; this tells them from changed ones at the cost of their few fields.
 */
export function sameDown(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (depth === 0 || typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every((key) => Object.hasOwn(b, key) && sameDown((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], depth - 1));
}

/** React.memo's comparison for a row: props, the row's data (a chat) and its parts (its peer) compared by value. */
export const sameRowProps = <P extends object>(previous: P, next: P): boolean => sameDown(previous, next, 3);
