// The agent API over HTTP. node:http rather than a framework: three routes, and we want exact control
// of body limits, status codes and error bodies (PROTOCOL.md) with no extra dependency to keep current.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { nip19 } from "nostr-tools";
import { AGENT_API_ROUTES, type AgentApiCall, type AgentApiErrorCode, type AgentApiResponseBody } from "../../../shared/agentApi.js";
import type { AgentStore } from "../store/agentStore.js";
import type { AgentService, Log, ServiceResult } from "./agentService.js";
import { verifyHttpAuth } from "./nip98.js";

export interface AgentHttpOptions {
  service: AgentService;
  store: AgentStore;
  host?: string;
  port?: number;
  /** The base URL clients reach us at (NIP-98 `u` tags are checked against it); default http://host:port. */
  publicUrl?: string;
  maxBodyBytes?: number;
  /** Per owner: ensure/recover calls allowed per window. */
  burstLimit?: number;
  burstWindowMs?: number;
  log?: Log;
}

export interface RunningAgentApi {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: AgentApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) throw new HttpFailure(413, "payload_too_large", `body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpFailure(413, "payload_too_large", `body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Bodies are optional; when present they must be a JSON object sent as application/json. */
function checkJsonBody(req: IncomingMessage, body: Uint8Array): void {
  if (body.length === 0) return;
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new HttpFailure(400, "invalid_request", "body must be application/json");
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new HttpFailure(400, "invalid_request", "body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpFailure(400, "invalid_request", "body must be a JSON object");
}

/** A fixed window counter per owner: bounds storms of ensure/recover from one account. */
class BurstLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Seconds to wait, or 0 when the call may go ahead. */
  take(key: string, now = Date.now()): number {
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
      if (this.windows.size > 10_000) {
        for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
      }
    }
    window.count += 1;
    return window.count > this.limit ? Math.ceil((window.start + this.windowMs - now) / 1000) : 0;
  }
}

export async function startAgentApi(options: AgentHttpOptions): Promise<RunningAgentApi> {
  const log = options.log ?? (() => undefined);
  const host = options.host ?? "127.0.0.1";
  const maxBody = options.maxBodyBytes ?? 16 * 1024;
  const limiter = new BurstLimiter(options.burstLimit ?? 30, options.burstWindowMs ?? 60_000);
  let publicUrl = options.publicUrl?.replace(/\/+$/, "") ?? "";

  // Every body is the agent API's (PROTOCOL.md) but the health check's.
  const send = (res: ServerResponse, status: number, body: AgentApiResponseBody | { status: "ok"; request_id: string }, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-store", ...headers });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<{ status: number; owner?: string }> => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = req.method ?? "GET";
    if (path === "/health" && method === "GET") {
      send(res, 200, { status: "ok", request_id: requestId });
      return { status: 200 };
    }
    const call = (Object.keys(AGENT_API_ROUTES) as AgentApiCall[]).find((name) => AGENT_API_ROUTES[name].path === path);
    if (!call) throw new HttpFailure(404, "invalid_request", `no route ${path}`);
    const expected = AGENT_API_ROUTES[call].method;
    if (method !== expected) throw new HttpFailure(405, "invalid_request", `${path} takes ${expected}`);
    const body = await readBody(req, maxBody);
    const auth = await verifyHttpAuth({ header: req.headers.authorization, url: `${publicUrl}${req.url ?? ""}`, method, body, store: options.store });
    if (!auth.ok) throw new HttpFailure(401, "unauthorized", auth.reason);
    checkJsonBody(req, body);
    const owner = nip19.npubEncode(auth.pubkey);
    if (method === "POST") {
      const wait = limiter.take(owner);
      if (wait > 0) {
        send(res, 429, { error: "rate_limited", request_id: requestId }, { "Retry-After": String(wait) });
        return { status: 429, owner };
      }
    }
    const result: ServiceResult = await options.service[call](owner);
    if ("body" in result) {
      send(res, result.status, { ...result.body, request_id: requestId });
    } else {
      const headers: Record<string, string> = result.error === "rate_limited" ? { "Retry-After": String(result.retryAfterSec) } : {};
      send(res, result.status, { error: result.error, request_id: requestId }, headers);
    }
    return { status: result.status, owner };
  };

  const server = createServer((req, res) => {
    const requestId = randomBytes(8).toString("hex");
    const started = Date.now();
    res.setHeader("X-Request-Id", requestId);
    handle(req, res, requestId).then(
      ({ status, owner }) => log({ event: "request", request_id: requestId, method: req.method, path: req.url, status, ms: Date.now() - started, ...(owner ? { owner } : {}) }),
      (error: unknown) => {
        const failure = error instanceof HttpFailure ? error : new HttpFailure(500, "internal", error instanceof Error ? error.message : String(error));
        log({ event: "request", request_id: requestId, method: req.method, path: req.url, status: failure.status, ms: Date.now() - started, error: failure.code, detail: failure.message });
        if (!res.headersSent) send(res, failure.status, { error: failure.code, request_id: requestId }, failure.status === 413 ? { Connection: "close" } : {});
        // Stop reading an oversize body we will not use.
        if (failure.status === 413) req.destroy();
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  if (!publicUrl) publicUrl = url;
  return {
    url: publicUrl,
    port,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
