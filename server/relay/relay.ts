// The embedded Nostr relay of the local stack: @nostr-relay/core over WebSocket, events in SQLite.
// EVENTs take the batched path of ingest.ts; REQ, CLOSE and AUTH are the library's.
import { availableParallelism } from "node:os";
import { EventKind, EventType, EventUtils, createOutgoingNoticeMessage, createOutgoingOkMessage } from "@nostr-relay/common";
import type { Event, Filter, IncomingMessage, Logger, OutgoingMessage } from "@nostr-relay/common";
import { NostrRelay } from "@nostr-relay/core";
import { EventRepositorySqlite } from "@nostr-relay/event-repository-sqlite";
import { Validator } from "@nostr-relay/validator";
import { WebSocketServer } from "ws";
import type { RawData, WebSocket } from "ws";
import { CryptoPool, initNostrCrypto } from "../../core/marmot/index.js";
import { LiveDelivery } from "./delivery.js";
import { DEFAULT_INGEST_LIMITS, Ingest } from "./ingest.js";
import type { IngestLimits } from "./ingest.js";

export type RelayLogLine = Record<string, unknown> & { event: string };

export interface RelayOptions {
  /** 0 picks any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** SQLite file; ':memory:' (the default) keeps nothing across restarts. */
  dbPath?: string;
  log?: (line: RelayLogLine) => void;
  /** Largest EVENT frame accepted; a larger one gets OK false. */
  maxEventBytes?: number;
  /**
   * An event dated more than this many seconds ahead of the relay's clock gets OK false; any past
   * date is accepted. Default 900. Tests raise it to stand in for public relays that store any created_at.
   */
  maxFutureSeconds?: number;
  /** The relay's clock in milliseconds since the epoch; default Date.now. */
  now?: () => number;
  /** Bounds of the events waiting for their OK; an event over them gets OK false "rate-limited:". */
  ingestLimits?: Partial<IngestLimits>;
}

export interface RunningRelay {
  url: string;
  port: number;
  close(): Promise<void>;
}

// MLS commits and welcomes of larger groups, gift-wrapped and base64-encoded, outgrow
// the 64 KiB some public relays allow (strfry's default).
const DEFAULT_MAX_EVENT_BYTES = 256 * 1024;
// Frames up to this much above maxEventBytes are read and answered; larger ones close the
// connection (ws status 1009) without being buffered.
const FRAME_HEADROOM_BYTES = 1024 * 1024;
// The library evicts a client's oldest subscription, silently, once it holds this many.
const MAX_SUBSCRIPTIONS_PER_CLIENT = 256;
const CLOSE_GRACE_MS = 2000;
export const DEFAULT_MAX_FUTURE_SECONDS = 15 * 60;
export const FUTURE_EVENT_REFUSAL = "invalid: created_at too far in the future";

/** A `--max-future-seconds` value: a whole number of seconds, or null when it is not one. */
export function parseMaxFutureSeconds(text: string): number | null {
  const seconds = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(seconds) ? seconds : null;
}

