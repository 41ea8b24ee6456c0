// The local spawner as its own service, JSON over HTTP on 127.0.0.1, so several server processes, the
// reaper and the demo share one view of the VMs. HttpSpawner is its client; a remote VM host only has
// to expose the same API. node:http rather than a framework: a handful of routes with exact control of
// body limits, status codes and error bodies.
//
//   GET    /health      200 {status: "ok"}
//   POST   /vms         CreateVmRequest → 201 {vm_id}
//   GET    /vms         200 {vms: VmInfo[]}
//   GET    /vms/:id     200 VmInfo, or 404 {error: "not_found"}
//   DELETE /vms/:id     204, or 404 {error: "not_found"}
//   GET    /faults      200 FaultConfig in force
//   PUT    /faults      FaultConfig → 200 FaultConfig (written to <dataDir>/faults.json)
//
// Errors are {error, message, request_id}; bodies are application/json up to 64 KiB. With a token,
// every request needs `Authorization: Bearer <token>`.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SpawnerError } from "../types.js";
import { errorMessage } from "./files.js";
import { parseFaultConfig } from "./faults.js";
import { LocalSpawner } from "./localSpawner.js";
import type { LocalSpawnerOptions } from "./localSpawner.js";
import { isLoopbackHost } from "./loopback.js";

export type ServiceErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "unsupported_media_type"
  | "create_failed"
  | "unavailable"
  | "internal";

export interface SpawnerServiceOptions extends LocalSpawnerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1; anything beyond loopback requires a token. */
  host?: string;
  /** Shared secret: requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Default 64 KiB. */
  maxBodyBytes?: number;
}

export interface RunningSpawnerService {
  url: string;
  port: number;
  spawner: LocalSpawner;
  /** Stops listening, then stops every agent (their records stay for the next start). */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: ServiceErrorCode,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  body?: unknown;
}

const SPAWNER_STATUS: Record<SpawnerError["code"], number> = { invalid_request: 400, create_failed: 503, unavailable: 503 };

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = new HttpFailure(413, "payload_too_large", `the body is over ${limit} bytes`, { connection: "close" });
  if (Number(req.headers["content-length"] ?? "0") > limit) return Promise.reject(tooLarge);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off("data", onData).off("end", onEnd).off("error", onError);
    };
    // Stops reading rather than destroying the request, so the 413 still reaches the client.
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      done();
      req.pause();
      reject(tooLarge);
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      done();
      reject(error);
    };
    req.on("data", onData).on("end", onEnd).on("error", onError);
  });
}

async function readJsonObject(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  // Also what keeps a web page from posting here: a cross-origin application/json request needs a preflight we never grant.
  if (type !== "application/json") throw new HttpFailure(415, "unsupported_media_type", "the body must be application/json", { connection: "close" });
  const body = await readBody(req, limit);
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpFailure(400, "invalid_request", "the body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new HttpFailure(400, "invalid_request", "the body must be a JSON object");
  return value;
}

function methodNotAllowed(allow: string): HttpFailure {
  return new HttpFailure(405, "method_not_allowed", `allowed: ${allow}`, { allow });
}

const notFound = (what: string): HttpFailure => new HttpFailure(404, "not_found", `no ${what}`);

export async function startSpawnerService(options: SpawnerServiceOptions): Promise<RunningSpawnerService> {
  const host = options.host ?? "127.0.0.1";
  const loopback = isLoopbackHost(host);
  const { token } = options;
  if (token !== undefined && token.length < 16) throw new Error("the spawner token must be at least 16 characters");
  if (!loopback && token === undefined) throw new Error(`listening on ${host} requires a token`);
  const tokenDigest = token === undefined ? null : digest(token);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log ?? (() => {});

  const spawner = new LocalSpawner(options);
  await spawner.start();

  const checkRequest = (req: IncomingMessage): void => {
    // A page on another site that rebinds its DNS name to 127.0.0.1 still sends its own name as Host.
    if (loopback) {
      const hostname = URL.canParse(`http://${req.headers.host ?? ""}`) ? new URL(`http://${req.headers.host ?? ""}`).hostname : "";
      if (!isLoopbackHost(hostname)) throw new HttpFailure(403, "forbidden", "the Host header must name a loopback address");
    }
    if (tokenDigest) {
      const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
      if (!match?.[1] || !timingSafeEqual(digest(match[1]), tokenDigest)) {
        throw new HttpFailure(401, "unauthorized", "a valid bearer token is required", { "www-authenticate": "Bearer" });
      }
    }
  };

  const route = async (req: IncomingMessage, path: string): Promise<Reply> => {
    const method = req.method ?? "GET";
    if (path === "/health") {
      if (method !== "GET") throw methodNotAllowed("GET");
      return { status: 200, body: { status: "ok" } };
    }
    if (path === "/vms") {
      if (method === "GET") return { status: 200, body: { vms: await spawner.list() } };
      if (method !== "POST") throw methodNotAllowed("GET, POST");
      // The request is validated (and its fields checked) by the spawner itself.
      const created = await spawner.create((await readJsonObject(req, maxBodyBytes)) as Parameters<LocalSpawner["create"]>[0]);
      return { status: 201, body: created };
    }
    const vmPath = /^\/vms\/([^/]+)$/.exec(path);
    if (vmPath) {
      let vmId: string;
      try {
        vmId = decodeURIComponent(vmPath[1] ?? "");
      } catch {
        throw notFound(`VM ${vmPath[1] ?? ""}`);
      }
      if (method === "GET") {
        const info = await spawner.status(vmId);
        if (!info) throw notFound(`VM ${vmId}`);
        return { status: 200, body: info };
      }
      if (method !== "DELETE") throw methodNotAllowed("GET, DELETE");
      if (!(await spawner.delete(vmId))) throw notFound(`VM ${vmId}`);
      return { status: 204 };
    }
    if (path === "/faults") {
      if (method === "GET") return { status: 200, body: await spawner.getFaults() };
      if (method !== "PUT") throw methodNotAllowed("GET, PUT");
      const config = parseFaultConfig(await readJsonObject(req, maxBodyBytes));
      if (typeof config === "string") throw new HttpFailure(400, "invalid_request", config);
      await spawner.setFaults(config);
      return { status: 200, body: config };
    }
    throw notFound(`route ${path}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const requestId = randomBytes(8).toString("hex");
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    let reply: Reply;
    let headers: OutgoingHttpHeaders = {};
    try {
      checkRequest(req);
      reply = await route(req, path);
    } catch (error) {
      if (error instanceof HttpFailure) {
        reply = { status: error.status, body: { error: error.code, message: error.message } };
        headers = error.headers;
      } else if (error instanceof SpawnerError) {
        reply = { status: SPAWNER_STATUS[error.code], body: { error: error.code, message: error.message } };
      } else {
        log({ event: "http_internal_error", request_id: requestId, message: errorMessage(error) });
        reply = { status: 500, body: { error: "internal", message: "internal error" } };
      }
      reply.body = { ...(reply.body as object), request_id: requestId };
    }
    const text = reply.body === undefined ? "" : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...headers,
      "x-request-id": requestId,
      "cache-control": "no-store",
      ...(text ? { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) } : {}),
    });
    res.end(text);
    log({ event: "http_request", request_id: requestId, method: req.method, path, status: reply.status, ms: Date.now() - started });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log({ event: "http_internal_error", message: errorMessage(error) });
      res.destroy();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await spawner.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    spawner,
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await spawner.close();
      })();
      return closing;
    },
  };
}
