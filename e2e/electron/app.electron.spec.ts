// The packaged path: the real Electron main process, sandboxed preload and renderer, on a fresh
// user-data dir per test. Skipped, saying why, where no Electron binary (or no display) exists.
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { _electron, expect, test as base, type ElectronApplication, type Page } from "@playwright/test";
import { nip19 } from "nostr-tools";
import { APP_INDEX_URL } from "../../electron/appProtocol.js";
import { CONTENT_SECURITY_POLICY } from "../../shared/csp.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MAIN_JS = join(root, "dist", "electron", "main.js");

type ElectronBinary = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Finds the binary the way node_modules/electron/index.js does, without running it: requiring
 * "electron" from Node tries to download a missing binary, then throws "Electron failed to install correctly".
 */
function findElectronBinary(): ElectronBinary {
  let packageDir: string;
  try {
    packageDir = dirname(createRequire(import.meta.url).resolve("electron/package.json"));
  } catch {
    return { ok: false, reason: "the electron package is not installed" };
  }
  const pathFile = join(packageDir, "path.txt");
  const relative = existsSync(pathFile) ? readFileSync(pathFile, "utf8").trim() : null;
  const overrideDir = process.env["ELECTRON_OVERRIDE_DIST_PATH"];
  const binary = overrideDir ? join(overrideDir, relative ?? "electron") : relative ? join(packageDir, "dist", relative) : null;
  if (binary === null || !existsSync(binary)) {
    return {
      ok: false,
      reason: `no Electron binary on this machine (${binary ?? pathFile} is missing; fetch it with "node node_modules/electron/install.js")`,
    };
  }
  if (process.platform === "linux" && !process.env["DISPLAY"] && !process.env["WAYLAND_DISPLAY"]) {
    return { ok: false, reason: "no display (run under xvfb-run)" };
  }
  return { ok: true, path: binary };
}

const electronBinary = findElectronBinary();
// The runner loads this file once to list tests, workers again to run them: say it once.
if (!electronBinary.ok && process.env["TEST_WORKER_INDEX"] === undefined) {
  console.log(`Electron tests skipped: ${electronBinary.reason}`);
}

interface RunningApp {
  readonly window: Page;
  readonly userDataDir: string;
  /** Quits the app and starts it again on the same user-data dir. */
  restart(): Promise<void>;
}

