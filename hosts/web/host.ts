import { randomBytes, timingSafeEqual } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, readFile, rename, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { CONTRACT_VERSION, type StatePush } from "../../shared/state.js";
import { CONTENT_SECURITY_POLICY } from "../../shared/csp.js";
import { WS_PATH, type HostMessage } from "../../shared/ipc.js";
import type { AppCore, Logger } from "../../core/index.js";

export interface WebHostOptions {
  core: AppCore;
  rendererDir: string;
  /** 0 picks any free port. */
  port?: number;
  /** When `port` is taken, use any free port instead of failing (`portFallback` then says so). */
  fallbackToAnyPort?: boolean;
  /** Extra origins allowed to open the WebSocket, e.g. the Vite dev server's. */
  extraOrigins?: string[];
  /** Fixed token (tests, dev); a fresh random one otherwise. */
  token?: string;
  log?: Logger;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  /** The port asked for was busy, so another one was taken: open pages must be given the new link. */
  portFallback: { wanted: number; reason: string } | null;
  close(): Promise<void>;
}

const TOKEN_FILE = "web-token";
const PORT_FILE = "web-host.json";

/**
 * The access token of this data dir's browser host: kept in `<dataDir>/web-token` (mode 0600), so a
 * page opened before a restart of the host connects again.
 */
export async function persistentToken(dataDir: string): Promise<string> {
  const path = join(dataDir, TOKEN_FILE);
  const stored = (await readFile(path, "utf8").catch(() => "")).trim();
  if (/^[A-Za-z0-9_-]{32,128}$/.test(stored)) {
    await chmod(path, 0o600);
    return stored;
  }
  const token = randomBytes(24).toString("base64url");
  await writeFile(`${path}.tmp`, `${token}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
  return token;
}

/** The port this data dir's browser host used last (null before its first start). */
export async function rememberedPort(dataDir: string): Promise<number | null> {
  try {
    const { port } = JSON.parse(await readFile(join(dataDir, PORT_FILE), "utf8")) as { port?: unknown };
    return typeof port === "number" && Number.isInteger(port) && port > 0 && port <= 65535 ? port : null;
  } catch {
    return null;
  }
}

export async function rememberPort(dataDir: string, port: number): Promise<void> {
  const path = join(dataDir, PORT_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify({ port })}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

function listen(server: ReturnType<typeof createServer>, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (error: Error): void => reject(error);
    server.once("error", fail);
    server.listen(port, HOST, () => {
      server.off("error", fail);
      resolve();
    });
  });
}

const HOST = "127.0.0.1";
const MAX_FRAME_BYTES = 256 * 1024;
/** WebSocket close code for a refused access token (policy violation). */
export const REFUSED_CLOSE_CODE = 1008;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The browser host's transport: serves the built renderer and carries the same contract as
 * Electron's IPC over a WebSocket. No app logic lives here.
 */
export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const { core, rendererDir } = options;
  const log = options.log ?? (() => undefined);
  const token = options.token ?? randomBytes(24).toString("base64url");
  const server = createServer((req, res) => {
    serveStatic(rendererDir, req, res).catch((error: unknown) => {
      log({ event: "http_error", error: String(error) });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  const wanted = options.port ?? 0;
  let portFallback: WebHost["portFallback"] = null;
  try {
    await listen(server, wanted);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!options.fallbackToAnyPort || wanted === 0 || (code !== "EADDRINUSE" && code !== "EACCES")) throw error;
    portFallback = { wanted, reason: code === "EADDRINUSE" ? "it is in use" : "it is not allowed" };
    await listen(server, 0);
  }
  const port = (server.address() as AddressInfo).port;
  const allowedOrigins = new Set([`http://${HOST}:${port}`, `http://localhost:${port}`, ...(options.extraOrigins ?? [])]);

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", `http://${HOST}:${port}`);
    if (url.pathname !== WS_PATH) return refuseUpgrade(socket, 404, "Not Found");
    const origin = req.headers.origin;
    if (!origin || !allowedOrigins.has(origin)) {
      log({ event: "ws_refused", reason: "origin", origin: origin ?? null });
      return refuseUpgrade(socket, 403, "Forbidden");
    }
    if (!sameSecret(url.searchParams.get("token") ?? "", token)) {
      log({ event: "ws_refused", reason: "token" });
      // A browser cannot read an HTTP status from a failed upgrade, so a same-origin page with a
      // wrong token is told through a policy-violation close, before anything is sent to it.
      wss.handleUpgrade(req, socket, head, (ws) => ws.close(REFUSED_CLOSE_CODE, "bad token"));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  // One serialization per push, shared by every connection (a new one's whole state is its own).
  let encoded: { push: StatePush; text: string } | null = null;
  const encode = (push: StatePush): string => {
    if (encoded?.push !== push) encoded = { push, text: JSON.stringify({ t: "state", push } satisfies HostMessage) };
    return encoded.text;
  };
  const sendWhole = (ws: WebSocket): void => {
    const { rev, state } = core.snapshot();
    send(ws, { t: "state", push: { rev, snapshot: state } });
  };

  const send = (ws: WebSocket, message: HostMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };

  function attach(ws: WebSocket): void {
    log({ event: "ws_connected", clients: wss.clients.size });
    send(ws, { t: "hello", contract_version: CONTRACT_VERSION });
    const unsubscribe = core.subscribe((push) => {
      if (ws.readyState === ws.OPEN) ws.send("snapshot" in push ? JSON.stringify({ t: "state", push } satisfies HostMessage) : encode(push));
    });
    ws.on("message", (data: RawData, isBinary: boolean) => {
      void handleFrame(ws, data, isBinary);
    });
    ws.on("close", () => {
      unsubscribe();
      log({ event: "ws_closed", clients: wss.clients.size });
    });
    ws.on("error", (error) => log({ event: "ws_error", error: error.message }));
  }

  async function handleFrame(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    let message: unknown;
    try {
      message = isBinary ? undefined : JSON.parse(data.toString());
    } catch {
      message = undefined;
    }
    const frame = typeof message === "object" && message !== null ? (message as Record<string, unknown>) : {};
    if (frame["t"] === "snapshot") return sendWhole(ws);
    const id = frame["t"] === "dispatch" && typeof frame["id"] === "number" ? frame["id"] : null;
    // Anything malformed still reaches the core's validation, which refuses it with an error toast.
    const reply = await core.dispatch(id === null ? message : frame["action"]);
    if (id !== null) send(ws, { t: "reply", id, reply });
  }

  return {
    url: `http://${HOST}:${port}/#token=${token}`,
    port,
    token,
    portFallback,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD" }).end();
    return;
  }
  const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://host").pathname);
  const relative = normalize(pathname).replace(/^([/\\])+/, "");
  let file = join(root, relative);
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) {
    res.writeHead(403).end();
    return;
  }
  let info = await stat(file).catch(() => null);
  if (!info || info.isDirectory()) {
    // Single-page app: unknown paths get the index.
    file = join(root, "index.html");
    info = await stat(file).catch(() => null);
  }
  if (!info) {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("The renderer is not built. Run: npm run build");
    return;
  }
  const type = CONTENT_TYPES[extname(file)] ?? "application/octet-stream";
  res.writeHead(200, {
    "Content-Type": type,
    "Content-Length": info.size,
    "Cache-Control": type.startsWith("text/html") ? "no-store" : "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}
