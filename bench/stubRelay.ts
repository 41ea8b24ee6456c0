// A stub relay for the messaging benchmark: NIP-01 EVENT / REQ / CLOSE over WebSocket, events kept in
// memory in arrival order, no signature checks, deletions by `e` tag only. It answers a REQ with EVERY
// stored match (any `limit` ignored) oldest first, in the order published, so a core's own receive cost
// can be measured apart from how real relays deliver a backlog (pages of `limit` newest-first events,
// ties within a second in any order) and from the embedded relay's ingest rate. Not a relay to use for
// anything else.
import { WebSocketServer, type WebSocket } from "ws";

interface StubEvent {
  id: string;
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string[][];
  content: string;
  sig: string;
}

type StubFilter = Record<string, unknown> & { ids?: string[]; authors?: string[]; kinds?: number[]; since?: number; until?: number };

function matches(event: StubEvent, filter: StubFilter): boolean {
  if (filter.ids && !filter.ids.includes(event.id)) return false;
  if (filter.authors && !filter.authors.includes(event.pubkey)) return false;
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false;
  if (filter.since !== undefined && event.created_at < filter.since) return false;
  if (filter.until !== undefined && event.created_at > filter.until) return false;
  for (const [key, values] of Object.entries(filter)) {
    if (key.length !== 2 || key[0] !== "#" || !Array.isArray(values)) continue;
    if (!event.tags.some((tag) => tag[0] === key[1] && values.includes(tag[1]))) return false;
  }
  return true;
}

export async function startStubRelay(): Promise<{ url: string; close(): Promise<void> }> {
  const events: StubEvent[] = [];
  const ids = new Set<string>();
  const subscriptions = new Map<WebSocket, Map<string, StubFilter[]>>();
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 2 * 1024 * 1024 });
  const send = (ws: WebSocket, message: unknown[]): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  wss.on("connection", (ws) => {
    const subs = new Map<string, StubFilter[]>();
    subscriptions.set(ws, subs);
    ws.on("close", () => subscriptions.delete(ws));
    ws.on("message", (data) => {
      let message: unknown[];
      try {
        message = JSON.parse(String(data)) as unknown[];
      } catch {
        return;
      }
      if (message[0] === "EVENT") {
        const event = message[1] as StubEvent;
        if (ids.has(event.id)) return send(ws, ["OK", event.id, true, "duplicate: already have it"]);
        ids.add(event.id);
        if (event.kind === 5) {
          const doomed = new Set(event.tags.filter((t) => t[0] === "e").map((t) => t[1]));
          for (let i = events.length - 1; i >= 0; i--) if (doomed.has(events[i]!.id) && events[i]!.pubkey === event.pubkey) events.splice(i, 1);
        }
        events.push(event);
        send(ws, ["OK", event.id, true, ""]);
        for (const [client, clientSubs] of subscriptions) {
          for (const [id, filters] of clientSubs) if (filters.some((f) => matches(event, f))) send(client, ["EVENT", id, event]);
        }
      } else if (message[0] === "REQ") {
        const id = String(message[1]);
        const filters = message.slice(2) as StubFilter[];
        subs.set(id, filters);
        // `limit` is ignored on purpose: every match, oldest first, in the order published.
        for (const event of events) if (filters.some((filter) => matches(event, filter))) send(ws, ["EVENT", id, event]);
        send(ws, ["EOSE", id]);
      } else if (message[0] === "CLOSE") {
        subs.delete(String(message[1]));
      }
    });
  });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const address = wss.address();
  if (address === null || typeof address === "string") throw new Error("stub relay has no port");
  return {
    url: `ws://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
