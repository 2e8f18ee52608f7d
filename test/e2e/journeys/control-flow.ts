// Control flow on screen: a definition with a loop, a forEach, an approval and a branch drawn as frames in
// the editor; its run showing the loop's iterations and each item, waiting for approval, approved from the
// execution page with a comment and finishing on the arm it chose; a run that fails once resumed to
// completion; and a re-run that opens as a new execution.
import { LAPTOP, PHONE } from "../browser.ts";
import { expect } from "../harness.ts";
import { callMutation, type E2E, eventually, openFromNav, pasteIntoEditor } from "./context.ts";

const reviewedPost = {
  name: "Reviewed Post",
  description: "Drafts, polishes twice, checks three aspects, waits for an editor, then publishes",
  tags: ["approval"],
  steps: [
    {
      name: "Draft",
      roleName: "Coder",
      inputMapping: { topic: "{{context.input.topic}}" },
      outputMapping: { draft: "{{output}}" },
    },
    {
      name: "Polish",
      stepType: "loop",
      maxIterations: 2,
      steps: [
        {
          name: "Polish draft",
          roleName: "Coder",
          inputMapping: { draft: "{{context.draft}}", round: "{{iteration}}" },
        },
      ],
    },
    {
      name: "Checks",
      stepType: "forEach",
      items: ["spelling", "links", "tone"],
      concurrency: 2,
      steps: [{ name: "Check", roleName: "Code Reviewer", inputMapping: { aspect: "{{item}}" } }],
    },
    { name: "Approval", stepType: "approval", message: "Publish the post about {{context.input.topic}}?" },
    {
      name: "Route",
      stepType: "branch",
      branches: [
        {
          when: { field: "Approval.approved", operator: "==", value: true },
          steps: [{ name: "Publish", roleName: "Coder" }],
        },
      ],
      otherwise: [{ name: "Notify", roleName: "Coder" }],
    },
  ],
};

/** Draft, then a step whose model fails its first request: the run fails, and a resume completes it. */
const flakyFlow = {
  name: "Flaky Flow",
  description: "The publishing step's model fails once",
  tags: ["flaky"],
  steps: [
    { name: "Draft", roleName: "Coder", outputMapping: { draft: "{{output}}" } },
    { name: "Publish", roleName: "Flaky Worker", inputMapping: { draft: "{{context.draft}}" } },
  ],
};

const summaryShows = (e2e: E2E, status: string, timeout = 30_000) =>
  e2e.page.locator(".facts.summary").getByText(status, { exact: true }).waitFor({ timeout });

/** The page, once it has re-laid itself out for the new size, is no wider than the phone. */
async function fitsPhone(e2e: E2E, what: string) {
  const overflow = () => e2e.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await eventually(async () => (await overflow()) <= 1, `${what} to fit a phone's width`, 3000).catch(
    async () => {
      // Name the widest offenders outside the graph (whose canvas may extend past its own box).
      const wide = await e2e.page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>("body *")]
          .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
          .filter((el) => !el.closest(".react-flow__viewport"))
          .slice(0, 8)
          .map(
            (el) =>
              `${el.tagName.toLowerCase()}.${String(el.className).split(" ")[0]}: ${el.textContent?.slice(0, 30)}`,
          ),
      );
      expect(
        false,
        `${what} to fit a phone's width, but it is ${await overflow()}px wider:\n  ${wide.join("\n  ")}`,
      );
    },
  );
}

