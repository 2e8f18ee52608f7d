// Usage: after the journeys before it ran executions, the Usage page shows today's bar, the totals, and
// the runs per orchestration and per model; switching the chart to tokens relabels it.
import { expect } from "../harness.ts";
import { type E2E, openFromNav } from "./context.ts";

export async function usage(e2e: E2E) {
  const { page, browser, journey } = e2e;
  await journey.step(
    "the Usage page shows today's runs per day, per orchestration and per model",
    async () => {
      await openFromNav(page, "Usage");
      await page.getByRole("heading", { name: "Cost per day" }).waitFor();
      const perOrchestration = page.getByRole("region", { name: "Per orchestration" });
      await perOrchestration.getByRole("rowheader", { name: "Code Generation Pipeline" }).first().waitFor();
      const perModel = page.getByRole("region", { name: "Per model" });
      expect((await perModel.getByRole("row").count()) > 1, "at least one model row under Per model");
      const today = new Date().toISOString().slice(0, 10);
      const bar = page.locator(`.usage-chart li[title^="${today}:"]`);
      expect(
        /[1-9]\d* executions/.test((await bar.getAttribute("title")) ?? ""),
        "today's bar to count runs",
      );
      await page.getByLabel("Chart").selectOption("tokens");
      await page.getByRole("heading", { name: "Tokens per day" }).waitFor();
      await browser.shot("usage");
    },
  );
}
