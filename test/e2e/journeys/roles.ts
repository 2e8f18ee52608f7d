// Roles: an empty state, one role with every field of the guide (meta marked as a privilege), the roles
// the guide's pipeline names, a duplicate name refused by the server, search, edit, delete.
import { expect } from "../harness.ts";
import { type E2E, openFromNav, pickModel } from "./context.ts";

/** Each pipeline step waits this long for its (fake) model, so the live view has time to show it. */
export const STEP_MODEL = "openai:pause-700";

async function createRole(e2e: E2E, name: string, prompt: string, model: string) {
  const { page } = e2e;
  await page.getByRole("link", { name: "New role" }).first().click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Base prompt").fill(prompt);
  await pickModel(page, model);
  await page.getByRole("button", { name: "Create role" }).click();
  await page.getByRole("heading", { name: `Role: ${name}` }).waitFor();
  await openFromNav(page, "Roles");
}

export async function roles(e2e: E2E) {
  const { page, browser, journey } = e2e;
  await journey.step("the roles page says what to do when there are none", async () => {
    await openFromNav(page, "Roles");
    await page.getByText("No roles yet").waitFor();
    await browser.shot("roles-empty");
  });
  await journey.step(
    "create the Architect with every field, including the privileged meta tool",
    async () => {
      await page.getByRole("link", { name: "New role" }).click();
      await page.getByLabel("Name", { exact: true }).fill("Architect");
      await page.getByLabel("Description").fill("Turns a request into a plan");
      await page
        .getByLabel("Base prompt")
        .fill("You are a software architect. Break the request into a short, numbered plan.");
      await page.getByLabel("Needs careful reasoning").check();
      await page.getByLabel("Writes or reads code").check();
      await page.getByLabel("Minimum context").fill("8000");
      await page.getByLabel("Maximum context").fill("128000");
      await page.getByLabel("Temperature").fill("0.3");
      await page.getByLabel("Max tokens").fill("4000");
      await page.getByLabel("Top P (optional)").fill("0.9");
      await pickModel(page, STEP_MODEL);
      await page.getByLabel(/meta\s+Privileged/).check();
      await page.getByLabel("Other tools").fill("search");
      await browser.shot("role-editor-new");
      await page.getByRole("button", { name: "Create role" }).click();
      await page.getByRole("heading", { name: "Role: Architect" }).waitFor();
      expect(await page.getByLabel(/meta\s+Privileged/).isChecked(), "meta to stay granted after saving");
      expect((await page.getByLabel("Top P (optional)").inputValue()) === "0.9", "top P to be saved");
    },
  );
  await journey.step("edit the role: a bad value is named by the server, a good one saves", async () => {
    await page.getByLabel("Temperature").fill("3");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("must be between 0 and 2").first().waitFor();
    await browser.shot("role-editor-error");
    await page.getByLabel("Temperature").fill("0.2");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Saved. Executions started from now on use these settings.").waitFor();
  });
  await journey.step("create the Coder, the Code Reviewer and a slow worker", async () => {
    await openFromNav(page, "Roles");
    await createRole(e2e, "Coder", "You write the code the plan asks for.", STEP_MODEL);
    await createRole(e2e, "Code Reviewer", "You review code for bugs and style.", STEP_MODEL);
    await createRole(e2e, "Slow Worker", "You take your time.", "openai:slow");
  });
  await journey.step("a duplicate name is refused, shown under the name field", async () => {
    await page.getByRole("link", { name: "New role" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Coder");
    await page.getByLabel("Base prompt").fill("A second coder");
    await page.getByRole("button", { name: "Create role" }).click();
    await page.getByText('a role named "Coder" already exists').first().waitFor();
  });
  await journey.step("search the roles; delete one after confirming", async () => {
    await page.getByLabel("Name", { exact: true }).fill("Scratch");
    await page.getByRole("button", { name: "Create role" }).click();
    await page.getByRole("heading", { name: "Role: Scratch" }).waitFor();
    await page.getByRole("button", { name: "Delete role" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete role" }).click();
    await page.getByRole("heading", { name: "Roles", exact: true }).waitFor();
    await page.getByRole("link", { name: "Slow Worker" }).waitFor();
    expect((await page.getByRole("link", { name: "Scratch" }).count()) === 0, "Scratch to be deleted");
    await page.getByLabel("Search roles").fill("Arch");
    await page.getByText("meta · privileged").waitFor();
    await page.waitForFunction(() => document.querySelectorAll(".role-card").length === 1);
    await browser.shot("roles-search");
    await page.getByLabel("Search roles").fill("");
    await page.waitForFunction(() => document.querySelectorAll(".role-card").length === 4);
    await browser.shot("roles-list");
  });
}
