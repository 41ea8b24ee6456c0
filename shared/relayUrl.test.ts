import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseAction } from "./actions.js";
import { MAX_RELAY_URL_BYTES, isRelayUrl, normalizeRelayUrl, normalizeRelayUrls, relayUrlProblem, sameRelayUrl } from "./relayUrl.js";

describe("unit: relay URLs", () => {
  test("accepts_ws_and_wss_urls_with_a_host", () => {
    for (const url of ["wss://relay.damus.io", "ws://127.0.0.1:7447", "wss://relay.example.com/nostr?x=1", "ws://[::1]:7447/", "wss://nos.lol/"]) {
      assert.ok(isRelayUrl(url), url);
    }
  });

  test("refuses_what_the_marmot_relay_url_profile_forbids_with_a_reason", () => {
    const cases: Record<string, RegExp> = {
      "https://relay.example.com": /must start with ws:\/\/ or wss:\/\//,
      "http://relay.example.com": /must start with ws:\/\/ or wss:\/\//,
      "relay.example.com": /must start with/,
      "wss://": /has no host/,
      "wss:///path": /has no host/,
      "wss://:443": /has no host/,
      "wss://user:pass@relay.example.com": /user name or password/,
      "wss://user@relay.example.com": /user name or password/,
      "wss://relay.example.com/#top": /fragment/,
      "wss://relay.example.com#": /fragment/,
      "wss://relay example.com": /spaces/,
      " wss://relay.example.com": /spaces/,
      "wss://relay.exämple.com": /non-ASCII/,
      "wss://relay.example.com:70000": /port above 65535/,
      "wss://relay.example.com:": /malformed host or port/,
      "wss://-bad.example.com": /malformed host/,
      "wss://relay.example.com/a%zz": /malformed path/,
      [`wss://relay.example.com/${"a".repeat(MAX_RELAY_URL_BYTES)}`]: /longer than 512 bytes/,
    };
    for (const [url, reason] of Object.entries(cases)) {
      assert.equal(isRelayUrl(url), false, url);
      assert.match(relayUrlProblem(url) ?? "", reason, url);
      assert.equal(normalizeRelayUrl(url), null, url);
    }
    const longest = `wss://relay.example.com/${"a".repeat(MAX_RELAY_URL_BYTES - "wss://relay.example.com/".length)}`;
    assert.equal(longest.length, MAX_RELAY_URL_BYTES);
    assert.ok(isRelayUrl(longest));
  });

  test("normal_form_drops_a_lone_trailing_slash_and_default_port_and_lowercases_scheme_and_host", () => {
    const cases: Array<[string, string]> = [
      ["ws://127.0.0.1:7447/", "ws://127.0.0.1:7447"],
      ["ws://127.0.0.1:7447", "ws://127.0.0.1:7447"],
      ["WSS://Relay.Example.COM/", "wss://relay.example.com"],
      ["wss://relay.example.com:443", "wss://relay.example.com"],
      ["ws://relay.example.com:80/", "ws://relay.example.com"],
      ["ws://relay.example.com:443", "ws://relay.example.com:443"],
      ["wss://relay.example.com/?a=B", "wss://relay.example.com?a=B"],
      ["wss://relay.example.com/Nostr/", "wss://relay.example.com/Nostr/"],
      ["ws://[::1]:7447/", "ws://[::1]:7447"],
    ];
    for (const [url, normal] of cases) assert.equal(normalizeRelayUrl(url), normal, url);
    assert.ok(sameRelayUrl("ws://127.0.0.1:7447", "ws://127.0.0.1:7447/"));
    assert.ok(!sameRelayUrl("wss://relay.example.com/a", "wss://relay.example.com/A"));
    assert.ok(!sameRelayUrl("http://x", "http://x"));
    assert.deepEqual(normalizeRelayUrls(["ws://127.0.0.1:7447/", "bogus", "WS://127.0.0.1:7447", "wss://b.example"]), ["ws://127.0.0.1:7447", "wss://b.example"]);
  });

  test("set_relays_refuses_an_invalid_url_with_its_reason_and_keeps_one_per_endpoint", () => {
    assert.deepEqual(parseAction({ type: "SetRelays", relays: ["ws://127.0.0.1:7447/", "ws://127.0.0.1:7447", "wss://Relay.One"] }), {
      ok: true,
      action: { type: "SetRelays", relays: ["ws://127.0.0.1:7447", "wss://relay.one"] },
    });
    const refused = parseAction({ type: "SetRelays", relays: ["wss://relay.one", "wss://me:secret@relay.two"] });
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? "" : refused.error, /^Malformed SetRelays: a relay URL must not contain a user name or password$/);
    assert.equal(parseAction({ type: "SetRelays", relays: ["http://relay.one"] }).ok, false);
  });
});