export async function approveWaitingStep(e2e: E2E) {
  const { page, browser, journey } = e2e;
  await journey.step("the editor draws a loop, a forEach, an approval and a branch as frames", async () => {
    await openFromNav(page, "Orchestrations");
    await page.getByRole("link", { name: "New orchestration" }).first().click();
    await page.getByLabel("Start from").selectOption({ label: "Ping-Pong: critique and refine in a loop" });
    await page
      .locator('.flow-container[data-step="Refinement"]')
      .getByText("until Critic.score >= 0.8")
      .waitFor();
    await page.locator('.flow-step[data-step="Refine"]').getByText("only if Critic.score < 0.8").waitFor();
    await browser.shot("orchestration-editor-ping-pong");
    await pasteIntoEditor(page, JSON.stringify(reviewedPost, null, 2));
    await page.getByText("No problems found").waitFor();
    await page.locator('.flow-container[data-step="Polish"]').getByText("repeats 2×").waitFor();
    await page.locator('.flow-container[data-step="Checks"]').waitFor();
    await page.locator('.flow-step[data-step="Approval"]').getByText("waits for approval").waitFor();
    await page.locator('.flow-arm[data-arm="otherwise"]').waitFor();
    await browser.shot("orchestration-editor-control-flow");
    await page.getByRole("button", { name: "Create orchestration" }).click();
    await page.getByRole("heading", { name: "Reviewed Post" }).waitFor();
    await page.locator('.flow-container[data-step="Route"]').waitFor();
    await browser.shot("orchestration-detail-control-flow");
  });
  await journey.step("its run shows each iteration and item, then waits for approval", async () => {
    await page.getByLabel("Input (JSON)").fill(JSON.stringify({ topic: "durable workflows" }));
    await page.getByRole("button", { name: "Run orchestration" }).click();
    await page.waitForURL(/\/executions\/exe_/);
    const approvals = page.getByRole("region", { name: "Waiting for approval" });
    await approvals.getByText("Publish the post about durable workflows?").waitFor({ timeout: 30_000 });
    await page.locator('.flow-container[data-step="Checks"]').getByText("3 / 3 items done").waitFor();
    await page
      .locator('.flow-container[data-step="Polish"]')
      .getByText("2 iterations of at most 2")
      .waitFor();
    await page.locator('.flow-step[data-step="Approval"][data-status="waiting"]').waitFor();
    await browser.shot("execution-approval-waiting");
  });
  await journey.step(
    "approve it with a comment on the execution page; the run finishes on its arm",
    async () => {
      const approvals = page.getByRole("region", { name: "Waiting for approval" });
      await approvals.getByLabel("Comment (optional)").fill("Looks good, ship it");
      await approvals.getByRole("button", { name: "Approve" }).click();
      await summaryShows(e2e, "Completed");
      expect((await approvals.count()) === 0, "the approval form to go once decided");
      await page.locator('.flow-arm[data-arm="branches[0]"][data-status="taken"]').waitFor();
      await page.locator('.flow-arm[data-arm="otherwise"][data-status="skipped"]').waitFor();
      await page.locator('.flow-step[data-step="Publish"][data-status="completed"]').waitFor();
      await page.locator('.flow-step[data-step="Notify"][data-status="skipped"]').waitFor();
      await page.locator('.step-pick[data-step="Approval"]').click();
      const log = page.locator('article.step-log[data-step="Approval"]');
      await log.getByText('"approved": true').waitFor();
      await log.getByText('"comment": "Looks good, ship it"').waitFor();
      await browser.shot("execution-approved");
    },
  );
  await journey.step("pick a loop iteration and a forEach item to see their steps", async () => {
    await page.getByRole("button", { name: "Iteration 1: completed" }).click();
    await page.locator('article.step-log[data-instance="1.0.0"]').getByText("Polish iteration 1").waitFor();
    await page.getByRole("button", { name: "Item 3: completed" }).click();
    await page
      .locator('article.step-log[data-instance="2.2.0"]')
      .getByText('"aspect": "tone"')
      .first()
      .waitFor();
    const checks = page.locator('.flow-container[data-step="Checks"]');
    await checks.getByRole("button", { name: "Previous item" }).click();
    await checks.getByText("showing item 2 of 3").waitFor();
    await page
      .locator('article.step-log[data-instance="2.1.0"]')
      .getByText('"aspect": "links"')
      .first()
      .waitFor();
    await browser.shot("execution-item-picked");
    await page.setViewportSize(PHONE);
    await page.locator('.flow-container[data-step="Checks"]').waitFor();
    await fitsPhone(e2e, "the execution with nested steps");
    await browser.shot("phone-execution-control-flow");
    await page.setViewportSize(LAPTOP);
  });
}

