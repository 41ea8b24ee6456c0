import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from "@tanstack/react-virtual";
import { measureShownRow, sameDown, sameRowProps } from "./virtualRows.js";

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

describe("unit: row props compared by value", () => {
  const chat = () => ({
    id: "c1",
    kind: "direct",
    title: "",
    members: ["npub1a"],
    peer: { pubkey: "a", npub: "npub1a", name: "Ada", picture: null, picture_data: null },
    last_message: "hi",
    last_message_at: 10,
    unread: 0,
    muted: false,
  });
  const onOpen = (): void => undefined;
  const props = () => ({ index: 3, selected: false, now: 1_000, chat: chat(), onOpen });

  test("a_fresh_copy_of_an_unchanged_row_is_the_same", () => {
    assert.equal(sameRowProps(props(), props()), true);
  });

  test("a_change_anywhere_in_the_row_is_seen", () => {
    const changes: Array<(p: ReturnType<typeof props>) => void> = [
      (p) => (p.index = 4),
      (p) => (p.selected = true),
      (p) => (p.chat.last_message = "hello"),
      (p) => (p.chat.unread = 1),
      (p) => (p.chat.peer.name = "Ada L."),
      (p) => Object.assign(p.chat.peer, { picture_data: "data:image/png;base64,AA" }),
      (p) => (p.chat.members = ["npub1a", "npub1b"]),
      (p) => (p.chat.members[0] = "npub1b"),
      (p) => (p.onOpen = () => undefined),
      (p) => Object.assign(p.chat, { agent: "current" }),
    ];
    for (const change of changes) {
      const changed = props();
      change(changed);
      assert.equal(sameRowProps(props(), changed), false, String(change));
      assert.equal(sameRowProps(changed, props()), false, String(change));
    }
  });

  test("the_comparison_stops_at_its_depth", () => {
    assert.equal(sameDown({ a: { b: 1 } }, { a: { b: 1 } }, 2), true);
    assert.equal(sameDown({ a: { b: 1 } }, { a: { b: 1 } }, 1), false);
    assert.equal(sameDown([1, 2], { 0: 1, 1: 2 }, 2), false);
    assert.equal(sameDown(null, {}, 3), false);
  });
});
