// The renderer's Content Security Policy, one source for the page's meta tag (vite.config.ts),
// the browser host's header and the Electron adapter's header.

const PAGE_DIRECTIVES = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
];

/** For the meta tag: browsers ignore frame-ancestors there (and Chromium logs an error), so it is left to the header. */
export const CONTENT_SECURITY_POLICY_META = PAGE_DIRECTIVES.join("; ");

/** For HTTP headers. */
export const CONTENT_SECURITY_POLICY = [...PAGE_DIRECTIVES, "frame-ancestors 'none'"].join("; ");
