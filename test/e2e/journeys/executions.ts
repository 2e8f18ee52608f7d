// Executions: run the pipeline and watch every step turn completed live (pushed over SSE, recorded by a
// MutationObserver in the page), open a step's log, cancel a slow run, and filter the list.
import { expect } from "../harness.ts";
import { type E2E, eventually, openFromNav } from "./context.ts";

/** Records every status each graph node shows, in order, without asking the server anything. */
function recordStatuses() {
  const log: Record<string, string[]> = {};
  const scan = () => {
    for (const node of document.querySelectorAll<HTMLElement>(".flow-step[data-step]")) {
      const step = node.dataset.step ?? "";
      const status = node.dataset.status;
      const seen = log[step] ?? [];
      log[step] = seen;
      if (status && seen.at(-1) !== status) seen.push(status);
    }
  };
  new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true });
  (window as unknown as { statusLog: typeof log }).statusLog = log;
}

export async function runPipeline(e2e: E2E) {
  const { page, browser, journey } = e2e;
  const requests: string[] = [];
  page.on("request", (request) => {
    const match = /\/trpc\/([\w.,]+)/.exec(request.url());
    if (match?.[1]) requests.push(...match[1].split(","));
  });
  await journey.step("run the pipeline from its page; the new execution opens", async () => {
    await openFromNav(page, "Orchestrations");
    await page.getByRole("link", { name: "Code Generation Pipeline", exact: true }).click();
    const input = page.getByLabel("Input (JSON)");
    expect(
      (await input.inputValue()).includes('"userRequest"'),
      "the input to be pre-filled from the templates",
    );
    await input.fill(JSON.stringify({ userRequest: "Create a React component for a login form" }, null, 2));
    await page.evaluate(recordStatuses);
    requests.length = 0;
    await page.getByRole("button", { name: "Run orchestration" }).click();
    await page.waitForURL(/\/executions\/exe_/);
    e2e.ids.perExecution = new URL(page.url()).pathname.split("/").at(-1);
    await page.locator('.flow-step[data-status="running"]').first().waitFor();
    await browser.shot("execution-running");
  });
  await journey.step("every step turns completed live, pushed by the server (no polling)", async () => {
    await page.locator(".facts.summary").getByText("Completed", { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByText(/^Finished /).waitFor();
    const log = await page.evaluate(
      () => (window as unknown as { statusLog: Record<string, string[]> }).statusLog,
    );
    for (const step of ["Plan", "Generate Code", "Review"]) {
      const seen = log[step] ?? [];
      expect(
        seen.includes("running") && seen.at(-1) === "completed",
        `${step} to go running → completed on screen, saw ${seen.join(" → ")}`,
      );
    }
    const polls = requests.filter((r) => r === "orchestrationManagement.getExecutionStatus").length;
    const watches = requests.filter((r) => r === "orchestrationManagement.watchExecution").length;
    expect(watches >= 1, "a watchExecution subscription (SSE)");
    expect(polls <= 1, `at most one status query while the run went on, saw ${polls}`);
    await browser.shot("execution-completed");
  });
  await journey.step("open a step's log: attempts, rendered input, output, model, tokens, cost", async () => {
    await page.locator('.flow-step[data-step="Generate Code"]').click();
    const log = page.locator('article.step-log[data-step="Generate Code"]');
    await log.locator("summary", { hasText: "Attempt 1" }).waitFor();
    await log.getByText("pause-700", { exact: true }).waitFor();
    await log.getByRole("heading", { name: "Rendered input" }).waitFor();
    await log.getByText('"instructions"').first().waitFor();
    await log.getByText("Tokens in / out").waitFor();
    await log.getByText("Cost", { exact: true }).waitFor();
    await browser.shot("execution-step-log");
  });
}

export async function cancelSlowRun(e2e: E2E) {
  const { page, browser, journey, models } = e2e;
  await journey.step("a slow run shows its parallel steps overlapping on the timeline", async () => {
    await openFromNav(page, "Orchestrations");
    await page.getByRole("link", { name: "Slow Flow", exact: true }).click();
    await page.getByRole("button", { name: "Run orchestration" }).click();
    await page.waitForURL(/\/executions\/exe_/);
    await page.locator('.flow-step[data-step="Draft A"][data-status="running"]').waitFor();
    await page.locator('.flow-step[data-step="Draft B"][data-status="running"]').waitFor();
    await eventually(() => models.stats("slow").requests === 2, "both drafts to call the slow model");
    await page.waitForTimeout(1500); // let the bars grow so the overlap is visible
    const bars = await page
      .locator(".timeline-bar.status-running")
      .evaluateAll((els) => els.map((el) => el.getBoundingClientRect()).map((r) => [r.left, r.right]));
    expect(bars.length === 2, `two running bars, saw ${bars.length}`);
    const [a, b] = bars as [number[], number[]];
    expect(
      Math.max(a[0] ?? 0, b[0] ?? 0) < Math.min(a[1] ?? 0, b[1] ?? 0),
      "the two bars to overlap in time",
    );
    await browser.shot("execution-slow-running");
  });
  await journey.step("cancel the run after confirming; the model calls are aborted", async () => {
    await page.getByRole("button", { name: "Cancel execution" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Running steps are stopped").waitFor();
    await browser.shot("execution-cancel-confirm");
    await dialog.getByRole("button", { name: "Cancel execution" }).click();
    await page.locator(".facts.summary").getByText("Cancelled", { exact: true }).waitFor();
    await page.locator('.flow-step[data-step="Draft A"][data-status="cancelled"]').waitFor();
    await eventually(() => models.stats("slow").aborted === 2, "the slow model calls to be aborted");
    await browser.shot("execution-cancelled");
  });
}

export async function listExecutions({ page, browser, journey }: E2E) {
  await journey.step("the executions list filters by status and by orchestration", async () => {
    await openFromNav(page, "Executions");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-execution-id]").length === 2);
    await page.getByLabel("Status").selectOption("cancelled");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-execution-id]").length === 1);
    await page.getByRole("cell", { name: /Slow Flow/ }).waitFor();
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Orchestration").selectOption({ label: "Code Generation Pipeline" });
    await page.waitForFunction(() => document.querySelectorAll("tr[data-execution-id]").length === 1);
    await page.getByRole("cell", { name: /Code Generation Pipeline/ }).waitFor();
    await page.getByLabel("Orchestration").selectOption("");
    await page.waitForFunction(() => document.querySelectorAll("tr[data-execution-id]").length === 2);
    await browser.shot("executions-list");
  });
}
