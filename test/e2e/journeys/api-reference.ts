// API reference: the page rendered from /openapi.json finds orchestrationManagement.execute with its
// method, path, scope and input fields, copies its curl line, and links the document for download.
import { expect } from "../harness.ts";
import { type E2E, openFromNav } from "./context.ts";

export async function apiReference({ page, browser, journey, baseUrl }: E2E) {
  await journey.step(
    "the API reference lists execute with its method, scope and input fields, and a curl line to copy",
    async () => {
      await openFromNav(page, "API reference");
      await page.getByRole("heading", { name: "API reference", level: 1 }).waitFor();
      await page.getByLabel("Filter by procedure").fill("execute");
      const execute = page.getByRole("article", { name: "orchestrationManagement.execute", exact: true });
      await execute.waitFor();
      await execute.getByText("/trpc/orchestrationManagement.execute", { exact: true }).waitFor();
      await execute.getByText("POST", { exact: true }).waitFor();
      await execute.getByText("Scope: run", { exact: true }).waitFor();
      const fields = execute.getByRole("table", { name: "Input of orchestrationManagement.execute" });
      for (const field of ["orchestrationId", "version", "input", "idempotencyKey", "budget"]) {
        await fields.getByRole("rowheader", { name: field, exact: true }).waitFor();
      }
      const orchestrationId = fields.getByRole("row").filter({ hasText: "orchestrationId" });
      await orchestrationId.getByRole("cell", { name: "required", exact: true }).waitFor();
      const version = fields.getByRole("row").filter({ hasText: "version" });
      await version.getByRole("cell", { name: "optional", exact: true }).waitFor();
      await execute.getByRole("button", { name: "Copy curl" }).click();
      await execute.getByRole("button", { name: "Copied" }).waitFor();
      const curl = await page.evaluate(() => navigator.clipboard.readText());
      expect(
        curl.includes(`${baseUrl}/trpc/orchestrationManagement.execute`) && curl.includes("orchestrationId"),
        `the copied curl to POST to execute with an orchestrationId, got ${curl}`,
      );
      const download = page.getByRole("link", { name: "Download openapi.json" });
      expect(
        (await download.getAttribute("href")) === "/openapi.json",
        "the download link to be /openapi.json",
      );
      await browser.shot("api-reference");
    },
  );
}
