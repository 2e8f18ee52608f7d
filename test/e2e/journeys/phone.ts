// The same pages on a phone-sized screen: navigation wraps, grids become one column, nothing overflows.
import { LAPTOP, PHONE } from "../browser.ts";
import { expect } from "../harness.ts";
import { type E2E, openFromNav } from "./context.ts";

async function fitsWidth(e2e: E2E, what: string) {
  const overflow = await e2e.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 1, `${what} to fit a phone's width, but it is ${overflow}px wider`);
}

export async function phone(e2e: E2E) {
  const { page, browser, journey } = e2e;
  await journey.step("the dashboard is readable on a phone", async () => {
    await page.setViewportSize(PHONE);
    await openFromNav(page, "Overview");
    await page.getByRole("heading", { name: "Getting started" }).waitFor();
    await fitsWidth(e2e, "the overview");
    await browser.shot("phone-overview");
    await openFromNav(page, "Orchestrations");
    await page.locator(".orchestration-card").first().waitFor();
    await fitsWidth(e2e, "the orchestrations list");
    await browser.shot("phone-orchestrations");
    await openFromNav(page, "Providers");
    await page.locator("li[data-provider]").first().waitFor();
    await fitsWidth(e2e, "the providers list");
    await page
      .getByRole("link", { name: /^Edit / })
      .first()
      .click();
    await page.getByRole("group", { name: "Model 1", exact: true }).waitFor();
    await fitsWidth(e2e, "the provider form");
    await browser.shot("phone-provider");
    await page.goto(`/executions/${e2e.ids.perExecution}`);
    await page.locator(".facts.summary").getByText("Completed", { exact: true }).waitFor();
    await fitsWidth(e2e, "the execution view");
    await browser.shot("phone-execution");
    await page.setViewportSize(LAPTOP);
  });
}
