// The chat list at 5,000 chats in Chromium: the browser host on a real core with a seeded account
// (bench/seed.ts) and a second real core that has a direct chat with it through the relay. The page
// scrolls the chat list to the bottom and back, one step per frame, first with nothing arriving, then
// while the second core sends a message every 100 ms: each is a real incoming message, a state change
// of the list's first row that the host pushes (as often as its core manages). Records the longest
// long task (PerformanceObserver 'longtask') of the scroll with messages arriving, and prints frames,
// long tasks and the page's handling time per push of both runs. Chromium is found as the e2e tests
// find it; without it, says why and records nothing.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "@playwright/test";
import { AppCore, FileSecretStore, waitForState } from "../core/index.js";
import { startTestServer } from "../server/agent/api/testServer.js";
import { startRelay } from "../server/relay/relay.js";
import { printTable, recordResults, type Measurement } from "./results.js";
import { seedAccount } from "./seed.js";

const CHATS = 5_000;
const MESSAGES = 100_000;
const PUSH_EVERY_MS = 100;
/** Pixels scrolled per frame: about a viewport, so every frame shows rows not shown before. */
const SCROLL_STEP_PX = 600;
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Playwright's own Chromium where installed, else the system one (override with BURROW_CHROMIUM), as e2e/playwright.config.ts; or why there is none. */
function findChromium(): { path: string } | { reason: string } {
  const override = process.env["BURROW_CHROMIUM"];
  if (override) return existsSync(override) ? { path: override } : { reason: `BURROW_CHROMIUM is ${override}, which does not exist` };
  const bundled = chromium.executablePath();
  if (bundled && existsSync(bundled)) return { path: bundled };
  return existsSync("/usr/bin/chromium") ? { path: "/usr/bin/chromium" } : { reason: "no Playwright browser installed, no /usr/bin/chromium, BURROW_CHROMIUM unset" };
}