export async function resumeFailedRun(e2e: E2E) {
  const { page, browser, journey } = e2e;
  await journey.step("a run whose step fails shows Resume and Re-run", async () => {
    await callMutation(page, "role.create", {
      name: "Flaky Worker",
      basePrompt: "You fail the first time.",
      hyperparameters: { model: "openai:fail-first-1" },
    });
    await callMutation(page, "orchestrationManagement.create", flakyFlow);
    await page.goto("/orchestrations"); // a fresh load: the list the app cached predates the API call
    await page.getByRole("link", { name: "Flaky Flow", exact: true }).click();
    await page.getByRole("button", { name: "Run orchestration" }).click();
    await page.waitForURL(/\/executions\/exe_/);
    e2e.ids.resumedExecution = new URL(page.url()).pathname.split("/").at(-1);
    await summaryShows(e2e, "Failed");
    await page.getByRole("alert").getByText("fails request 1 on purpose").waitFor();
    await page.locator('.flow-step[data-step="Draft"][data-status="completed"]').waitFor();
    await page.getByRole("button", { name: "Re-run" }).waitFor();
    await browser.shot("execution-failed");
  });
  await journey.step(
    "resume it: the failed step runs again, the completed one keeps its output",
    async () => {
      await page.getByRole("button", { name: "Resume" }).click();
      await summaryShows(e2e, "Completed");
      await page.getByText(/resumed 1×/).waitFor();
      await page.locator('.step-pick[data-step="Publish"]').click();
      const publish = page.locator('article.step-log[data-step="Publish"]');
      await publish.locator("summary", { hasText: "Attempt 1" }).getByText("Failed").waitFor();
      await publish.locator("summary", { hasText: "Attempt 2" }).getByText("Succeeded").waitFor();
      await page.locator('.step-pick[data-step="Draft"]').click();
      const draft = page.locator('article.step-log[data-step="Draft"]');
      await draft.locator("summary", { hasText: "Attempt 1" }).waitFor();
      expect(
        (await draft.locator("summary", { hasText: "Attempt 2" }).count()) === 0,
        "Draft not to run again",
      );
      expect(
        (await page.getByRole("button", { name: "Resume" }).count()) === 0,
        "no Resume on a completed run",
      );
      await browser.shot("execution-resumed");
    },
  );
}

export async function rerunRun(e2e: E2E) {
  const { page, browser, journey } = e2e;
  await journey.step("re-run it: a new execution with the same input opens and completes", async () => {
    await page.getByRole("button", { name: "Re-run" }).click();
    await page.waitForURL(
      (url) =>
        /\/executions\/exe_/.test(url.pathname) && !url.pathname.endsWith(e2e.ids.resumedExecution ?? "?"),
    );
    await summaryShows(e2e, "Completed");
    await page.locator('.flow-step[data-step="Publish"][data-status="completed"]').waitFor();
    expect(
      (await page.getByText(/resumed \d×/).count()) === 0,
      "the new run not to count the old one's resume",
    );
    await browser.shot("execution-rerun");
  });
}

export async function subOrchestration(e2e: E2E) {
  const { page, browser, journey } = e2e;
  await journey.step(
    "a sub-orchestration step links to its child run, and the child back to it",
    async () => {
      await callMutation(page, "orchestrationManagement.create", {
        name: "Parent Flow",
        description: "Runs the Flaky Flow as a child",
        steps: [{ name: "Child run", stepType: "orchestration", orchestrationId: "Flaky Flow" }],
      });
      await page.goto("/orchestrations"); // a fresh load: the list the app cached predates the API call
      await page.getByRole("link", { name: "Parent Flow", exact: true }).click();
      await page.getByRole("button", { name: "Run orchestration" }).click();
      await page.waitForURL(/\/executions\/exe_/);
      const parentUrl = page.url();
      await summaryShows(e2e, "Completed");
      await browser.shot("execution-parent");
      await page.locator('.flow-step[data-step="Child run"]').getByRole("link").click();
      await page.waitForURL((url) => url.href !== parentUrl);
      await page.getByRole("heading", { name: /Flaky Flow/ }).waitFor();
      await page.getByText("started by step “Child run” of").waitFor();
      await browser.shot("execution-child");
      await page.getByRole("link", { name: "its parent execution" }).click();
      await page.waitForURL(parentUrl);
      await page.getByRole("heading", { name: /Parent Flow/ }).waitFor();
    },
  );
}
