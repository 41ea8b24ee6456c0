// New Agent on the local stack: click → agent chat open, median of 5 fresh allowlisted users, and
// the HTTP requests one flow makes. Prints figures; asserts nothing.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppCore, type LogLine, FileSecretStore } from "../core/index.js";
import { waitForState } from "../core/testing.js";
import { startTestServer } from "../server/agent/api/testServer.js";
import { startRelay } from "../server/relay/relay.js";
import { printTable, recordResults, type Measurement } from "./results.js";

const RUNS = 5;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const dir = await mkdtemp(join(tmpdir(), "burrow-bench-agent-"));
const relay = await startRelay({ port: 0 });
const server = await startTestServer({ relays: [relay.url], openAllowlist: true });
const clickToChat: number[] = [];
const requests: number[] = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const dataDir = join(dir, `user-${run}`);
    let flowRequests = 0;
    const log = (line: LogLine): void => {
      if (line.event === "agent_flow_done") flowRequests = Number(line["requests"]);
    };
    const core = await AppCore.create({ secretStore: new FileSecretStore(dataDir), dataDir, defaultRelays: [relay.url], agentApiUrl: server.url, log });
    await core.dispatch({ type: "CreateAccount" });
    await waitForState(core, (s) => s.agent_button !== null && s.agent_button.disabled_reason === null && s.key_package.published, 20_000);
    const started = performance.now();
    await core.dispatch({ type: "EnsureAgent" });
    await waitForState(core, (s) => s.open_chat !== null && !s.busy.starting_agent, 60_000);
    clickToChat.push((performance.now() - started) / 1000);
    requests.push(flowRequests);
    await core.close();
  }
} finally {
  await server.close();
  await relay.close();
  await rm(dir, { recursive: true, force: true });
}

const results: Measurement[] = [
  { name: "agent.click_to_chat_open_median", value: median(clickToChat), unit: "s" },
  { name: "agent.click_to_chat_open_max", value: Math.max(...clickToChat), unit: "s" },
  { name: "agent.http_requests_per_flow_median", value: median(requests), unit: "requests" },
];
console.log(`\nNew Agent on the local stack (${RUNS} fresh allowlisted users; target < 3 s):`);
printTable(results);
await recordResults(results);
