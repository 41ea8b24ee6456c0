// e2e: the real renderer against real browser hosts, relay and agent server, on the dead ends of
// issue 12: an unreachable agent API, long pastes, errors shown twice, headers, host restarts.
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, launchWebHost, signUp, startHost, stopProcess, test, twoUsers } from "./host.js";

/** A port on 127.0.0.1 with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("e2e: an_unreachable_agent_api_shows_why_in_settings_with_retry_and_a_disabled_new_agent", async ({ page, relay }) => {
  const host = await startHost(relay.url, `http://127.0.0.1:${await closedPort()}`);
  try {
    await signUp(page, host.url);
    const button = page.getByRole("button", { name: "New Agent" });
    await expect(button).toBeVisible({ timeout: 10_000 });
    await expect(button).toHaveAttribute("aria-disabled", "true");
    await expect(page.getByRole("status", { name: "Agent progress" })).toHaveText("The agent API could not be reached (ECONNREFUSED). Retry in Settings → Agent.");
    // Disabled, yet focusable: a forced click starts nothing and toasts nothing.
    await button.click({ force: true });
    await expect(page.getByRole("region", { name: "Notifications" }).locator(".toast")).toHaveCount(0);
    await expect(page.getByRole("progressbar", { name: "Starting agent" })).toHaveCount(0);

    await page.getByRole("button", { name: "Settings" }).click();
    await expect(page.getByRole("status", { name: "Agent access" })).toHaveText("Could not check agent access.");
    const error = page.getByRole("alert").filter({ hasText: "could not be reached" });
    await expect(error).toContainText("Last tried");
    await page.getByRole("button", { name: "Retry" }).click();
    await expect(page.getByRole("button", { name: "Retry" })).toBeEnabled();
    await expect(error).toBeVisible();
  } finally {
    await host.stop();
  }
});

test("e2e: headers_show_the_other_party_a_long_paste_shows_the_limit_and_an_inline_error_is_not_toasted", async ({ browser, newHost }) => {
  test.setTimeout(60_000);
  const { alice, bob, aliceNpub, bobNpub } = await twoUsers(browser, newHost);

  // Our own npub: the core refuses it, the dialog says so, and no toast repeats it.
  await alice.getByRole("button", { name: "New chat" }).click();
  const dialog = alice.getByRole("dialog", { name: "New chat" });
  await dialog.getByRole("textbox", { name: "Npub or hex public key" }).fill(aliceNpub);
  await dialog.getByRole("button", { name: "Start chat" }).click();
  await expect(dialog.getByRole("alert")).toHaveText("That is your own key. Enter someone else's npub.");
  await expect(alice.getByRole("region", { name: "Notifications" }).locator(".toast")).toHaveCount(0);

  await dialog.getByRole("textbox", { name: "Npub or hex public key" }).fill(bobNpub);
  await dialog.getByRole("button", { name: "Start chat" }).click();
  await expect(dialog).toBeHidden({ timeout: 15_000 });
  // The creator's header names the peer, not the creator.
  const aliceHeader = alice.locator(".chat-header");
  await expect(aliceHeader.getByText(bobNpub, { exact: true })).toBeVisible();
  await expect(aliceHeader.getByText(aliceNpub, { exact: true })).toHaveCount(0);
  await bob.getByRole("button", { name: /^Accept invite from/ }).click({ timeout: 15_000 });
  const bobHeader = bob.locator(".chat-header");
  await expect(bobHeader.getByText(aliceNpub, { exact: true })).toBeVisible();

  // A paste over the limit is kept whole, shown as too long, and cannot be sent.
  const composer = alice.getByRole("textbox", { name: "Message" });
  await composer.fill("z".repeat(20_000));
  await expect(composer).toHaveValue("z".repeat(20_000));
  const length = alice.getByLabel("Message length");
  await expect(length).toHaveText("Too long to send: 20,000 of at most 16,000 characters. Shorten it or send it in parts.");
  await expect(alice.getByRole("button", { name: "Send" })).toBeDisabled();
  await composer.press("Enter");
  await expect(composer).toHaveValue("z".repeat(20_000));
  // Near the limit the count shows; at it, it sends whole.
  await composer.fill("z".repeat(15_000));
  await expect(length).toHaveText("15,000 / 16,000 characters");
  await composer.fill("z".repeat(16_000));
  await alice.getByRole("button", { name: "Send" }).click();
  await expect(composer).toHaveValue("");
  const received = bob.getByRole("log", { name: "Messages" }).getByText(/^z+$/);
  await expect(received).toBeVisible({ timeout: 15_000 });
  expect((await received.textContent())?.length).toBe(16_000);
});

interface OwnHost {
  child: ChildProcess;
  url: string;
  logs: Record<string, unknown>[];
}

/** The browser host as `npm start` runs it: no --port, so it keeps its data dir's port and token. */
async function launchOwnHost(dataDir: string, relayUrl: string): Promise<OwnHost> {
  const logs: Record<string, unknown>[] = [];
  const { child, url } = await launchWebHost(["--data-dir", dataDir, "--relay", relayUrl, "--agent-api", "http://127.0.0.1:9"], logs);
  return { child, url, logs };
}

const stopOwnHost = (host: OwnHost): Promise<void> => stopProcess(host.child);

test("e2e: a_host_restart_keeps_port_and_token_and_the_open_page_says_disconnected_until_it_reconnects", async ({ page, relay }) => {
  test.setTimeout(60_000);
  const dataDir = await mkdtemp(join(tmpdir(), "burrow-e2e-restart-"));
  let host = await launchOwnHost(dataDir, relay.url);
  try {
    expect((await stat(join(dataDir, "web-token"))).mode & 0o777).toBe(0o600);
    const npub = await signUp(page, host.url);
    const status = page.getByRole("status", { name: "Network status" });
    await expect(status).toHaveText("Online", { timeout: 10_000 });

    await stopOwnHost(host);
    await expect(status).toHaveText("Disconnected");
    await expect(page.getByRole("status", { name: "Connection" })).toContainText("Disconnected from Burrow");

    const firstUrl = host.url;
    host = await launchOwnHost(dataDir, relay.url);
    expect(host.url).toBe(firstUrl);
    // The page left open reconnects by itself, with the same token.
    await expect(page.getByRole("status", { name: "Connection" })).toHaveCount(0, { timeout: 15_000 });
    await expect(page.getByLabel("Your npub")).toHaveText(npub);
    await expect(status).toHaveText("Online", { timeout: 10_000 });

    // The port is taken meanwhile: the host starts on another one and says so.
    await stopOwnHost(host);
    // The page keeps knocking on the old port: its connections are dropped at once.
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(Number(new URL(firstUrl).port), "127.0.0.1", resolve));
    try {
      host = await launchOwnHost(dataDir, relay.url);
      expect(new URL(host.url).port).not.toBe(new URL(firstUrl).port);
      expect(host.logs.find((line) => line["event"] === "port_fallback")).toMatchObject({ wanted: Number(new URL(firstUrl).port), reason: "it is in use" });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  } finally {
    await stopOwnHost(host);
    await rm(dataDir, { recursive: true, force: true });
  }
});
