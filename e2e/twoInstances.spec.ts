// e2e: the README's two-instance recipe as written. Two `npm start`s (each with its own --data-dir and
// --port) share one local stack with no relay edited by hand; they chat both ways, and after either
// restarts, chat and New Agent still work.
import type { Page } from "@playwright/test";
import { expect, test, type RunningInstance, signUp } from "./host.js";

test.setTimeout(240_000);

async function send(page: Page, text: string): Promise<void> {
  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill(text);
  await composer.press("Enter");
  await expect(page.getByRole("log", { name: "Messages" }).getByText(text, { exact: true })).toBeVisible();
}

async function reopen(page: Page, instance: RunningInstance): Promise<void> {
  await page.goto(instance.url);
  await expect(page.getByRole("status", { name: "Network status" })).toHaveText(/Online/, { timeout: 15_000 });
  await page.getByRole("list", { name: "Chats" }).getByRole("button").first().click();
}

/** Nothing `npm start` printed is a stack trace or a raw port error. */
function expectNoStackTrace(instance: RunningInstance): void {
  const output = instance.output.join("\n");
  expect(output).not.toMatch(/EADDRINUSE|EPIPE|\n\s+at /);
}

test("e2e: two_instances_from_the_readme_share_one_stack_chat_both_ways_and_survive_a_restart_with_new_agent", async ({ browser, newInstance }) => {
  const aliceHost = await newInstance();
  const bobHost = await newInstance();
  const stackLine = (instance: RunningInstance) => instance.output.find((line) => line.startsWith("Local stack: relay ")) ?? "";
  expect(stackLine(aliceHost)).toMatch(/\(started;/);
  expect(stackLine(bobHost)).toMatch(/\(already running;/);
  const relayOf = (instance: RunningInstance) => /relay (ws:\/\/\S+),/.exec(stackLine(instance))?.[1];
  expect(relayOf(bobHost)).toBe(relayOf(aliceHost));
  expect(relayOf(aliceHost)).not.toBe("ws://127.0.0.1:7447");

  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await signUp(alice, aliceHost.url);
  const bobNpub = await signUp(bob, bobHost.url);

  await alice.getByRole("button", { name: "New chat" }).click();
  const dialog = alice.getByRole("dialog", { name: "New chat" });
  await dialog.getByRole("textbox", { name: "Npub or hex public key" }).fill(bobNpub);
  await dialog.getByRole("button", { name: "Start chat" }).click();
  await expect(dialog).toBeHidden({ timeout: 20_000 });
  const accept = bob.getByRole("button", { name: /^Accept invite from/ });
  await expect(accept).toBeVisible({ timeout: 20_000 });
  await accept.click();
  await send(alice, "hello bob");
  await expect(bob.getByRole("log", { name: "Messages" }).getByText("hello bob")).toBeVisible({ timeout: 15_000 });
  await send(bob, "hello alice");
  await expect(alice.getByRole("log", { name: "Messages" }).getByText("hello alice")).toBeVisible({ timeout: 15_000 });

  // Bob restarts (Ctrl+C, npm start again): the stack stays for Alice, and Bob finds it again.
  await bobHost.restart();
  expect(bobHost.output.filter((line) => line.startsWith("Local stack: relay ")).at(-1)).toMatch(/\(already running;/);
  await reopen(bob, bobHost);
  await send(alice, "still there after your restart?");
  await expect(bob.getByRole("log", { name: "Messages" }).getByText("still there after your restart?")).toBeVisible({ timeout: 15_000 });
  await send(bob, "yes, back again");
  await expect(alice.getByRole("log", { name: "Messages" }).getByText("yes, back again")).toBeVisible({ timeout: 15_000 });

  // Then Alice, who launched the stack, restarts: her Ctrl+C leaves the stack running for Bob.
  await aliceHost.restart();
  await reopen(alice, aliceHost);
  await send(alice, "and after mine");
  await expect(bob.getByRole("log", { name: "Messages" }).getByText("and after mine")).toBeVisible({ timeout: 15_000 });

  expect(aliceHost.output.filter((line) => line.startsWith("Local stack: relay ")).at(-1)).toMatch(/\(already running;/);

  // New Agent on both restarted instances: the local stack's agent server admits every account.
  for (const page of [bob, alice]) {
    const button = page.getByRole("button", { name: "New Agent" });
    await expect(button).toBeEnabled({ timeout: 20_000 });
    await button.click();
    await expect(button).toBeDisabled();
    await expect(button).toBeEnabled({ timeout: 90_000 });
    const openChat = page.getByRole("region").filter({ has: page.getByRole("button", { name: "Close chat" }) });
    await expect(openChat).toContainText("Your agent");
    await send(page, "hello agent");
    await expect(openChat.getByRole("log", { name: "Messages" }).getByText("ACK: hello agent")).toBeVisible({ timeout: 30_000 });
  }

  for (const instance of [aliceHost, bobHost]) expectNoStackTrace(instance);
});

test("e2e: both_instances_restarted_find_the_stack_on_the_same_relay_url", async ({ newInstance }) => {
  const first = await newInstance();
  const relay = /relay (ws:\/\/\S+),/.exec(first.output.find((line) => line.startsWith("Local stack: relay ")) ?? "")?.[1];
  await first.stop();
  await first.restart();
  const again = first.output.filter((line) => line.startsWith("Local stack: relay ")).at(-1) ?? "";
  expect(again).toMatch(/\(started;/);
  expect(/relay (ws:\/\/\S+),/.exec(again)?.[1]).toBe(relay);
  expectNoStackTrace(first);
});
