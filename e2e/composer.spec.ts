import { expect, startDirectChat, test, twoUsers } from "./host.js";

test("e2e: the_emoji_picker_inserts_at_the_caret_with_the_keyboard_and_the_other_side_reads_it", async ({ browser, newHost }) => {
  const { alice, bob, bobNpub } = await twoUsers(browser, newHost);
  await startDirectChat(alice, bob, bobNpub);

  const composer = alice.getByRole("textbox", { name: "Message" });
  await composer.fill("warm burrow");
  await composer.press("Home");
  await alice.getByRole("button", { name: "Emoji" }).click();
  const picker = alice.getByRole("dialog", { name: "Emoji" });
  await expect(picker).toBeVisible();
  // One tab stop: the first emoji has focus, the arrow key moves it.
  await expect(picker.getByRole("button", { name: "😀" })).toBeFocused();
  await alice.keyboard.press("ArrowRight");
  await expect(picker.getByRole("button", { name: "😄" })).toBeFocused();
  await alice.keyboard.press("Enter");
  await expect(picker).toBeHidden();
  await expect(composer).toHaveValue("😄warm burrow");
  await expect(composer).toBeFocused();

  await alice.getByRole("button", { name: "Emoji" }).click();
  await alice.keyboard.press("Escape");
  await expect(alice.getByRole("dialog", { name: "Emoji" })).toBeHidden();
  await composer.press("Enter");
  await expect(bob.getByRole("log", { name: "Messages" }).getByText("😄warm burrow")).toBeVisible({ timeout: 10_000 });
});