/** The browser host (`dist/hosts/web/main.js`) on `dataDir`, until it reports ready; its log lines are read and dropped. */
async function launchHost(dataDir: string, relayUrl: string, agentApiUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const args = ["--no-open", "--json", "--port", "0", "--data-dir", dataDir, "--relay", relayUrl, "--agent-api", agentApiUrl];
  const child = spawn(process.execPath, [join(root, "dist", "hosts", "web", "main.js"), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("browser host did not report ready within 60 s")), 60_000);
    child.once("exit", (code) => reject(new Error(`browser host exited early with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry["event"] !== "ready") return;
      clearTimeout(timer);
      resolve(String(entry["url"]));
    });
  });
  return { child, url };
}

async function stopHost(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

interface ScrollFigures {
  /** The page's main thread during the scroll, in CPU time (Chromium's thread ticks, so another process's load does not count): all tasks, and script, layout and style within them (ms). */
  cpu: { task: number; script: number; layout: number; style: number };
  frames: number;
  longTasks: number[];
  seconds: number;
  /** Each host message of the scroll: its length and the page's time from its arrival to the end of what it set off (parse, render). */
  messages: Array<{ chars: number; ms: number }>;
}

// Runs in the page before its own scripts: times each WebSocket message's handling, the render its
// microtask starts included (the microtask queued here runs after it).
const TIME_MESSAGES_SCRIPT = `(() => {
  const timed = (window.__burrowMessages = []);
  const slot = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage");
  Object.defineProperty(WebSocket.prototype, "onmessage", {
    configurable: true,
    get() { return slot.get.call(this); },
    set(handler) {
      slot.set.call(this, typeof handler !== "function" ? handler : function (event) {
        const started = performance.now();
        try { return handler.call(this, event); }
        finally { queueMicrotask(() => timed.push({ chars: typeof event.data === "string" ? event.data.length : 0, ms: performance.now() - started })); }
      });
    },
  });
})()`;

// Runs in the page: scrolls the chat list to its bottom and back to the top, one step per frame,
// and collects the long tasks that began meanwhile.
const SCROLL_SCRIPT = `(async () => {
  const list = document.querySelector('[role="list"][aria-label="Chats"]');
  const longTasks = [];
  const observer = new PerformanceObserver((entries) => { for (const e of entries.getEntries()) longTasks.push(e.duration); });
  observer.observe({ type: "longtask" });
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const started = performance.now();
  window.__burrowMessages.length = 0;
  let frames = 0;
  for (const down of [true, false]) {
    for (;;) {
      const end = down ? list.scrollHeight - list.clientHeight : 0;
      const from = list.scrollTop;
      if (from === end) break;
      list.scrollTop = down ? Math.min(end, from + ${SCROLL_STEP_PX}) : Math.max(0, from - ${SCROLL_STEP_PX});
      await frame();
      frames += 1;
      if (list.scrollTop === from) break;
    }
  }
  await frame();
  for (const e of observer.takeRecords()) longTasks.push(e.duration);
  observer.disconnect();
  return { frames, longTasks, seconds: (performance.now() - started) / 1000, messages: window.__burrowMessages.slice() };
})()`;

const CPU_METRICS = { task: "TaskDuration", script: "ScriptDuration", layout: "LayoutDuration", style: "RecalcStyleDuration" } as const;

/** Runs SCROLL_SCRIPT, with the main thread's CPU time over it from the DevTools protocol's Performance metrics. */
async function scroll(page: Page): Promise<ScrollFigures> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable", { timeDomain: "threadTicks" });
  const read = async (): Promise<Map<string, number>> => new Map((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const before = await read();
  const figures = (await page.evaluate(SCROLL_SCRIPT)) as Omit<ScrollFigures, "cpu">;
  const after = await read();
  await cdp.detach();
  const ms = (name: string): number => ((after.get(name) ?? 0) - (before.get(name) ?? 0)) * 1000;
  return { ...figures, cpu: { task: ms(CPU_METRICS.task), script: ms(CPU_METRICS.script), layout: ms(CPU_METRICS.layout), style: ms(CPU_METRICS.style) } };
}

const found = findChromium();
if (!("path" in found)) {
  console.log(`\nrenderer.chat_list_5000_max_long_task_ms not measured: no Chromium (${found.reason}).`);
  process.exit(0);
}
const executablePath = found.path;

const dir = await mkdtemp(join(tmpdir(), "burrow-bench-renderer-"));
const relay = await startRelay({ port: 0 });
const agentServer = await startTestServer({ relays: [relay.url] });
let host: ChildProcess | null = null;
let browser: Browser | null = null;
let sender: AppCore | null = null;
let sending: NodeJS.Timeout | null = null;
let alone: ScrollFigures;
let figures: ScrollFigures;
try {
  const seedStarted = performance.now();
  const seeded = await seedAccount(join(dir, "seeded"), { chats: CHATS, messages: MESSAGES });
  console.log(`Seeded ${CHATS} chats and ${MESSAGES} messages in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
  const launched = await launchHost(seeded.dataDir, relay.url, agentServer.url);
  host = launched.child;

  browser = await chromium.launch({
    headless: true,
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(TIME_MESSAGES_SCRIPT);
  await page.goto(launched.url);
  // The seeded account is signed in at start; its KeyPackage on the relay lets the sender invite it.
  await page.getByRole("listitem").first().waitFor({ timeout: 60_000 });
  await page.getByText(/key package/i).first().waitFor({ state: "detached", timeout: 30_000 });

  const senderDir = join(dir, "sender");
  sender = await AppCore.create({ secretStore: new FileSecretStore(senderDir), dataDir: senderDir, defaultRelays: [relay.url], agentApiUrl: agentServer.url });
  await sender.dispatch({ type: "CreateAccount" });
  await waitForState(sender, (s) => s.key_package.published, 30_000, () => new Error("the sender's KeyPackage was not published"));
  await sender.dispatch({ type: "CreateChat", peer: seeded.keys.npub });
  const opened = await waitForState(sender, (s) => s.open_chat !== null && !s.busy.creating_chat, 30_000, () => new Error("the sender's chat did not open"));
  const chatId = opened.state.open_chat!.chat_id;
  await page.getByRole("button", { name: /^Accept invite from/ }).click({ timeout: 30_000 });
  await page.getByRole("log", { name: "Messages" }).waitFor({ timeout: 30_000 });
  await page.locator(`[role="listitem"][aria-setsize="${CHATS + 1}"]`).first().waitFor({ timeout: 30_000 });

  // The same scroll without pushes first: what the list costs on its own.
  alone = await scroll(page);
  const senderCore = sender;
  let n = 0;
  sending = setInterval(() => void senderCore.dispatch({ type: "SendMessage", chat_id: chatId, text: `message ${++n} while the list scrolls` }), PUSH_EVERY_MS);
  // The first messages arrive before the scroll starts, so every push of the scroll is a steady one.
  await page.getByText("message 3 while the list scrolls").first().waitFor({ timeout: 30_000 });
  figures = await scroll(page);
} finally {
  if (sending) clearInterval(sending);
  await browser?.close();
  await sender?.close();
  if (host) await stopHost(host);
  await agentServer.close();
  await relay.close();
  await rm(dir, { recursive: true, force: true });
}

const max = (values: number[]): number => (values.length ? Math.max(...values) : 0);
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const describe = (f: ScrollFigures): string =>
  `to the bottom and back in ${f.seconds.toFixed(1)} s, ${f.frames} frames (${((f.seconds * 1000) / f.frames).toFixed(1)} ms each), ` +
  `${f.longTasks.length} long tasks (${sum(f.longTasks).toFixed(0)} ms in all, the longest ${max(f.longTasks).toFixed(0)} ms), ` +
  `main thread CPU ${(f.cpu.task / f.frames).toFixed(1)} ms a frame (script ${(f.cpu.script / f.frames).toFixed(1)}, layout ${(f.cpu.layout / f.frames).toFixed(1)}, style ${(f.cpu.style / f.frames).toFixed(1)})`;
const pushes = figures.messages;
const results: Measurement[] = [{ name: "renderer.chat_list_5000_max_long_task_ms", value: max(figures.longTasks), unit: "ms" }];
console.log(`\nChromium (${executablePath}), the chat list of ${CHATS} chats scrolled ${SCROLL_STEP_PX} px a frame:`);
console.log(`  without pushes: ${describe(alone)};`);
console.log(
  `  with a message arriving every ${PUSH_EVERY_MS} ms: ${describe(figures)}; the host sent ${pushes.length} messages ` +
    `(up to ${(max(pushes.map((m) => m.chars)) / 1e6).toFixed(2)} M characters), each handled by the page (parse and render) ` +
    `in ${(sum(pushes.map((m) => m.ms)) / Math.max(1, pushes.length)).toFixed(1)} ms on average, ${max(pushes.map((m) => m.ms)).toFixed(1)} ms at most.`,
);
console.log("Target: the longest long task with pushes ≤ 50 ms.");
printTable(results);
await recordResults(results);
