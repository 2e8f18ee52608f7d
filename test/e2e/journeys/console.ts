// The agent console: completion from the meta API's declarations, a run as a meta role (console output,
// result, meta calls), and a failing run whose error names its line.
import { expect } from "../harness.ts";
import { type E2E, openFromNav, pasteIntoEditor } from "./context.ts";

const LISTING = `const roles = await list_roles();
console.log(\`roles: \${roles.map((role) => role.name).join(", ")}\`);
console.warn("this line is a warning");
return { roleCount: roles.length };
`;

const FAILING = `console.log("before the error");
throw new Error("the plan is missing");
`;

export async function agentConsole({ page, browser, journey }: E2E) {
  await journey.step("the console completes meta API functions from their declarations", async () => {
    await openFromNav(page, "Agent console");
    expect((await page.getByLabel("Run as role").inputValue()) !== "", "a role to be chosen");
    await pasteIntoEditor(page, "list_");
    await page.keyboard.press("Control+Space");
    await page
      .locator(".monaco-editor .suggest-widget")
      .getByText("list_orchestrations", { exact: true })
      .waitFor();
    await page.keyboard.press("Escape");
  });
  await journey.step("run code as the Architect: console output, result and meta calls", async () => {
    await pasteIntoEditor(page, LISTING);
    await page.getByRole("button", { name: /^Run/ }).click();
    const result = page.locator('.run-result[data-outcome="ok"]');
    await result.waitFor({ timeout: 30_000 });
    await result.getByText("roles: Architect, Code Reviewer, Coder, Slow Worker").waitFor();
    await result.getByText("this line is a warning").waitFor();
    await result.getByText('"roleCount": 4').waitFor();
    await result.getByRole("cell", { name: "list_roles" }).waitFor();
    await browser.shot("agent-console");
  });
  await journey.step("a failing run shows the error with its line, in the editor too", async () => {
    await pasteIntoEditor(page, FAILING);
    await page.keyboard.press("Control+Enter");
    const result = page.locator('.run-result[data-outcome="error"]');
    await result.waitFor({ timeout: 30_000 });
    await result.getByText("(line 2").waitFor();
    await result.getByText("the plan is missing").waitFor();
    await result.getByText("before the error").waitFor();
    await page.locator(".monaco-editor .squiggly-error").first().waitFor();
    await browser.shot("agent-console-error");
  });
}
