import { expect, test } from "./host.js";

test("an_allowlisted_user_clicks_new_agent_and_talks_to_their_agent", async ({ page, host, agentServer }) => {
  await page.goto(host.url);
  await page.getByRole("button", { name: "Create account" }).click();
  const npub = (await page.getByLabel("Your npub").textContent()) ?? "";
  expect(npub).toMatch(/^npub1/);
  await agentServer.store.setAllowlist({ npub, active: true, note: "e2e", max_agents: 5 }, "e2e", "add");
  // Access is probed again when the network comes back.
  await page.getByRole("switch", { name: "Network" }).click();
  await page.getByRole("switch", { name: "Network" }).click();

  const button = page.getByRole("button", { name: "New Agent" });
  await expect(button).toBeEnabled({ timeout: 10_000 });
  await button.click();
  await expect(page.getByRole("status", { name: "Agent progress" })).toBeVisible();
  await expect(button).toBeDisabled();

  const messages = page.getByRole("log", { name: "Messages" });
  await expect(messages).toBeVisible({ timeout: 30_000 });
  await expect(button).toBeEnabled();
  await expect(page.getByRole("list", { name: "Chats" }).getByRole("listitem").first()).toContainText("Agent");

  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill("hello");
  await composer.press("Enter");
  await expect(messages.getByText("ACK: hello")).toBeVisible({ timeout: 20_000 });
});

test("a_user_who_is_not_allowlisted_sees_no_agent_button", async ({ page, host }) => {
  await page.goto(host.url);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByLabel("Your npub")).toHaveText(/^npub1/);
  await page.getByRole("button", { name: "Settings" }).click();
  await expect(page.getByText("This account is not allowlisted for agents.")).toBeVisible({ timeout: 10_000 });
  await page.getByRole("button", { name: "Back" }).click();
  await expect(page.getByRole("button", { name: "New Agent" })).toHaveCount(0);
});
