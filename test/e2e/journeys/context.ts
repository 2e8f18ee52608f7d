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
  ids: { perOrchestration?: string; slowOrchestration?: string; perExecution?: string };
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