export async function startRelay(options: RelayOptions = {}): Promise<RunningRelay> {
  await initNostrCrypto();
  const host = options.host ?? "127.0.0.1";
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const maxFutureSeconds = options.maxFutureSeconds ?? DEFAULT_MAX_FUTURE_SECONDS;
  if (!Number.isInteger(maxFutureSeconds) || maxFutureSeconds < 0) throw new Error(`maxFutureSeconds must be a non-negative integer, got ${maxFutureSeconds}`);
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});

  // Pages of up to 5,000 stored events (default 500 when a REQ names no limit): a member back from a
  // night offline catches up in a few requests.
  const repository = new BurrowEventRepository(options.dbPath ?? ":memory:", { defaultLimit: 500 });
  await repository.init();

  const delivery = new LiveDelivery();
  // NIP-42 stays off (no `hostname`), and with it NIP-70: the library does not look at the
  // `["-"]` tag, so protected events (Marmot marks its own) are accepted from anyone. That is
  // right for a local development relay without AUTH, and wrong for a public one.
  const relay = new NostrRelay(repository, {
    logger: libraryLogger(log),
    maxSubscriptionsPerClient: MAX_SUBSCRIPTIONS_PER_CLIENT,
    // The cache of query results answers from before the latest write: a REQ repeated within a
    // second would miss a just-stored event.
    filterResultCacheTtl: 0,
  });
  relay.register(delivery);
  const validator = new Validator({ maxContentLength: maxEventBytes });
  const eventSchema = validator.getEventSchema();
  // Signature checks are most of an event's cost and the main thread only a small part: one worker per
  // core, and the scheduler shares the cores between them and the main thread.
  const pool = new CryptoPool({ size: availableParallelism() });
  pool.warmUp();
  const ingest = new Ingest<WebSocket>(
    {
      db: repository.getDatabase(),
      pool,
      answer: (ws, eventId, success, message) => send(ws, createOutgoingOkMessage(eventId, success, message)),
      deliver: (events) => delivery.deliver(events),
      deleteByRequest: (request) => repository.deleteByDeletionRequest(request),
      log,
    },
    { ...DEFAULT_INGEST_LIMITS, ...options.ingestLimits },
  );

  /**
   * Refuses events dated too far ahead, before anything is stored or delivered: one stored that way
   * would sort first under every `until`-less query for years, and replaceable ones could never be
   * replaced. Holds for every EVENT (stored, ephemeral, deletion), before the signature check.
   */
  function submitEvent(ws: WebSocket, event: Event, bytes: number): void {
    if (event.created_at - Math.floor(now() / 1000) > maxFutureSeconds) {
      send(ws, createOutgoingOkMessage(event.id, false, FUTURE_EVENT_REFUSAL));
    } else if (event.kind === EventKind.AUTHENTICATION) {
      // As the library: an AUTH event sent as EVENT is acknowledged, neither stored nor delivered.
      send(ws, createOutgoingOkMessage(event.id, true));
    } else {
      ingest.submit(ws, event, bytes);
    }
  }

  async function handleFrame(ws: WebSocket, data: RawData): Promise<void> {
    const frame = toBuffer(data);
    let parsed: unknown;
    try {
      parsed = JSON.parse(frame.toString("utf8"));
    } catch {
      send(ws, createOutgoingNoticeMessage("invalid: malformed JSON"));
      return;
    }
    if (!Array.isArray(parsed)) {
      send(ws, createOutgoingNoticeMessage("invalid: a message must be a JSON array"));
      return;
    }
    if (frame.length > maxEventBytes && eventIdOf(parsed) !== undefined) {
      refuse(ws, parsed, `invalid: event is larger than ${maxEventBytes} bytes`);
      return;
    }
    // The common case checked synchronously by the validator's own event schema; anything it refuses
    // goes through the whole message schema, for the library's exact message.
    if (parsed[0] === "EVENT" && parsed.length === 2) {
      const checked = eventSchema.safeParse(parsed[1]);
      if (checked.success) {
        submitEvent(ws, checked.data, frame.length);
        return;
      }
    }
    let message: IncomingMessage;
    try {
      message = await validator.validateIncomingMessage(parsed);
    } catch (error) {
      refuse(ws, parsed, errorMessage(error));
      return;
    }
    if (message[0] === "EVENT") {
      submitEvent(ws, message[1], frame.length);
      return;
    }
    // A REQ sees the connection's own earlier events stored.
    await ingest.settled(ws);
    await relay.handleMessage(ws, message);
  }

  // Frames of one connection are handled in order, so a CLOSE cannot overtake its REQ.
  const queues = new Map<WebSocket, Promise<void>>();
  const wss = new WebSocketServer({ host, port: options.port ?? 0, maxPayload: maxEventBytes + FRAME_HEADROOM_BYTES });
  wss.on("connection", (ws, request) => {
    relay.handleConnection(ws, request.socket.remoteAddress);
    queues.set(ws, Promise.resolve());
    ws.on("message", (data: RawData) => {
      const queue = (queues.get(ws) ?? Promise.resolve()).then(() =>
        handleFrame(ws, data).catch((error: unknown) => {
          log({ event: "relay_handler_error", message: errorMessage(error) });
          send(ws, createOutgoingNoticeMessage("error: internal error"));
        }),
      );
      queues.set(ws, queue);
    });
    ws.on("close", () => {
      relay.handleDisconnect(ws);
      delivery.forget(ws);
      void queues.get(ws)?.then(() => queues.delete(ws));
    });
    ws.on("error", (error) => log({ event: "relay_client_error", message: error.message }));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
  } catch (error) {
    await pool.close();
    await repository.destroy();
    throw error;
  }
  wss.on("error", (error) => log({ event: "relay_server_error", message: error.message }));

  const address = wss.address();
  if (address === null || typeof address === "string") throw new Error(`unexpected relay address ${String(address)}`);
  const port = address.port;
  const url = `ws://${urlHost(host)}:${port}`;

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => wss.close(() => resolve()));
    for (const ws of wss.clients) ws.close(1001, "relay shutting down");
    const grace = setTimeout(() => {
      for (const ws of wss.clients) ws.terminate();
    }, CLOSE_GRACE_MS);
    await serverClosed;
    clearTimeout(grace);
    // Handlers still running, and events queued, would write to a closed database.
    await Promise.all(queues.values());
    await ingest.idle();
    await pool.close();
    await relay.destroy();
    await repository.destroy();
  }

  return {
    url,
    port,
    close: () => (closing ??= close()),
  };
}

