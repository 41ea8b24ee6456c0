import { expect, test, twoUsers } from "./host.js";

test("a_name_set_in_settings_shows_in_the_other_users_chat_header_and_list", async ({ browser, newHost }) => {
  const { alice, bob, aliceNpub } = await twoUsers(browser, newHost);

  await alice.getByRole("button", { name: "Settings" }).click();
  const profile = alice.getByRole("region", { name: "Profile" });
  await profile.getByRole("textbox", { name: "Picture URL" }).fill("javascript:alert(1)");
  await profile.getByRole("button", { name: "Save profile" }).click();
  await expect(profile.getByRole("alert")).toHaveText(/https:\/\/ or http:\/\//);
  await profile.getByRole("textbox", { name: "Picture URL" }).fill("");
  await profile.getByRole("textbox", { name: "Name" }).fill("Alice Liddell");
  await profile.getByRole("textbox", { name: "About" }).fill("Down the rabbit hole");
  await profile.getByRole("button", { name: "Save profile" }).click();
  await expect(profile.getByRole("status")).toHaveText("Profile saved");
  await expect(profile.getByRole("img", { name: "Avatar of Alice Liddell" })).toBeVisible();
  await expect(profile.getByRole("checkbox", { name: "Load profile pictures" })).not.toBeChecked();
  await alice.getByRole("button", { name: "Back" }).click();

  await bob.getByRole("button", { name: "New chat" }).click();
  await bob.getByRole("textbox", { name: "Npub or hex public key" }).fill(aliceNpub);
  await bob.getByRole("button", { name: "Start chat" }).click();
  await expect(bob.getByRole("heading", { level: 2, name: "Alice Liddell" })).toBeVisible({ timeout: 15_000 });
  await expect(bob.getByRole("list", { name: "Chats" }).getByRole("button", { name: "Alice Liddell" })).toBeVisible();
  const avatar = bob.getByRole("img", { name: "Avatar of Alice Liddell" });
  await expect(avatar).toBeVisible();
  // Generated from the key: drawn here, nothing fetched.
  await expect(avatar.locator("text")).toHaveText("AL");
});
