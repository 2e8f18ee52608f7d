// Sign up (with a server-side validation error first), log out, log in (a wrong password first), and the
// skip link that keyboard users land on.
import { expect } from "../harness.ts";
import type { E2E } from "./context.ts";

export async function signUp({ page, browser, journey, account }: E2E) {
  await journey.step("the dashboard asks a signed-out visitor to log in", async () => {
    await page.goto("/");
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    await browser.shot("login");
  });
  await journey.step("sign up shows the server's field error, then creates the team", async () => {
    await page.getByRole("link", { name: "Create a team" }).click();
    await page.getByLabel("Team name").fill(account.team);
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByText("must be at least 10 characters").waitFor();
    await browser.shot("signup-validation");
    await page.getByLabel("Password").fill(account.password);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByText(`${account.team} · ${account.email}`).waitFor();
    await browser.shot("overview-new-team");
  });
  await journey.step("keyboard users can skip the navigation", async () => {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? "");
    expect(focused.includes("Skip to content"), `the first Tab to reach "Skip to content", got "${focused}"`);
    await page.keyboard.press("Enter");
    const target = await page.evaluate(() => document.activeElement?.id ?? "");
    expect(target === "content", `Enter on the skip link to focus the main content, got #${target}`);
  });
}

export async function logOutAndIn({ page, browser, journey, account }: E2E) {
  await journey.step("log out returns to the login page", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    await page.goto("/roles");
    await page.getByRole("heading", { name: "Log in" }).waitFor();
  });
  await journey.step("log in refuses a wrong password, then lets the user in", async () => {
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByText("Could not log you in").waitFor();
    await browser.shot("login-wrong-password");
    await page.getByLabel("Password").fill(account.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  });
}
