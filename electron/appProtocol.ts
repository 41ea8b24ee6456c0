// The app:// scheme the renderer is served from, instead of file:// (Electron security checklist).
// Plain Node, no Electron: main.ts registers the scheme and hands every request to the handler here.
import fs from "node:fs";
import path from "node:path";
import { CONTENT_SECURITY_POLICY } from "../shared/csp.js";

export const APP_SCHEME = "app";
export const APP_HOST = "burrow";
export const APP_INDEX_PATH = "/index.html";
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}${APP_INDEX_PATH}`;

/**
 * Standard: a real origin (app://burrow) for relative URLs, storage and same-origin rules; secure: a
 * secure context, as https would be; fetch support, which module scripts and `crossorigin` assets use.
 */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true } as const;

/** Every file the renderer build emits has one of these types; anything else is not served. */
const CONTENT_TYPES: ReadonlyMap<string, string> = new Map([
  [".html", "text/html; charset=utf-8"],
  [".js", "text/javascript; charset=utf-8"],
  [".mjs", "text/javascript; charset=utf-8"],
  [".css", "text/css; charset=utf-8"],
  [".json", "application/json; charset=utf-8"],
  [".txt", "text/plain; charset=utf-8"],
  [".svg", "image/svg+xml"],
  [".png", "image/png"],
  [".jpg", "image/jpeg"],
  [".jpeg", "image/jpeg"],
  [".gif", "image/gif"],
  [".webp", "image/webp"],
  [".avif", "image/avif"],
  [".ico", "image/x-icon"],
  [".woff", "font/woff"],
  [".woff2", "font/woff2"],
  [".ttf", "font/ttf"],
]);

/** The content type the handler serves a file under, or null for a file it refuses to serve. */
export function contentTypeFor(filePath: string): string | null {
  return CONTENT_TYPES.get(path.extname(filePath).toLowerCase()) ?? null;
}

/**
 * Our renderer page, and nothing else: the navigation guard and the IPC sender check accept only
 * this. A fragment is allowed (it does not leave the page); a query, another host, port or user is not.
 */
export function isAppIndexUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.hostname === APP_HOST &&
    parsed.port === "" &&
    parsed.username === "" &&
    parsed.password === "" &&
    parsed.pathname === APP_INDEX_PATH &&
    parsed.search === ""
  );
}

export interface AppRequest {
  readonly method: string;
  readonly url: string;
}

export interface AppResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | string;
}

export type AppRequestHandler = (request: AppRequest) => Promise<AppResponse>;

/** Backslashes, NUL, and encoded slash, backslash, NUL or percent never occur in a renderer asset's URL. */
const FORBIDDEN_IN_PATH = /\\|\0|%2f|%5c|%00|%25/i;
/** A `.` or `..` segment, plain or percent-encoded, checked before the URL parser would collapse it. */
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

const COMMON_HEADERS = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
} as const;

function refusal(status: number, reason: string, extra: Record<string, string> = {}): AppResponse {
  return { status, headers: { ...COMMON_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...extra }, body: reason };
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== "" && relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/** The decoded path segments of a request for `app://burrow/...`, or why the URL is refused. */
function requestedSegments(url: string): { ok: true; segments: string[] } | { ok: false; status: number; reason: string } {
  const prefix = `${APP_ORIGIN}/`;
  if (!url.startsWith(prefix)) return { ok: false, status: 403, reason: "Unknown host" };
  const rawPath = url.slice(prefix.length - 1).split(/[?#]/, 1)[0] ?? "";
  if (FORBIDDEN_IN_PATH.test(rawPath) || DOT_SEGMENT.test(rawPath)) return { ok: false, status: 400, reason: "Bad path" };
  const segments: string[] = [];
  for (const raw of rawPath.slice(1).split("/")) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400, reason: "Bad path" };
    }
    // An empty segment (`//etc/passwd`, a trailing slash) or a drive or stream name (`C:`, `a:b`) could name something outside the root.
    if (segment === "" || segment === "." || segment === ".." || /[/\\\0:]/.test(segment) || path.isAbsolute(segment)) {
      return { ok: false, status: 400, reason: "Bad path" };
    }
    segments.push(segment);
  }
  return { ok: true, segments };
}

/**
 * Serves GET requests for files under `root` (the renderer build), each with the CSP header and its
 * content type. Refused: other methods, other hosts, traversal in any spelling, and any path whose
 * real location (symlinks resolved) is outside the root.
 */
export function createAppRequestHandler(root: string): AppRequestHandler {
  return async ({ method, url }) => {
    if (method !== "GET") return refusal(405, "Method not allowed", { Allow: "GET" });
    const requested = requestedSegments(url);
    if (!requested.ok) return refusal(requested.status, requested.reason);
    // fs.promises is looked up per call: Electron patches it to read inside app.asar.
    const files = fs.promises;
    try {
      const realRoot = await files.realpath(root);
      const candidate = path.join(realRoot, ...requested.segments);
      if (!isInside(realRoot, candidate)) return refusal(400, "Bad path");
      const real = await files.realpath(candidate);
      if (!isInside(realRoot, real)) return refusal(403, "Outside the renderer");
      const contentType = contentTypeFor(real);
      if (contentType === null || !(await files.stat(real)).isFile()) return refusal(404, "Not found");
      const body = await files.readFile(real);
      return { status: 200, headers: { ...COMMON_HEADERS, "Content-Type": contentType }, body };
    } catch (error) {
      const code = errorCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return refusal(404, "Not found");
      return refusal(500, "Could not read the file");
    }
  };
}
