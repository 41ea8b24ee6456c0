import { expect, test, twoUsers } from "./host.js";

test("two_users_open_a_direct_chat_and_talk", async ({ browser, newHost }) => {
  const { alice, bob, aliceNpub, bobNpub } = await twoUsers(browser, newHost);
  await expect(alice.getByRole("status", { name: "Network status" })).toHaveText(/Online/);

  await alice.getByRole("button", { name: "New chat" }).click();
  const dialog = alice.getByRole("dialog", { name: "New chat" });
  const peerField = dialog.getByRole("textbox", { name: "Npub or hex public key" });
  await peerField.fill("npub1notvalid");
  await expect(dialog.getByRole("alert")).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Start chat" })).toBeDisabled();
  await peerField.fill(bobNpub);
  await dialog.getByRole("button", { name: "Start chat" }).click();
  await expect(dialog).toBeHidden({ timeout: 15_000 });
  await expect(alice.getByRole("list", { name: "Chats" }).getByRole("listitem")).toHaveCount(1);

  const accept = bob.getByRole("button", { name: /^Accept invite from/ });
  await expect(accept).toBeVisible({ timeout: 15_000 });
  await accept.click();
  await expect(bob.getByRole("log", { name: "Messages" })).toBeVisible();

  const aliceComposer = alice.getByRole("textbox", { name: "Message" });
  await aliceComposer.fill("hello bob");
  await aliceComposer.press("Enter");
  await expect(alice.getByRole("log", { name: "Messages" }).getByText("hello bob")).toBeVisible();
  await expect(alice.getByText("Sent")).toBeVisible({ timeout: 10_000 });
  await expect(bob.getByRole("log", { name: "Messages" }).getByText("hello bob")).toBeVisible({ timeout: 10_000 });

  const bobComposer = bob.getByRole("textbox", { name: "Message" });
  await bobComposer.fill("first line");
  await bobComposer.press("Shift+Enter");
  await bobComposer.pressSequentially("second line");
  await expect(bobComposer).toHaveValue("first line\nsecond line");
  await bob.getByRole("button", { name: "Send" }).click();
  await expect(alice.getByRole("log", { name: "Messages" }).getByText(/first line\s+second line/)).toBeVisible({ timeout: 10_000 });

  // Starting a chat with the same peer again opens the existing one.
  await bob.getByRole("button", { name: "New chat" }).click();
  await bob.getByRole("dialog", { name: "New chat" }).getByRole("textbox", { name: "Npub or hex public key" }).fill(aliceNpub);
  await bob.getByRole("dialog", { name: "New chat" }).getByRole("button", { name: "Start chat" }).click();
  await expect(bob.getByRole("dialog", { name: "New chat" })).toBeHidden();
  await expect(bob.getByRole("list", { name: "Chats" }).getByRole("listitem")).toHaveCount(1);
});

test("history_survives_a_host_restart", async ({ browser, newHost }) => {
  const { alice, bobNpub, aliceHost } = await twoUsers(browser, newHost);
  await alice.getByRole("button", { name: "New chat" }).click();
  await alice.getByRole("textbox", { name: "Npub or hex public key" }).fill(bobNpub);
  await alice.getByRole("button", { name: "Start chat" }).click();
  const composer = alice.getByRole("textbox", { name: "Message" });
  await composer.fill("kept across restarts");
  await composer.press("Enter");
  await expect(alice.getByText("Sent")).toBeVisible({ timeout: 10_000 });

  await aliceHost.restart();
  await alice.goto(aliceHost.url);
  await alice.getByRole("list", { name: "Chats" }).getByRole("button").first().click();
  await expect(alice.getByRole("log", { name: "Messages" }).getByText("kept across restarts")).toBeVisible();
});
