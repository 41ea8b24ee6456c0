import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from "@tanstack/react-virtual";
import { measureShownRow } from "./virtualRows.js";

const ESTIMATE = 72;

/** A list of three rows, not mounted: measuring reads only the rows and the size cache. */
function rows(): Virtualizer<HTMLDivElement, Element> {
  return new Virtualizer<HTMLDivElement, Element>({
    count: 3,
    getScrollElement: () => null,
    estimateSize: () => ESTIMATE,
    getItemKey: (index) => `m${index}`,
    scrollToFn: elementScroll,
    observeElementRect,
    observeElementOffset,
  });
}

/** A row element as the list renders it: `data-index` and a rendered height (0 while its pane is hidden). */
const row = (index: number, offsetHeight: number): Element => ({ getAttribute: (name: string) => (name === "data-index" ? String(index) : null), offsetHeight }) as unknown as Element;

const entry = (blockSize: number): ResizeObserverEntry => ({ borderBoxSize: [{ blockSize, inlineSize: 300 }] }) as unknown as ResizeObserverEntry;

describe("unit: virtualized row measuring", () => {
  test("a_shown_row_measures_its_rendered_size", () => {
    const list = rows();
    assert.equal(measureShownRow(row(0, 0), entry(120.4), list), 120);
    assert.equal(measureShownRow(row(1, 95), undefined, list), 95);
  });

  test("a_hidden_row_keeps_its_last_measured_size", () => {
    const list = rows();
    list.getVirtualItems();
    list.resizeItem(1, 140);
    assert.equal(list.itemSizeCache.get("m1"), 140);
    assert.equal(measureShownRow(row(1, 0), entry(0), list), 140);
  });

  test("a_hidden_row_never_measured_takes_the_estimate_not_zero", () => {
    const list = rows();
    assert.equal(measureShownRow(row(2, 0), entry(0), list), ESTIMATE);
  });
});
