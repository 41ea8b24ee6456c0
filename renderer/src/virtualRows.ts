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
