import type { Page } from "@playwright/test";
import { createGroup, expect, startDirectChat, test, twoUsers } from "./host.js";

const log = (page: Page) => page.getByRole("log", { name: "Messages" });

async function send(page: Page, text: string): Promise<void> {
  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill(text);
  await composer.press("Enter");
}

const LINK = "https://example.org/reading/flow?from=bob#top";
const BURST = 12;

test("unread_messages_open_at_a_divider_with_date_lines_groups_links_jump_to_latest_and_the_count_in_the_title", async ({ browser, newHost }) => {
  test.setTimeout(120_000);
  const { alice, bob, bobNpub } = await twoUsers(browser, newHost, { viewport: { width: 1100, height: 650 }, permissions: ["clipboard-read", "clipboard-write"] });
  const aliceContext = alice.context();

  // A direct chat both are in, then a group Alice stays in while Bob writes in the direct chat.
  await startDirectChat(alice, bob, bobNpub);
  await send(alice, "hi bob");
  await expect(log(bob).getByText("hi bob")).toBeVisible({ timeout: 15_000 });

  await createGroup(alice, "Elsewhere", [bobNpub]);

  await send(bob, `have a look: ${LINK}.`);
  for (let i = 1; i < BURST; i++) await send(bob, `note ${i}\nsecond line\nthird line`);
  // Every message went out: none still sending, the newest (in view, the list follows it) sent.
  await expect(log(bob).getByText(`note ${BURST - 1}`)).toBeVisible({ timeout: 30_000 });
  await expect(log(bob).getByText("Sending…")).toHaveCount(0, { timeout: 30_000 });
  await expect(log(bob).getByText("Sent").last()).toHaveAttribute("title", "A relay accepted this message");
  await expect(alice).toHaveTitle(`(${BURST}) Burrow`, { timeout: 15_000 });

  // Opening the chat: at the divider above the first unread message; everything is read now.
  await alice.getByRole("list", { name: "Chats" }).getByRole("button", { name: /^npub1/ }).click();
  const divider = log(alice).getByText(`${BURST} new messages`);
  await expect(divider).toBeInViewport();
  await expect(alice).toHaveTitle("Burrow");
  // Bob's burst is one group: his name once, then only the messages.
  await expect(log(alice).locator(".message-theirs:not(.message-continued)")).toHaveCount(1);
  await expect(log(alice).locator(".message-continued").first()).toBeVisible();

  // A link shows its full address and opens outside the app only when confirmed.
  await aliceContext.route("https://example.org/**", (route) => route.fulfill({ contentType: "text/plain", body: "outside" }));
  const link = log(alice).getByRole("link", { name: LINK });
  await expect(link).toHaveAttribute("href", LINK);
  await link.click();
  const confirm = alice.getByRole("dialog", { name: "Open link?" });
  await expect(confirm).toContainText(LINK);
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toBeHidden();
  expect(aliceContext.pages()).toHaveLength(1);
  await link.click();
  const popup = aliceContext.waitForEvent("page");
  await alice.getByRole("dialog", { name: "Open link?" }).getByRole("button", { name: "Open link" }).click();
  const opened = await popup;
  await expect.poll(() => opened.url()).toBe(LINK);
  expect(await opened.evaluate(() => window.opener)).toBeNull();
  await opened.close();

  // Scrolled up, new arrivals are counted on Jump to latest.
  await log(alice).evaluate((el) => el.scrollTo({ top: 0 }));
  const jump = alice.getByRole("button", { name: /^Jump to latest/ });
  await expect(jump).toBeVisible();
  await send(bob, "are you there?");
  await send(bob, "hello?");
  await expect(jump).toHaveAccessibleName("Jump to latest 2 new", { timeout: 15_000 });
  await expect(log(alice).getByText("Today")).toBeVisible();
  await jump.click();
  await expect(log(alice).getByText("hello?")).toBeInViewport();
  await expect(jump).toBeHidden();
  await expect(alice).toHaveTitle("Burrow");

  // Copy puts a message's text on the clipboard; its text runs in its own direction.
  const newest = log(alice).locator(".message").filter({ hasText: "hello?" });
  await expect(newest.locator(".message-text")).toHaveAttribute("dir", "auto");
  await newest.getByRole("button", { name: "Copy" }).click();
  await expect(newest.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await alice.evaluate(() => navigator.clipboard.readText())).toBe("hello?");

  // The messages' buttons are one tab stop; arrow keys move between them.
  await log(alice).focus();
  await alice.keyboard.press("Tab");
  const inList = () => log(alice).evaluate((el) => el.contains(document.activeElement) && document.activeElement !== el);
  const focused = () => alice.evaluate(() => document.activeElement?.outerHTML ?? "");
  expect(await inList()).toBe(true);
  const first = await focused();
  expect(first).toContain("data-roving");
  await alice.keyboard.press("ArrowRight");
  expect(await inList()).toBe(true);
  expect(await focused()).not.toBe(first);
  // Tab leaves the buttons: what follows in the list is a link at most, never another message's button.
  for (let i = 0; i < 10 && (await inList()); i++) {
    await alice.keyboard.press("Tab");
    if (await inList()) expect(await focused()).not.toContain("data-roving");
  }
  expect(await inList()).toBe(false);
});

test("older_history_loads_as_the_reader_scrolls_up_with_no_button", async ({ browser, newHost }) => {
  test.setTimeout(120_000);
  const { alice, bob, bobNpub } = await twoUsers(browser, newHost);
  await startDirectChat(alice, bob, bobNpub);

  // More than a page (50), read as they arrive in the open chat.
  const count = 60;
  for (let i = 0; i < count; i++) await send(bob, `history ${i}`);
  await expect(log(alice).getByText(`history ${count - 1}`, { exact: true })).toBeVisible({ timeout: 30_000 });
  await alice.getByRole("button", { name: "Close chat" }).click();
  await alice.getByRole("list", { name: "Chats" }).getByRole("button", { name: /^npub1/ }).click();
  await expect(log(alice).getByText(`history ${count - 1}`, { exact: true })).toBeInViewport();
  await expect(log(alice).getByRole("button", { name: /older/i })).toHaveCount(0);

  const oldest = log(alice).getByText("history 0", { exact: true });
  await expect(oldest).toHaveCount(0);
  await expect(async () => {
    await log(alice).evaluate((el) => el.scrollTo({ top: 0 }));
    await expect(oldest).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });

  // A first page too short to scroll loads older pages by itself until the history ends.
  await alice.setViewportSize({ width: 1100, height: 9_000 });
  await alice.getByRole("button", { name: "Close chat" }).click();
  await alice.getByRole("list", { name: "Chats" }).getByRole("button", { name: /^npub1/ }).click();
  await expect(oldest).toBeVisible({ timeout: 15_000 });
  expect(await log(alice).evaluate((el) => el.scrollHeight <= el.clientHeight)).toBe(true);
});
