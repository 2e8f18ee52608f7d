// What every journey receives: the page, the screenshot helper, the step runner, the platform's URL and
// the fake model server; plus small page helpers shared by the journeys.
import type { Page } from "playwright-core";
import type { Browser } from "../browser.ts";
import type { Journey } from "../harness.ts";
import type { ModelServer } from "../model-server.ts";

export interface E2E {
  page: Page;
  browser: Browser;
  journey: Journey;
  baseUrl: string;
  models: ModelServer;
  account: { team: string; email: string; password: string };
  /** Filled in as the journeys create things. */
  ids: {
    perOrchestration?: string;
    slowOrchestration?: string;
    perExecution?: string;
    /** The flaky run that failed and was resumed, which the re-run journey starts again. */
    resumedExecution?: string;
  };
}

/** Client-side navigation through the address bar would reload the app; this uses the app's links. */
export async function openFromNav(page: Page, label: string) {
  await page
    .getByRole("navigation", { name: "Main" })
    .getByRole("link", { name: label, exact: true })
    .click();
}

/** Replaces the Monaco editor's whole text by pasting, as a person would paste a definition. */
export async function pasteIntoEditor(page: Page, text: string) {
  const editor = page.locator(".monaco-editor").first();
  await editor.waitFor();
  await editor.locator(".view-lines").click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.evaluate((value) => navigator.clipboard.writeText(value), text);
  await page.keyboard.press("ControlOrMeta+V");
}

/** Waits until `check` holds, polling (for conditions outside the page, such as the fake model server). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * Calls a tRPC mutation from the page, with the signed-in session's cookie, for setup a journey is not
 * about (a role with a particular model, say). Answers the procedure's result.
 */
export async function callMutation(page: Page, procedure: string, input: unknown): Promise<unknown> {
  const answer = await page.evaluate(
    async ({ procedure, input }) => {
      const response = await fetch(`/trpc/${procedure}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(input),
      });
      return { ok: response.ok, body: await response.text() };
    },
    { procedure, input },
  );
  if (!answer.ok) throw new Error(`${procedure} failed: ${answer.body}`);
  return (JSON.parse(answer.body) as { result: { data: unknown } }).result.data;
}

/**
 * Sets the role form's model: picked from the catalog when it lists the model (wait for it first if it
 * must be), else typed as "Another model id…" (platform models any id serves, such as openai:pause-700).
 */
export async function pickModel(page: Page, model: string) {
  const picker = page.getByLabel("Model", { exact: true });
  if ((await picker.locator("option", { hasText: model }).count()) > 0) {
    await picker.selectOption(model);
    return;
  }
  await picker.selectOption({ label: "Another model id…" });
  await page.getByLabel("Model id").fill(model);
}