async function launch(binary: string, userDataDir: string): Promise<{ app: ElectronApplication; window: Page }> {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run "npm run build" first`);
  const args = [MAIN_JS, `--user-data-dir=${userDataDir}`];
  // Chromium refuses to start as root with its OS sandbox on; the renderer's own sandbox still applies.
  if (process.getuid?.() === 0) args.push("--no-sandbox");
  const app = await _electron.launch({ executablePath: binary, args, cwd: root });
  const window = await app.firstWindow();
  await window.waitForLoadState("domcontentloaded");
  return { app, window };
}

const test = base.extend<{ electronApp: RunningApp }>({
  electronApp: async ({}, use) => {
    if (!electronBinary.ok) throw new Error(electronBinary.reason);
    const binary = electronBinary.path;
    const userDataDir = await mkdtemp(join(tmpdir(), "burrow-electron-e2e-"));
    let current = await launch(binary, userDataDir);
    await use({
      get window() {
        return current.window;
      },
      userDataDir,
      restart: async () => {
        await current.app.close();
        current = await launch(binary, userDataDir);
      },
    });
    await current.app.close();
    await rm(userDataDir, { recursive: true, force: true });
  },
});

test.skip(!electronBinary.ok, electronBinary.ok ? "" : `Electron tests skipped: ${electronBinary.reason}`);

async function createAccount(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Create account" }).click();
  const npub = page.getByLabel("Your npub");
  await expect(npub).toHaveText(/^npub1[02-9ac-hj-np-z]{58}$/);
  return (await npub.textContent()) ?? "";
}

async function exportNsec(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("button", { name: "Show private key" }).click();
  await page.getByRole("dialog", { name: "Confirm key export" }).getByRole("button", { name: "Show key" }).click();
  const secret = page.getByLabel("Your private key");
  await expect(secret).toHaveText(/^nsec1/);
  return (await secret.textContent()) ?? "";
}

function secretFile(userDataDir: string): string {
  return join(userDataDir, "secret-key.json");
}

test("renderer_sees_only_the_two_method_bridge_and_no_node", async ({ electronApp }) => {
  const exposed = await electronApp.window.evaluate(() => {
    const scope = globalThis as Record<string, unknown>;
    const bridge = scope["burrow"] as Record<string, unknown> | undefined;
    return {
      bridgeKeys: bridge ? Object.keys(bridge).sort() : null,
      require: typeof scope["require"],
      process: typeof scope["process"],
    };
  });
  expect(exposed).toEqual({ bridgeKeys: ["dispatch", "onState"], require: "undefined", process: "undefined" });
});

test("the_renderer_is_served_from_app_burrow_with_its_csp_and_nothing_outside_it", async ({ electronApp }) => {
  const page = electronApp.window;
  expect(page.url()).toBe(APP_INDEX_URL);
  const served = await page.evaluate(async () => {
    const index = await fetch("/index.html");
    const outside = await fetch("/%2e%2e/%2e%2e/package.json");
    return { csp: index.headers.get("content-security-policy"), outsideOk: outside.ok };
  });
  expect(served).toEqual({ csp: CONTENT_SECURITY_POLICY, outsideOk: false });
});

test("new_user_creates_account_and_sees_npub_empty_chats_and_no_agent_button", async ({ electronApp }) => {
  const page = electronApp.window;
  await createAccount(page);
  await expect(page.getByRole("list", { name: "Chats" })).toBeVisible();
  await expect(page.getByText("No chats yet")).toBeVisible();
  // Once the default agent API answered (not allowlisted: no button) or could not be reached
  // (offline: shown, but disabled with the reason), there is no usable New Agent.
  await page.getByRole("button", { name: "Settings" }).click();
  await expect(page.getByRole("status", { name: "Agent access" })).not.toHaveText("Checking agent access…", { timeout: 20_000 });
  await page.getByRole("button", { name: "Back" }).click();
  const agent = page.getByRole("button", { name: "New Agent" });
  if ((await agent.count()) > 0) await expect(agent).toHaveAttribute("aria-disabled", "true");
});

test("the_stored_key_is_os_encrypted_and_survives_a_restart", async ({ electronApp }) => {
  const npub = await createAccount(electronApp.window);
  const nsec = await exportNsec(electronApp.window);
  const decoded = nip19.decode(nsec);
  if (decoded.type !== "nsec") throw new Error(`expected an nsec, got ${decoded.type}`);
  const secretHex = Buffer.from(decoded.data).toString("hex");
  const stored = readFileSync(secretFile(electronApp.userDataDir), "utf8");
  expect(stored).not.toContain(secretHex);

  await electronApp.restart();
  await expect(electronApp.window.getByLabel("Your npub")).toHaveText(npub);
});

test("logout_then_import_of_the_exported_nsec_gives_the_same_npub", async ({ electronApp }) => {
  const page = electronApp.window;
  const npub = await createAccount(page);
  const nsec = await exportNsec(page);

  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("dialog", { name: "Log out?" }).getByRole("button", { name: "Log out and delete key" }).click();
  await expect(page.getByRole("button", { name: "Create account" })).toBeVisible();
  expect(readFileSync(secretFile(electronApp.userDataDir), "utf8")).not.toContain('"secret"');

  await page.getByLabel("Private key (nsec or hex)").fill(nsec);
  await page.getByRole("button", { name: "Import key" }).click();
  await expect(page.getByLabel("Your npub")).toHaveText(npub);
});

test("an_invalid_key_shows_an_inline_error_and_stores_nothing", async ({ electronApp }) => {
  const page = electronApp.window;
  await page.getByLabel("Private key (nsec or hex)").fill("nsec1notarealkey");
  await page.getByRole("button", { name: "Import key" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Invalid private key" }).first()).toBeVisible();
  await expect(page.getByRole("button", { name: "Create account" })).toBeVisible();
  expect(existsSync(secretFile(electronApp.userDataDir)) && readFileSync(secretFile(electronApp.userDataDir), "utf8").includes('"secret"')).toBe(false);
});
