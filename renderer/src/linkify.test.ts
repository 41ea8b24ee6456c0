import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { httpUrl, linkify, type TextPart } from "./linkify.js";

const links = (text: string): string[] => linkify(text).flatMap((part) => (part.kind === "link" ? [part.url] : []));
const joined = (parts: TextPart[]): string => parts.map((part) => part.text).join("");

describe("unit: linkify", () => {
  test("http_and_https_urls_become_links_and_the_text_around_them_stays", () => {
    const text = "see https://example.org/a?b=1#c and http://test.example:8080/x now";
    assert.deepEqual(linkify(text), [
      { kind: "text", text: "see " },
      { kind: "link", text: "https://example.org/a?b=1#c", url: "https://example.org/a?b=1#c" },
      { kind: "text", text: " and " },
      { kind: "link", text: "http://test.example:8080/x", url: "http://test.example:8080/x" },
      { kind: "text", text: " now" },
    ]);
    assert.deepEqual(links("HTTPS://Example.org"), ["https://example.org/"]);
  });

  test("other_schemes_stay_text", () => {
    for (const text of ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "file:///etc/passwd", "ftp://example.org", "mailto:a@example.org", "www.example.org", "xhttps://example.org"]) {
      assert.deepEqual(linkify(text), [{ kind: "text", text }], text);
    }
    assert.equal(httpUrl("javascript://example.org/%0aalert(1)"), null);
    assert.equal(httpUrl("https://"), null);
    assert.equal(httpUrl("https:///path"), "https://path/", "the URL parser's own reading, with a host");
  });

  test("sentence_punctuation_and_unmatched_closing_brackets_end_the_url", () => {
    assert.deepEqual(links("Go to https://example.org/page."), ["https://example.org/page"]);
    assert.deepEqual(links("(see https://example.org/a)"), ["https://example.org/a"]);
    assert.deepEqual(links("https://en.wikipedia.org/wiki/Rust_(language)!"), ["https://en.wikipedia.org/wiki/Rust_(language)"]);
    assert.deepEqual(links('"https://example.org/q"'), ["https://example.org/q"]);
    assert.deepEqual(links("https://example.org/a, https://example.org/b?"), ["https://example.org/a", "https://example.org/b"]);
  });

  test("the_parts_put_together_are_the_text", () => {
    for (const text of ["", "plain", "a https://x.org b https://y.org.", "https://x.org", "(https://x.org))", "https://\u202eevil.org"]) {
      assert.equal(joined(linkify(text)), text, text);
    }
  });

  test("a_link_shows_the_url_it_opens_normalized_by_the_url_parser", () => {
    const [part] = linkify("https://exa%6Dple.org/ä b").filter((p) => p.kind === "link");
    assert.equal(part?.kind, "link");
    assert.equal(part?.kind === "link" ? part.url : "", "https://example.org/%C3%A4");
  });
});
