import type { Page } from "@playwright/test";
import { acceptInvite, createGroup, expect, startDirectChat, test, twoUsers } from "./host.js";

async function send(page: Page, text: string): Promise<void> {
  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill(text);
  await composer.press("Enter");
}

const log = (page: Page) => page.getByRole("log", { name: "Messages" });

test("a_user_searches_opens_a_result_at_its_message_and_switches_chats_with_ctrl_k", async ({ browser, newHost }) => {
  test.setTimeout(90_000);
  const { alice, bob, bobNpub } = await twoUsers(browser, newHost);

  await startDirectChat(alice, bob, bobNpub);
  await send(alice, 'the secret word is "pineapple" (AND more)');
  for (let i = 0; i < 5; i++) await send(alice, `filler message ${i}`);
  await expect(log(bob).getByText("filler message 4")).toBeVisible({ timeout: 15_000 });

  await createGroup(alice, "Book club", [bobNpub]);
  await acceptInvite(bob);
  await expect(bob.getByRole("heading", { name: "Book club" })).toBeVisible();

  // Search every chat: FTS syntax in the query is searched as text, never an error.
  const box = bob.getByRole("searchbox", { name: "Search messages" });
  await box.fill('"pineapple" (AND');
  const results = bob.getByRole("list", { name: "Search results" });
  await expect(results.getByRole("listitem")).toHaveCount(1);
  await expect(results.locator("mark").first()).toHaveText("pineapple");
  await box.fill("nothingmatches");
  await expect(bob.getByText("No messages found")).toBeVisible();
  await box.fill("pineapple");
  await results.getByRole("button").first().click();
  const focused = log(bob).locator('[aria-current="true"]');
  await expect(focused).toContainText("pineapple");
  await expect(focused).toHaveClass(/message-highlighted/);
  // The direct chat opened in place of the group.
  await expect(bob.getByRole("heading", { name: "Book club" })).toBeHidden();

  // Search within the open chat.
  await bob.getByRole("button", { name: "Search in chat" }).click();
  await bob.getByRole("searchbox", { name: "Search this chat" }).fill("filler");
  await expect(bob.getByRole("list", { name: "Search results" }).getByRole("listitem")).toHaveCount(5);

  // Ctrl+K switches chats by name.
  await log(bob).click();
  await bob.keyboard.press("Control+k");
  const switcher = bob.getByRole("dialog", { name: "Switch to chat" });
  await switcher.getByRole("searchbox", { name: "Chat name or member" }).fill("book");
  await expect(switcher.getByRole("list", { name: "Matching chats" }).getByRole("button")).toHaveText(["Book club"]);
  await switcher.getByRole("searchbox", { name: "Chat name or member" }).press("Enter");
  await expect(switcher).toBeHidden();
  await expect(bob.getByRole("heading", { name: "Book club" })).toBeVisible();
});
