// A real agent API for tests: real HTTP on 127.0.0.1, a real store (SQLite file or PostgreSQL), the
// local spawner running real agent bots against a relay. Faults go in through the spawner's config.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nip98Header } from "../../../core/marmot/index.js";
import { LocalSpawner, type FaultConfig } from "../spawner/localSpawner.js";
import { openAgentStore } from "../store/kyselyStore.js";
import type { AgentStore } from "../store/agentStore.js";
import { AgentService } from "./agentService.js";
import { startAgentApi, type RunningAgentApi } from "./httpServer.js";
import { SecretBox } from "./secretBox.js";

export interface TestServer {
  url: string;
  api: RunningAgentApi;
  service: AgentService;
  store: AgentStore;
  spawner: LocalSpawner;
  dataDir: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  relays: string[];
  databaseUrl?: string;
  /** Share a spawner (and its VMs) between servers, like processes sharing one VM host. */
  spawner?: LocalSpawner;
  faults?: FaultConfig;
  openAllowlist?: boolean;
  provisioningWindowMs?: number;
  orphanGraceMs?: number;
  secretHex?: string;
  dataDir?: string;
  /** The URL clients reach the server at, when a proxy stands in front of it. */
  publicUrl?: string;
  /** The built agent bot, when this module runs from source (e2e) rather than from dist/. */
  agentEntry?: string;
}

export const TEST_SERVER_SECRET = "11".repeat(32);

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "burrow-agent-api-")));
  const store = await openAgentStore(options.databaseUrl ? { databaseUrl: options.databaseUrl } : { sqlitePath: join(dataDir, "agents.sqlite") });
  await store.migrate();
  const ownSpawner = !options.spawner;
  const spawner = options.spawner ?? new LocalSpawner({ dataDir: join(dataDir, "spawner"), ...(options.faults ? { faults: options.faults } : {}), ...(options.agentEntry ? { agentEntry: options.agentEntry } : {}) });
  const service = new AgentService({
    store,
    spawner,
    secrets: SecretBox.fromHex(options.secretHex ?? TEST_SERVER_SECRET),
    relays: options.relays,
    openAllowlist: options.openAllowlist ?? false,
    ...(options.provisioningWindowMs !== undefined ? { provisioningWindowMs: options.provisioningWindowMs } : {}),
    ...(options.orphanGraceMs !== undefined ? { orphanGraceMs: options.orphanGraceMs } : {}),
  });
  const api = await startAgentApi({ service, store, port: 0, burstLimit: 1000, ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}) });
  return {
    url: api.url,
    api,
    service,
    store,
    spawner,
    dataDir,
    close: async () => {
      await api.close();
      if (ownSpawner) await spawner.close();
      await store.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A signed request the way Burrow's client makes it. */
export async function agentRequest(
  baseUrl: string,
  path: string,
  method: "GET" | "POST",
  secretKey: Uint8Array,
  options: { body?: string; contentType?: string; header?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const bodyBytes = options.body === undefined ? undefined : new TextEncoder().encode(options.body);
  const authorization = options.header ?? nip98Header(`${baseUrl}${path}`, method, secretKey, bodyBytes);
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { Authorization: authorization, ...(bodyBytes ? { "Content-Type": options.contentType ?? "application/json" } : {}) },
    ...(bodyBytes ? { body: bodyBytes } : {}),
  });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: response.status, body, headers: response.headers };
}