/**
 * NIP-09 deletion. The library already deletes only the request author's events; on top of
 * that a deletion request is kept (relays go on serving them), a deletion request cannot be
 * deleted, and an `a` address loses only versions no newer than the request. Addresses are
 * resolved to event ids first, so a version stored meanwhile is never deleted.
 */
class BurrowEventRepository extends EventRepositorySqlite {
  override async deleteByDeletionRequest(request: Event): Promise<void> {
    const author = EventUtils.getAuthor(request);
    const doomed = new Set<string>();

    const ids = request.tags.flatMap(([name, value]) => (name === "e" && value && /^[0-9a-f]{64}$/.test(value) ? [value] : []));
    if (ids.length > 0) {
      for (const event of await this.find({ ids, authors: [author], limit: ids.length })) {
        if (event.kind !== EventKind.DELETION) doomed.add(event.id);
      }
    }

    for (const [name, value] of request.tags) {
      const address = name === "a" && value ? parseAddress(value) : undefined;
      if (!address || address.pubkey !== author) continue;
      const filter: Filter = { kinds: [address.kind], authors: [author], until: request.created_at };
      if (address.d !== "") filter["#d"] = [address.d];
      for (const event of await this.find(filter)) {
        if (EventUtils.extractDTagValue(event) === address.d) doomed.add(event.id);
      }
    }

    if (doomed.size > 0) {
      const keptTags = request.tags.filter(([name]) => name !== "e" && name !== "a");
      await super.deleteByDeletionRequest({ ...request, tags: [...keptTags, ...[...doomed].map((id) => ["e", id])] });
    }
    await this.upsert(request);
  }
}

function parseAddress(value: string): { kind: number; pubkey: string; d: string } | undefined {
  const match = /^(\d+):([0-9a-f]{64}):(.*)$/s.exec(value);
  if (!match) return undefined;
  const kind = Number(match[1]);
  const type = EventUtils.getType(kind);
  if (type !== EventType.REPLACEABLE && type !== EventType.PARAMETERIZED_REPLACEABLE) return undefined;
  return { kind, pubkey: match[2] ?? "", d: match[3] ?? "" };
}

/** The id of an EVENT message, if the frame is one and carries a string id. */
function eventIdOf(parsed: unknown): string | undefined {
  if (!Array.isArray(parsed) || parsed[0] !== "EVENT") return undefined;
  const event: unknown = parsed[1];
  if (typeof event !== "object" || event === null || !("id" in event)) return undefined;
  return typeof event.id === "string" ? event.id : undefined;
}

/** NIP-01: an EVENT is answered with OK false, anything else with a NOTICE. */
function refuse(ws: WebSocket, parsed: unknown, reason: string): void {
  const id = eventIdOf(parsed);
  send(ws, id === undefined ? createOutgoingNoticeMessage(reason) : createOutgoingOkMessage(id, false, reason));
}

function send(ws: WebSocket, message: OutgoingMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function libraryLogger(log: (line: RelayLogLine) => void): Logger {
  return {
    setLogLevel: () => {},
    debug: () => {},
    info: () => {},
    warn: (message: string) => log({ event: "relay_library_warning", message }),
    error: (message: string) => log({ event: "relay_library_error", message }),
  };
}
