// `npm run screenshots`: the README's screens, made from the real app. Starts a throwaway local stack
// and two browser hosts, lets two people chat through the real relay in Chromium, and saves the
// screens to docs/screenshots/. Not part of `npm test`. Emoji need a colour emoji font: on Debian,
// `apt-get install fonts-noto-color-emoji`.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { chromium } from "@playwright/test";
import { root, run } from "./run.mjs";

const OUT = join(root, "docs", "screenshots");
const WIDE = { width: 1180, height: 760 };
const NARROW = { width: 500, height: 800 };

if (!existsSync(join(root, "dist", "build-stamp.json"))) {
  const code = await run(process.execPath, [join(root, "scripts", "build.mjs")]);
  if (code !== 0) process.exit(code);
}
const { ensureNativeModules } = await import(pathToFileURL(join(root, "scripts", "native.mjs")).href);
await ensureNativeModules("node");

const temp = await mkdtemp(join(tmpdir(), "burrow-screenshots-"));
process.env.BURROW_STACK_HOME = join(temp, "stack");
process.env.BURROW_RELAY_PORT = "0";
const { useLocalStack } = await import(pathToFileURL(join(root, "scripts", "stack.mjs")).href);
const children = [];
let stack = null;
let browser = null;

/** A browser host on its own data dir, until it reports ready; resolves with its URL. */
function startHost(name) {
  const child = spawn(
    process.execPath,
    [join(root, "dist", "hosts", "web", "main.js"), "--no-open", "--json", "--port", "0", "--data-dir", join(temp, name), "--relay", stack.record.relay_url, "--agent-api", stack.record.agent_api_url],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${name} host did not start within 20 s`)), 20_000);
    child.once("exit", (code) => reject(new Error(`the ${name} host exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const entry = JSON.parse(line);
      if (entry.event === "ready") {
        clearTimeout(timer);
        resolve(String(entry.url));
      }
    });
  });
}

async function signUp(page, url) {
  await page.goto(url);
  await page.getByRole("button", { name: "Create account" }).click();
  const npub = page.getByLabel("Your npub");
  await npub.waitFor();
  const backup = page.getByRole("button", { name: /^(Not now|Later|Dismiss)/ });
  if (await backup.count()) await backup.first().click();
  return (await npub.textContent()) ?? "";
}

async function setName(page, name) {
  await page.getByRole("button", { name: "Settings" }).click();
  const profile = page.getByRole("region", { name: "Profile" });
  await profile.getByRole("textbox", { name: "Name" }).fill(name);
  await profile.getByRole("button", { name: "Save profile" }).click();
  await profile.getByRole("status").filter({ hasText: "Profile saved" }).waitFor({ timeout: 15_000 });
  await page.getByRole("button", { name: "Back" }).click();
}

async function send(page, text) {
  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill(text);
  await composer.press("Enter");
  await page.getByRole("log", { name: "Messages" }).getByText(text).waitFor({ timeout: 15_000 });
}

async function shot(page, name) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(OUT, `${name}.png`) });
  console.log(`  docs/screenshots/${name}.png`);
}

try {
  await mkdir(OUT, { recursive: true });
  stack = await useLocalStack("screenshots");
  const [aliceUrl, bobUrl] = await Promise.all([startHost("alice"), startHost("bob")]);
  browser = await chromium.launch({
    executablePath: existsSync(chromium.executablePath()) ? undefined : "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu"],
  });
  const context = async (colorScheme) => browser.newContext({ viewport: WIDE, colorScheme, deviceScaleFactor: 1 });
  const alice = await (await context("light")).newPage();
  const bob = await (await context("dark")).newPage();

  await alice.goto(aliceUrl);
  await alice.getByRole("heading", { name: "Welcome to Burrow" }).waitFor();
  await shot(alice, "welcome");
  await signUp(alice, aliceUrl);
  const bobNpub = await signUp(bob, bobUrl);
  await setName(alice, "Alice");
  await setName(bob, "Bob");

  await alice.getByRole("button", { name: "New chat" }).click();
  const dialog = alice.getByRole("dialog", { name: "New chat" });
  await dialog.getByRole("textbox", { name: "Npub or hex public key" }).fill(bobNpub);
  await dialog.getByRole("button", { name: "Start chat" }).click();
  await dialog.waitFor({ state: "hidden", timeout: 20_000 });
  await bob.getByRole("button", { name: /^Accept invite from/ }).click({ timeout: 20_000 });
  await bob.getByRole("log", { name: "Messages" }).waitFor();

  await send(alice, "Hi Bob! The burrow is warm today 🦫");
  await bob.getByRole("log", { name: "Messages" }).getByText("The burrow is warm").waitFor({ timeout: 15_000 });
  await send(bob, "Hi Alice 👋 Did the new key package reach the relay?");
  await alice.getByRole("log", { name: "Messages" }).getByText("Did the new key package").waitFor({ timeout: 15_000 });
  await send(alice, "It did: see https://github.com/marmot-protocol/marmot for how it works.");
  await bob.getByRole("log", { name: "Messages" }).getByText("It did:").waitFor({ timeout: 15_000 });

  await alice.getByRole("log", { name: "Messages" }).getByText("Bob", { exact: true }).first().waitFor({ timeout: 15_000 }).catch(() => undefined);
  await shot(alice, "chat-light");
  await shot(bob, "chat-dark");
  await alice.setViewportSize(NARROW);
  await shot(alice, "chat-narrow");
  await alice.setViewportSize(WIDE);
  const search = alice.getByRole("searchbox").first();
  if (await search.count()) {
    await search.fill("burrow");
    await alice.waitForTimeout(500);
    await shot(alice, "search");
    await search.fill("");
  }
  await alice.getByRole("button", { name: "Settings" }).click();
  await alice.getByRole("heading", { name: "Settings" }).waitFor();
  await shot(alice, "settings");
  console.log("Screenshots saved in docs/screenshots/.");
} catch (error) {
  console.error(`Screenshots failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await browser?.close();
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  await stack?.release?.();
  await rm(temp, { recursive: true, force: true }).catch(() => undefined);
}
