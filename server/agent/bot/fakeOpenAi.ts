// For tests: a stand-in for an external OpenAI-compatible service on 127.0.0.1, whose behaviour a
// test switches between answering, failing, stalling and answering nonsense.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export type FakeOpenAiMode = { kind: "answer"; content: string } | { kind: "error"; status: number } | { kind: "stall" } | { kind: "malformed"; body: string };

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | null;
  body: unknown;
}

export interface FakeOpenAi {
  /** The API base to configure, with the version: http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  mode: FakeOpenAiMode;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeOpenAi(mode: FakeOpenAiMode = { kind: "answer", content: "fake answer" }): Promise<FakeOpenAi> {
  const fake = { mode, requests: [] as RecordedRequest[] };
  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Recorded as the raw text.
      }
      fake.requests.push({ method: request.method ?? "", path: request.url ?? "", authorization: request.headers.authorization ?? null, body });
      const current = fake.mode;
      if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
        response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
        return;
      }
      switch (current.kind) {
        case "answer":
          response
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify({ id: "chatcmpl-test", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: current.content }, finish_reason: "stop" }] }));
          return;
        case "error":
          response.writeHead(current.status, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "the model is overloaded" } }));
          return;
        case "malformed":
          response.writeHead(200, { "content-type": "application/json" }).end(current.body);
          return;
        case "stall":
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get mode() {
      return fake.mode;
    },
    set mode(next: FakeOpenAiMode) {
      fake.mode = next;
    },
    requests: fake.requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
