import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { expect, test } from "./host.js";

async function createAccount(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Create account" }).click();
  const npub = page.getByLabel("Your npub");
  await expect(npub).toHaveText(/^npub1[02-9ac-hj-np-z]{58}$/);
  return (await npub.textContent()) ?? "";
}

test("new_user_creates_account_and_sees_npub_empty_chats_and_no_agent_button", async ({ page, host }) => {
  await page.goto(host.url);
  await expect(page.getByRole("heading", { name: "Welcome to Burrow" })).toBeVisible();
  await createAccount(page);
  await expect(page.getByText("No chats yet")).toBeVisible();
  await expect(page.getByRole("listitem")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "New Agent" })).toHaveCount(0);
  await expect(page.getByRole("note")).toContainText("not encrypted by the operating system");
  expect(existsSync(join(host.dataDir, "secret-key"))).toBe(true);
});

test("logout_then_import_of_the_exported_nsec_gives_the_same_npub", async ({ page, host }) => {
  await page.goto(host.url);
  const npub = await createAccount(page);

  await page.getByRole("button", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
  await expect(page.getByLabel("Your private key")).toHaveCount(0);
  await page.getByRole("button", { name: "Show private key" }).click();
  const dialog = page.getByRole("dialog", { name: "Confirm key export" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Show key" }).click();
  const secret = page.getByLabel("Your private key");
  await expect(secret).toHaveText(/^nsec1/);
  const nsec = (await secret.textContent()) ?? "";

  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("dialog", { name: "Log out?" }).getByRole("button", { name: "Log out and delete key" }).click();
  await expect(page.getByRole("heading", { name: "Welcome to Burrow" })).toBeVisible();
  await expect.poll(() => existsSync(join(host.dataDir, "secret-key"))).toBe(false);

  await page.getByLabel("Private key (nsec or hex)").fill(nsec);
  await page.getByRole("button", { name: "Import key" }).click();
  await expect(page.getByLabel("Your npub")).toHaveText(npub);
});

test("e2e: logout_asks_first_says_the_key_leaves_this_device_and_offers_export_first", async ({ page, host }) => {
  await page.goto(host.url);
  const npub = await createAccount(page);
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  const dialog = page.getByRole("dialog", { name: "Log out?" });
  await expect(dialog).toContainText("deletes your private key from this device");
  // Cancel keeps everything.
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  expect(existsSync(join(host.dataDir, "secret-key"))).toBe(true);

  await page.getByRole("button", { name: "Log out" }).click();
  await dialog.getByRole("button", { name: "Export key first" }).click();
  const secret = dialog.getByLabel("Your private key");
  await expect(secret).toHaveText(/^nsec1/);
  const nsec = (await secret.textContent()) ?? "";
  expect(existsSync(join(host.dataDir, "secret-key"))).toBe(true);
  await dialog.getByRole("button", { name: "Log out and delete key" }).click();
  await expect(page.getByRole("heading", { name: "Welcome to Burrow" })).toBeVisible();
  await expect.poll(() => existsSync(join(host.dataDir, "secret-key"))).toBe(false);

  // The exported key is the account.
  await page.getByLabel("Private key (nsec or hex)").fill(nsec);
  await page.getByRole("button", { name: "Import key" }).click();
  await expect(page.getByLabel("Your npub")).toHaveText(npub);
});

test("e2e: a_new_account_is_offered_a_key_backup_once_and_dismissing_it_survives_a_reload", async ({ page, host }) => {
  await page.goto(host.url);
  await createAccount(page);
  const prompt = page.getByRole("region", { name: "Back up your key" });
  await expect(prompt).toBeVisible();
  await prompt.getByRole("button", { name: "Show my key" }).click();
  await expect(prompt.getByLabel("Your private key")).toHaveText(/^nsec1/);
  const nsec = (await prompt.getByLabel("Your private key").textContent()) ?? "";
  // Still offered after a reload until answered.
  await page.reload();
  await expect(prompt).toBeVisible();
  await prompt.getByRole("button", { name: "Not now" }).click();
  await expect(prompt).toHaveCount(0);
  await page.reload();
  await expect(page.getByLabel("Your npub")).toBeVisible();
  await expect(prompt).toHaveCount(0);

  // An imported key was backed up already: no prompt for it.
  await page.getByRole("button", { name: "Settings" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("dialog", { name: "Log out?" }).getByRole("button", { name: "Log out and delete key" }).click();
  await page.getByLabel("Private key (nsec or hex)").fill(nsec);
  await page.getByRole("button", { name: "Import key" }).click();
  await expect(page.getByLabel("Your npub")).toBeVisible();
  await expect(prompt).toHaveCount(0);
});

test("an_invalid_key_shows_an_inline_error_and_stores_nothing", async ({ page, host }) => {
  await page.goto(host.url);
  await page.getByLabel("Private key (nsec or hex)").fill("nsec1notarealkey");
  await page.getByRole("button", { name: "Import key" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Invalid private key" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Welcome to Burrow" })).toBeVisible();
  expect(existsSync(join(host.dataDir, "secret-key"))).toBe(false);
});

test("reload_and_host_restart_keep_the_session", async ({ page, host }) => {
  await page.goto(host.url);
  const npub = await createAccount(page);
  await page.reload();
  await expect(page.getByLabel("Your npub")).toHaveText(npub);
  await host.restart();
  await page.goto(host.url);
  await expect(page.getByLabel("Your npub")).toHaveText(npub);
});

test("two_tabs_see_the_same_state", async ({ page, context, host }) => {
  await page.goto(host.url);
  const second = await context.newPage();
  await second.goto(host.url);
  await expect(second.getByRole("heading", { name: "Welcome to Burrow" })).toBeVisible();
  const npub = await createAccount(page);
  await expect(second.getByLabel("Your npub")).toHaveText(npub);
});

test("a_websocket_without_the_token_is_refused", async ({ page, host }) => {
  await page.goto(`${host.origin}/`);
  await expect(page.getByRole("status", { name: "Connection" })).toContainText("This page needs the link printed by Burrow");
  await expect(page.getByRole("button", { name: "Create account" })).toHaveCount(0);
  const outcome = await page.evaluate(
    (wsUrl) =>
      new Promise<{ code: number; messages: number }>((resolve) => {
        let messages = 0;
        const ws = new WebSocket(wsUrl);
        ws.onmessage = () => (messages += 1);
        ws.onclose = (event) => resolve({ code: event.code, messages });
      }),
    `ws://${new URL(host.origin).host}/ws?token=wrong`,
  );
  expect(outcome).toEqual({ code: 1008, messages: 0 });
  expect(host.logs.some((line) => line["event"] === "ws_refused" && line["reason"] === "token")).toBe(true);
});

test("the_key_storage_notice_can_be_dismissed_stays_dismissed_after_a_reload_and_is_kept_in_settings", async ({ page, host }) => {
  await page.goto(host.url);
  await createAccount(page);
  const notice = page.getByRole("note", { name: "Key storage" });
  await expect(notice).toContainText("not encrypted by the operating system");
  await notice.getByRole("button", { name: "Dismiss" }).click();
  await expect(notice).toHaveCount(0);
  await page.reload();
  await expect(page.getByLabel("Your npub")).toBeVisible();
  await expect(page.getByRole("note", { name: "Key storage" })).toHaveCount(0);
  await page.getByRole("button", { name: "Settings" }).click();
  await expect(page.getByRole("region", { name: "Key storage" })).toContainText("not encrypted by the operating system");
});
