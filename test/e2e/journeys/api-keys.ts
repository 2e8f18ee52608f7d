// API keys: create one (shown once, copied with the button), prove it works against the API, revoke it
// after confirming, and prove it stopped working.
import { expect } from "../harness.ts";
import { type E2E, openFromNav } from "./context.ts";

async function meStatus(baseUrl: string, key: string): Promise<number> {
  const response = await fetch(`${baseUrl}/trpc/auth.me`, { headers: { authorization: `Bearer ${key}` } });
  return response.status;
}

export async function apiKeys({ page, browser, journey, baseUrl }: E2E) {
  let key = "";
  await journey.step(
    "create an API key: shown once, copied to the clipboard, accepted by the API",
    async () => {
      await openFromNav(page, "API keys");
      await page.getByText("No API keys yet").waitFor();
      await page.getByLabel("Key name").fill("CI pipeline");
      await page.getByRole("button", { name: "Create key" }).click();
      const shown = page.getByLabel("New API key");
      await shown.waitFor();
      key = await shown.inputValue();
      expect(key.startsWith("trp_"), `a trp_ key, got "${key}"`);
      await page.getByRole("button", { name: "Copy key" }).click();
      await page.getByRole("button", { name: "Copied" }).waitFor();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      expect(copied === key, "the clipboard to hold the key");
      expect((await meStatus(baseUrl, key)) === 200, "the new key to be accepted by auth.me");
      await browser.shot("api-key-created");
    },
  );
  await journey.step("revoke the key after confirming; the API refuses it from then on", async () => {
    await page.getByRole("button", { name: "Done" }).click();
    const row = page.locator('tr[data-key-name="CI pipeline"]');
    await row.getByRole("button", { name: /Revoke/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Programs using this key stop working").waitFor();
    await browser.shot("api-key-revoke-confirm");
    await dialog.getByRole("button", { name: "Revoke key" }).click();
    await row.getByText(/^Revoked/).waitFor();
    expect((await meStatus(baseUrl, key)) === 401, "the revoked key to be refused with 401");
    await browser.shot("api-keys");
  });
}
