import { expect, signUp, startDirectChat, test, twoUsers } from "./host.js";

test("e2e: at_500_px_one_pane_shows_at_a_time_nothing_scrolls_sideways_and_close_chat_leads_back_to_the_list", async ({ browser, newHost }) => {
  const { alice, bob, bobNpub } = await twoUsers(browser, newHost, { viewport: { width: 500, height: 800 } });
  const noSidewaysScroll = () => alice.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

  const chats = alice.getByRole("list", { name: "Chats" });
  await expect(alice.getByRole("button", { name: "New chat" })).toBeVisible();
  expect(await noSidewaysScroll()).toBe(true);
  await startDirectChat(alice, bob, bobNpub);

  // The open chat takes the whole width: the list is out of the way, the composer in reach.
  const composer = alice.getByRole("textbox", { name: "Message" });
  await expect(composer).toBeInViewport();
  await expect(chats).toBeHidden();
  await composer.fill("a long line that has to wrap inside the narrow window rather than push it wider than the screen");
  await composer.press("Enter");
  await expect(bob.getByRole("log", { name: "Messages" }).getByText("a long line")).toBeVisible({ timeout: 10_000 });
  expect(await noSidewaysScroll()).toBe(true);
  const header = await alice.getByRole("banner").first().boundingBox();
  expect(header && header.height).toBeLessThan(140);

  await alice.getByRole("button", { name: "Close chat" }).click();
  await expect(chats).toBeVisible();
  await expect(chats.getByRole("listitem")).toHaveCount(1);
});

test("e2e: the_dark_theme_follows_the_system_and_keeps_text_readable", async ({ browser, newHost }) => {
  const host = await newHost();
  const page = await (await browser.newContext({ colorScheme: "dark" })).newPage();
  await signUp(page, host.url);
  const colours = await page.evaluate(() => {
    const style = getComputedStyle(document.body);
    return { background: style.backgroundColor, text: style.color };
  });
  const luminance = (rgb: string): number => {
    const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => Number(v) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(colours.text), luminance(colours.background)].sort((a, b) => b - a) as [number, number];
  expect(luminance(colours.background)).toBeLessThan(0.05);
  expect((light + 0.05) / (dark + 0.05)).toBeGreaterThanOrEqual(4.5);
});
