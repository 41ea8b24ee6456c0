// Relay URLs: the Marmot relay URL profile (marmot-protocol/marmot transports/nostr.md) and the one
// normal form Burrow connects to and compares by. Hand-parsed: shared/ has no WHATWG `URL`.
//
// Profile: absolute ws:// or wss://, a host, no user/password, no fragment, at most 512 UTF-8 bytes.
// Burrow also requires printable ASCII (hosts in punycode, anything else percent-encoded).
//
// Normal form: scheme and host lowercased, the default port (ws 80, wss 443) dropped, and a lone
// "/" path dropped: RFC 6455 requests "/" for an empty path, so `ws://h` and `ws://h/` are the same
// endpoint. Any other path and the query are kept byte for byte. Only connections and comparisons
// use it; a URL inside signed data (group data, KeyPackage and Welcome tags) is never rewritten.

export const MAX_RELAY_URL_BYTES = 512;

interface RelayUrlParts {
  scheme: "ws" | "wss";
  host: string;
  port: string | undefined;
  /** Path and query, as written. */
  rest: string;
}

const REG_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i;
const IP_LITERAL = /^\[[0-9a-f:.]+\]$/i;
const PATH_AND_QUERY = /^(?:\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*)?(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$/;

function parse(value: string): RelayUrlParts | string {
  if (!/^[\x21-\x7e]*$/.test(value)) return "contains spaces, control or non-ASCII characters";
  // ASCII only, so one byte per character.
  if (value.length > MAX_RELAY_URL_BYTES) return `is longer than ${MAX_RELAY_URL_BYTES} bytes`;
  const scheme = /^(wss?):\/\//i.exec(value);
  if (!scheme?.[1]) return "must start with ws:// or wss://";
  if (value.includes("#")) return "must not have a fragment (#)";
  const afterScheme = value.slice(scheme[0].length);
  const authorityEnd = afterScheme.search(/[/?]/);
  const authority = authorityEnd === -1 ? afterScheme : afterScheme.slice(0, authorityEnd);
  const rest = authorityEnd === -1 ? "" : afterScheme.slice(authorityEnd);
  if (authority.includes("@")) return "must not contain a user name or password";
  const hostPort = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(authority);
  const host = hostPort?.[1];
  if (!hostPort || host === undefined) return "has a malformed host or port";
  if (host === "") return "has no host";
  if (!REG_NAME.test(host) && !IP_LITERAL.test(host)) return "has a malformed host";
  const port = hostPort[2];
  if (port !== undefined && Number(port) > 65_535) return "has a port above 65535";
  if (!PATH_AND_QUERY.test(rest)) return "has a malformed path or query";
  return { scheme: scheme[1].toLowerCase() as "ws" | "wss", host: host.toLowerCase(), port, rest };
}

/** Why `value` is not a relay URL under the profile ("has no host", …), or null when it is one. */
export function relayUrlProblem(value: string): string | null {
  const parsed = parse(value);
  return typeof parsed === "string" ? parsed : null;
}

/** A relay URL under the Marmot relay URL profile. */
export function isRelayUrl(value: string): boolean {
  return typeof parse(value) !== "string";
}

/** The normal form of a relay URL (see the top of this file), or null when it is not one. */
export function normalizeRelayUrl(value: string): string | null {
  const parsed = parse(value);
  if (typeof parsed === "string") return null;
  const defaultPort = parsed.scheme === "wss" ? "443" : "80";
  const port = parsed.port === undefined || Number(parsed.port) === Number(defaultPort) ? "" : `:${Number(parsed.port)}`;
  const rest = parsed.rest.startsWith("/?") || parsed.rest === "/" ? parsed.rest.slice(1) : parsed.rest;
  return `${parsed.scheme}://${parsed.host}${port}${rest}`;
}

/** The valid ones among `values`, in normal form, each once, in first-seen order. */
export function normalizeRelayUrls(values: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const value of values) {
    const normal = normalizeRelayUrl(value);
    if (normal !== null) seen.add(normal);
  }
  return [...seen];
}

/** Both are relay URLs naming the same endpoint. */
export function sameRelayUrl(a: string, b: string): boolean {
  const normal = normalizeRelayUrl(a);
  return normal !== null && normal === normalizeRelayUrl(b);
}
