// Sign up (with a server-side validation error first), log out, log in (a wrong password first), the
// skip link that keyboard users land on, the Account page (password change, sign out everywhere), and the
// Content Security Policy: on the page's headers, and not one violation reported in the whole run.
import { expect } from "../harness.ts";
import type { E2E } from "./context.ts";
import { openFromNav } from "./context.ts";

/** What the browser reported against the CSP (or Monaco failing to start a worker) during the run. */
const policyComplaints: string[] = [];
/** The web workers pages started (Monaco's language services among them). */
const workersStarted: string[] = [];

export async function signUp({ page, browser, journey, account }: E2E) {
  await journey.step(
    "the dashboard is served with its security headers and asks a visitor to log in",
    async () => {
      page.on("worker", (worker) => workersStarted.push(worker.url()));
      page.on("console", (message) => {
        if (/Content Security Policy|Could not create web worker/i.test(message.text()))
          policyComplaints.push(message.text());
      });
      const response = await page.goto("/");
      const headers = (await response?.allHeaders()) ?? {};
      const policy = headers["content-security-policy"] ?? "";
      expect(
        policy.includes("script-src 'self'"),
        `a CSP with script-src 'self' on the page, got "${policy}"`,
      );
      expect(policy.includes("frame-ancestors 'none'"), `frame-ancestors 'none' in the CSP, got "${policy}"`);
      expect(headers["x-content-type-options"] === "nosniff", "X-Content-Type-Options: nosniff on the page");
      expect(headers["referrer-policy"] !== undefined, "a Referrer-Policy on the page");
      await page.getByRole("heading", { name: "Log in" }).waitFor();
      await browser.shot("login");
    },
  );
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

export async function logOutAndIn(e2e: E2E) {
  const { page, browser, journey, account } = e2e;
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
  await accountPage(e2e);
}

/** Changes the password on the Account page, then signs out everywhere, and signs in again. */
async function accountPage({ page, browser, journey, account }: E2E) {
  const newPassword = `${account.password} changed`;
  await journey.step("the Account page changes the password; the old one no longer logs in", async () => {
    await openFromNav(page, "Account");
    await page.getByRole("heading", { name: "Account" }).waitFor();
    await page.getByLabel("Current password").fill("not the password");
    await page.getByLabel("New password").fill(newPassword);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("is not your current password").waitFor();
    await page.getByLabel("Current password").fill(account.password);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Password changed.").waitFor();
    await browser.shot("account-password-changed");
    account.password = newPassword;
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill(newPassword.replace(" changed", ""));
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByText("Could not log you in").waitFor();
    await page.getByLabel("Password").fill(newPassword);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  });
  await journey.step("sign out everywhere ends this session too", async () => {
    await openFromNav(page, "Account");
    await page.getByRole("button", { name: "Sign out everywhere" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Sign out everywhere" }).click();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    await page.goto("/account");
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill(account.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  });
  await journey.step("no page broke the Content Security Policy, and Monaco ran its workers", async () => {
    expect(policyComplaints.length === 0, `no CSP complaints, got:\n  ${policyComplaints.join("\n  ")}`);
    const editorWorkers = workersStarted.filter((url) => /\/assets\/.*worker.*\.js$/.test(url));
    expect(
      editorWorkers.length > 0,
      `Monaco's workers to start from /assets/, got ${workersStarted.join(", ")}`,
    );
  });
}
