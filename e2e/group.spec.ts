import type { Page } from "@playwright/test";
import { expect, test, signUp } from "./host.js";

async function acceptInvite(page: Page): Promise<void> {
  const accept = page.getByRole("button", { name: /^Accept invite from/ });
  await expect(accept).toBeVisible({ timeout: 15_000 });
  await accept.click();
  await expect(page.getByRole("log", { name: "Messages" })).toBeVisible();
}

async function send(page: Page, text: string): Promise<void> {
  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill(text);
  await composer.press("Enter");
}

const log = (page: Page) => page.getByRole("log", { name: "Messages" });

test("three_users_run_a_group_with_adds_removes_and_a_rename", async ({ browser, newHost }) => {
  test.setTimeout(90_000);
  const hosts = await Promise.all([newHost(), newHost(), newHost()]);
  const [alice, bob, carol] = await Promise.all(hosts.map(async () => (await browser.newContext()).newPage()));
  await signUp(alice!, hosts[0]!.url);
  const bobNpub = await signUp(bob!, hosts[1]!.url);
  const carolNpub = await signUp(carol!, hosts[2]!.url);

  // Alice creates the group with Bob.
  await alice!.getByRole("button", { name: "New group" }).click();
  const dialog = alice!.getByRole("dialog", { name: "New group" });
  await dialog.getByRole("textbox", { name: "Group name" }).fill("Trio");
  await dialog.getByRole("textbox", { name: "Description" }).fill("Three of us");
  await dialog.getByRole("textbox", { name: "Member npub" }).fill(bobNpub);
  await dialog.getByRole("button", { name: "Add member" }).click();
  await expect(dialog.getByRole("list", { name: "New group members" }).getByRole("listitem")).toHaveCount(1);
  await dialog.getByRole("button", { name: "Create group" }).click();
  await expect(dialog).toBeHidden({ timeout: 20_000 });
  await expect(alice!.getByRole("heading", { name: "Trio" })).toBeVisible();
  await acceptInvite(bob!);

  // Alice adds Carol from the members panel.
  await alice!.getByRole("button", { name: "Members" }).click();
  const members = alice!.getByRole("region", { name: "Members" });
  await members.getByRole("textbox", { name: "Add member npub" }).fill(carolNpub);
  await members.getByRole("button", { name: "Add to group" }).click();
  await acceptInvite(carol!);
  await expect(log(bob!).getByText(/ added /)).toBeVisible({ timeout: 15_000 });

  await send(alice!, "hi all");
  await expect(log(bob!).getByText("hi all")).toBeVisible({ timeout: 15_000 });
  await expect(log(carol!).getByText("hi all")).toBeVisible({ timeout: 15_000 });
  await send(carol!, "hello from carol");
  await expect(log(alice!).getByText("hello from carol")).toBeVisible({ timeout: 15_000 });
  await expect(log(bob!).getByText("hello from carol")).toBeVisible({ timeout: 15_000 });

  // A rename reaches everyone.
  await members.getByRole("button", { name: "Rename group" }).click();
  const rename = alice!.getByRole("dialog", { name: "Rename group" });
  await rename.getByRole("textbox", { name: "Group name" }).fill("Trio renamed");
  await rename.getByRole("button", { name: "Save" }).click();
  for (const page of [bob!, carol!]) await expect(page.getByRole("heading", { name: "Trio renamed" })).toBeVisible({ timeout: 15_000 });

  // Alice removes Bob: he keeps the history but reads nothing new.
  await members.getByRole("button", { name: /^Remove / }).first().click();
  const confirm = alice!.getByRole("dialog", { name: "Remove member" });
  await confirm.getByRole("button", { name: "Remove", exact: true }).click();
  await expect(bob!.getByText(/^You were removed from this group by npub1.+; its history stays here\.$/)).toBeVisible({ timeout: 15_000 });
  await expect(log(bob!).getByText(/^You were removed by npub1/)).toBeVisible();
  await expect(bob!.getByText(/^2 members: npub1\S+, npub1\S+$/)).toBeVisible();
  await expect(log(carol!).getByText(/^npub1\S+ removed npub1\S+$/)).toBeVisible({ timeout: 15_000 });
  await expect(carol!.getByText(/^2 members: npub1\S+ and you$/)).toBeVisible();
  await send(alice!, "after the removal");
  await expect(log(carol!).getByText("after the removal")).toBeVisible({ timeout: 15_000 });
  await bob!.waitForTimeout(1000);
  await expect(log(bob!).getByText("after the removal")).toHaveCount(0);
});
