#!/usr/bin/env node
// The browser host: runs the Burrow core in plain Node and serves the renderer to a browser on
// 127.0.0.1, speaking the same contract as Electron's IPC over a WebSocket.
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AppCore, type LogLine, agentApiUrlFromEnv, relaysFromEnv, defaultDataDir, FileSecretStore } from "../../core/index.js";
import { isAgentApiUrl, isRelayUrl } from "../../shared/actions.js";
import { persistentToken, rememberedPort, rememberPort, startWebHost } from "./host.js";

const USAGE = `Usage: burrow-web [--data-dir DIR] [--port N] [--no-open] [--json] [--dev-origin URL]

  --data-dir DIR    where Burrow keeps its data (default: ${defaultDataDir()})
  --port N          port on 127.0.0.1 (default: the one this data dir used last, so open pages
                    reconnect after a restart, else any free port; 0: any free port)
  --no-open         do not open a browser
  --json            machine-readable log lines, incl. {"event":"ready","url":...}
  --dev-origin URL  also accept WebSocket connections from this origin (Vite dev server)
  --token T         use this access token instead of the data dir's own (<data-dir>/web-token, 0600)
  --relay URL       a default relay for accounts that have not chosen their own (repeatable;
                    also BURROW_RELAYS; default: well-known public relays)
  --agent-api URL   the agent API for accounts that have not chosen one (also
                    BURROW_AGENT_API_URL or PIKA_AGENT_API_URL; default: the public agent API)`;

function openBrowser(url: string): boolean {
  const { platform, env } = process;
  const command =
    platform === "darwin" ? ["open", url]
    : platform === "win32" ? ["cmd", "/c", "start", '""', url]
    : env["DISPLAY"] || env["WAYLAND_DISPLAY"] ? ["xdg-open", url]
    : null;
  if (!command) return false;
  const [program, ...args] = command as [string, ...string[]];
  const child = spawn(program, args, { detached: true, stdio: "ignore" });
  child.on("error", () => undefined);
  child.unref();
  return true;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        "data-dir": { type: "string" },
        port: { type: "string" },
        "no-open": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        "dev-origin": { type: "string", multiple: true },
        token: { type: "string" },
        relay: { type: "string", multiple: true },
        "agent-api": { type: "string" },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const port = args.port === undefined ? null : Number(args.port);
  if (port !== null && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    console.error(`--port must be an integer between 0 and 65535, got ${args.port}\n\n${USAGE}`);
    process.exit(2);
  }
  const json = args.json;
  const log = (line: LogLine): void => {
    if (json) console.log(JSON.stringify({ time: new Date().toISOString(), ...line }));
    else if (line.event !== "ws_connected" && line.event !== "ws_closed") console.error(`[burrow] ${line.event} ${JSON.stringify({ ...line, event: undefined })}`);
  };

  const dataDir = resolve(args["data-dir"] ?? defaultDataDir());
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secretStore = new FileSecretStore(dataDir);
  const relays = args.relay?.length ? args.relay : relaysFromEnv(process.env["BURROW_RELAYS"]);
  const badRelay = relays?.find((url) => !isRelayUrl(url));
  if (badRelay) {
    console.error(`Not a relay URL (ws:// or wss://): ${badRelay}`);
    process.exit(2);
  }
  const agentApiUrl = args["agent-api"]?.replace(/\/+$/, "") ?? agentApiUrlFromEnv(process.env);
  if (agentApiUrl && !isAgentApiUrl(agentApiUrl)) {
    console.error(`Not an agent API URL (http:// or https://): ${agentApiUrl}`);
    process.exit(2);
  }
  const core = await AppCore.create({ secretStore, dataDir, log, ...(relays ? { defaultRelays: relays } : {}), ...(agentApiUrl ? { agentApiUrl } : {}) });
  const rendererDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "renderer");
  // The same port and token as last time, so a page left open reconnects after a restart of the host.
  const remembered = port === null ? await rememberedPort(dataDir) : null;
  const host = await startWebHost({
    core,
    rendererDir,
    port: port ?? remembered ?? 0,
    fallbackToAnyPort: port === null,
    extraOrigins: args["dev-origin"] ?? [],
    token: args.token ?? (await persistentToken(dataDir)),
    log,
  });
  if (port === null) await rememberPort(dataDir, host.port);
  if (host.portFallback) {
    const message = `Port ${host.portFallback.wanted} (used last time) is busy, so Burrow uses port ${host.port} now: pages opened before need the new link.`;
    if (json) log({ event: "port_fallback", wanted: host.portFallback.wanted, port: host.port, reason: host.portFallback.reason });
    else console.log(message);
  }

  if (json) {
    log({ event: "ready", url: host.url, port: host.port, data_dir: dataDir, secret_storage: secretStore.kind });
  } else {
    console.log(`Burrow is running in the browser host (data: ${dataDir}).`);
    console.log(`Note: ${secretStore.notice}`);
    console.log(`Open: ${host.url}`);
  }
  if (!args["no-open"] && !openBrowser(host.url) && !json) {
    console.log("No desktop browser to open here; open the URL above yourself.");
  }

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await host.close();
    await core.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((error: unknown) => {
  console.error(`Burrow could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
