// Headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) with a fresh profile, and the
// screenshot helper that writes each page into test/artifacts/.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, "../artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
export const LAPTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page screenshot as test/artifacts/<NN>-<name>.png and returns its path. */
  shot(name: string): Promise<string>;
  shots: string[];
  close(): Promise<void>;
}

export async function launchBrowser(baseUrl: string): Promise<Browser> {
  rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const profile = mkdtempSync(path.join(tmpdir(), "troupe-e2e-profile-"));
  // launchPersistentContext is how playwright takes a --user-data-dir: a fresh, throwaway profile.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: LAPTOP,
    baseURL: baseUrl,
    permissions: ["clipboard-read", "clipboard-write"],
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const shots: string[] = [];
  return {
    context,
    page,
    shots,
    async shot(name) {
      const file = path.join(ARTIFACTS_DIR, `${String(shots.length + 1).padStart(2, "0")}-${name}.png`);
      // From the top: a full-page capture of a scrolled page paints the sticky header mid-page.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: file, fullPage: true });
      shots.push(file);
      return file;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
