import type { Page } from "@playwright/test";
import { expect, startDirectChat, test, twoUsers } from "./host.js";

/** The row of the message showing `text` in this page's open chat. */
const row = (page: Page, text: string | RegExp) => page.getByRole("log", { name: "Messages" }).locator(".message").filter({ hasText: text });

async function send(page: Page, text: string): Promise<void> {
  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill(text);
  await composer.press("Enter");
  await expect(row(page, text).getByText("Sent")).toBeVisible({ timeout: 10_000 });
}

test("two_users_reply_edit_and_delete_messages_through_the_relay", async ({ browser, newHost }) => {
  const { alice, bob, bobNpub } = await twoUsers(browser, newHost);
  await startDirectChat(alice, bob, bobNpub);

  // A reply quotes its parent on the other side; the quote leads back to it.
  await send(alice, "what time is lunch?");
  await expect(row(bob, "what time is lunch?")).toBeVisible({ timeout: 10_000 });
  await expect(row(bob, "what time is lunch?").getByRole("button", { name: "Edit" })).toHaveCount(0);
  await expect(row(bob, "what time is lunch?").getByRole("button", { name: "Delete" })).toHaveCount(0);
  await row(bob, "what time is lunch?").getByRole("button", { name: "Reply" }).click();
  await expect(bob.getByRole("group", { name: "Replying" })).toContainText("what time is lunch?");
  await bob.getByRole("textbox", { name: "Message" }).fill("noon works");
  await bob.getByRole("textbox", { name: "Message" }).press("Enter");
  await expect(bob.getByRole("group", { name: "Replying" })).toBeHidden();
  const quote = row(alice, "noon works").getByRole("button", { name: "Show the message this replies to: what time is lunch?" });
  await expect(quote).toBeVisible({ timeout: 10_000 });
  await quote.click();
  await expect(row(alice, /^(?!.*noon works).*what time is lunch\?/)).toHaveClass(/message-highlighted/);

  // An edit shows the new text, marked edited, on the other side.
  await send(alice, "see you at 12");
  await expect(row(bob, "see you at 12")).toBeVisible({ timeout: 10_000 });
  await row(alice, "see you at 12").getByRole("button", { name: "Edit" }).click();
  const composer = alice.getByRole("textbox", { name: "Message" });
  await expect(composer).toHaveValue("see you at 12");
  await composer.fill("see you at 1");
  await alice.getByRole("button", { name: "Save" }).click();
  await expect(row(bob, "see you at 1")).toContainText("edited", { timeout: 10_000 });
  await expect(row(bob, "see you at 12")).toHaveCount(0);
  await expect(composer).toHaveValue("");

  // A deletion, once confirmed, leaves "Message deleted" on both sides, also in the reply's quote.
  await row(alice, "what time is lunch?").first().getByRole("button", { name: "Delete" }).click();
  const confirm = alice.getByRole("dialog", { name: "Delete message?" });
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expect(confirm).toBeHidden();
  await expect(bob.getByRole("log", { name: "Messages" }).getByText("Message deleted", { exact: true }).first()).toBeVisible({ timeout: 10_000 });
  await expect(row(bob, "noon works").getByRole("button", { name: "Show the message this replies to: Message deleted" })).toBeVisible();
  await expect(bob.getByRole("log", { name: "Messages" }).getByText("what time is lunch?")).toHaveCount(0);
  await expect(alice.getByRole("log", { name: "Messages" }).getByText("what time is lunch?")).toHaveCount(0);
});
