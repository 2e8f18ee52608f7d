// Orchestrations: the guide's Planner-Executor-Reviewer pasted into the definition editor (a wrong
// operator first, underlined and listed under its step), the live graph, a second version, a slow flow
// with a parallel group, and the list's tag filter and active switch.
import { example2 } from "../../helpers/guide.ts";
import { expect } from "../harness.ts";
import { type E2E, openFromNav, pasteIntoEditor } from "./context.ts";

const slowFlow = {
  name: "Slow Flow",
  description: "Two slow drafts side by side, then a merge",
  tags: ["slow"],
  steps: [
    { name: "Draft A", roleName: "Slow Worker", parallelGroup: "drafts", timeout: 600000 },
    { name: "Draft B", roleName: "Slow Worker", parallelGroup: "drafts", timeout: 600000 },
    { name: "Merge", roleName: "Coder", maxRetries: 2, retryDelay: 2000 },
  ],
};

function idFromUrl(url: string): string {
  const id = /\/orchestrations\/([^/]+)$/.exec(new URL(url).pathname)?.[1];
  if (!id) throw new Error(`no orchestration id in ${url}`);
  return id;
}

export async function orchestrations(e2e: E2E) {
  const { page, browser, journey } = e2e;
  await journey.step(
    "the definition editor underlines a wrong operator and lists it under its step",
    async () => {
      await openFromNav(page, "Orchestrations");
      await page.getByText("No orchestrations yet").waitFor();
      await browser.shot("orchestrations-empty");
      await page.getByRole("link", { name: "New orchestration" }).first().click();
      const broken = structuredClone(example2);
      const review = broken.steps?.[2];
      if (review?.condition) review.condition.operator = "equals" as never;
      await pasteIntoEditor(page, JSON.stringify(broken, null, 2));
      const problems = page.getByRole("region", { name: "Problems in the definition" });
      await problems.getByRole("heading", { name: "Step 3 · Review" }).waitFor();
      await problems.getByText("steps[2].condition.operator").waitFor();
      await page.locator(".monaco-editor .squiggly-error").first().waitFor();
      expect(
        await page.getByRole("button", { name: "Create orchestration" }).isDisabled(),
        "saving to wait for a fix",
      );
      await browser.shot("orchestration-editor-error");
    },
  );
  await journey.step("the guide's Planner-Executor-Reviewer validates and draws three stages", async () => {
    await pasteIntoEditor(page, JSON.stringify(example2, null, 2));
    await page.getByText("No problems found").waitFor();
    for (const step of ["Plan", "Generate Code", "Review"])
      await page.locator(`.flow-step[data-step="${step}"]`).waitFor();
    await page.locator('.flow-step[data-step="Review"]').getByText("only if code exists").waitFor();
    await browser.shot("orchestration-editor");
    await page.getByRole("button", { name: "Create orchestration" }).click();
    await page.getByRole("heading", { name: "Code Generation Pipeline" }).waitFor();
    e2e.ids.perOrchestration = idFromUrl(page.url());
    await page.getByRole("heading", { name: "Versions" }).waitFor();
    await browser.shot("orchestration-detail");
  });
  await journey.step("saving an edit makes version 2; version 1 stays viewable", async () => {
    await page.getByRole("link", { name: "Edit definition" }).click();
    await page.getByText("Saving creates version 2").waitFor();
    await pasteIntoEditor(
      page,
      JSON.stringify({ ...example2, description: "Plans, codes and reviews (v2)" }, null, 2),
    );
    await page.getByText("No problems found").waitFor();
    await page.getByRole("button", { name: "Save new version" }).click();
    await page.getByText("Saved as version 2.").waitFor();
    await page.getByRole("link", { name: "Back to the orchestration" }).click();
    await page.getByRole("button", { name: "Version 2 (current)" }).waitFor();
    await page.getByRole("button", { name: "Version 1", exact: true }).click();
    await page.getByRole("heading", { name: "Flow (version 1)" }).waitFor();
  });
  await journey.step("a slow flow with a parallel group is drawn side by side", async () => {
    await openFromNav(page, "Orchestrations");
    await page.getByRole("link", { name: "New orchestration" }).first().click();
    await pasteIntoEditor(page, JSON.stringify(slowFlow, null, 2));
    await page.getByText("No problems found").waitFor();
    await page.getByText("parallel · drafts").waitFor();
    await browser.shot("orchestration-editor-parallel");
    await page.getByRole("button", { name: "Create orchestration" }).click();
    await page.getByRole("heading", { name: "Slow Flow" }).waitFor();
    e2e.ids.slowOrchestration = idFromUrl(page.url());
  });
  await journey.step("the list filters by tag and by the active switch", async () => {
    await openFromNav(page, "Orchestrations");
    const cards = page.locator(".orchestration-card");
    await page.waitForFunction(() => document.querySelectorAll(".orchestration-card").length === 2);
    await page.getByRole("checkbox", { name: "coding" }).check();
    await page.waitForFunction(() => document.querySelectorAll(".orchestration-card").length === 1);
    expect(
      (await cards.first().getAttribute("data-orchestration")) === "Code Generation Pipeline",
      "only the coding flow",
    );
    await browser.shot("orchestrations-tag-filter");
    await page.getByRole("checkbox", { name: "coding" }).uncheck();
    const slowSwitch = page.getByRole("switch", { name: /Slow Flow/ });
    await slowSwitch.uncheck();
    await page.locator('[data-orchestration="Slow Flow"]').getByText("Inactive").waitFor();
    await page.getByLabel("Active only").check();
    await page.waitForFunction(() => document.querySelectorAll(".orchestration-card").length === 1);
    await page.getByLabel("Active only").uncheck();
    await page.getByRole("switch", { name: /Slow Flow/ }).check();
    await page.locator('[data-orchestration="Slow Flow"]').getByText("Active", { exact: true }).waitFor();
    await browser.shot("orchestrations-list");
  });
}
