// Triggers and schedules on an orchestration's page: create an HTTP trigger, copy its URL, POST JSON to
// it from outside the browser (202 with the execution's id) and see that run under the trigger's last
// runs; create a cron schedule, see its next runs, pause it.
import { expect } from "../harness.ts";
import { callMutation, type E2E } from "./context.ts";

export async function triggers({ page, browser, journey, baseUrl }: E2E) {
  let orchestrationId = "";
  await journey.step(
    "an HTTP trigger's URL, copied and POSTed to, starts a run listed under it",
    async () => {
      await callMutation(page, "role.create", { name: "Hook Writer", basePrompt: "You answer webhooks." });
      const created = (await callMutation(page, "orchestrationManagement.create", {
        name: "Triggered Flow",
        steps: [{ name: "Answer", roleName: "Hook Writer" }],
      })) as { id: string };
      orchestrationId = created.id;
      await page.goto(`/orchestrations/${orchestrationId}`);
      const panel = page.getByRole("region", { name: "Triggers" });
      await panel.getByText("No triggers yet.").waitFor();
      await panel.getByRole("button", { name: "Create trigger" }).click();
      const notice = panel.getByRole("status");
      await notice.getByText("Trigger created.").waitFor();
      await notice.getByRole("button", { name: "Copy URL" }).click();
      await notice.getByRole("button", { name: "Copied" }).waitFor();
      const url = await page.evaluate(() => navigator.clipboard.readText());
      expect(url.startsWith(`${baseUrl}/triggers/trg_`), `the copied URL to be a trigger URL, got ${url}`);
      await browser.shot("trigger-created");

      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ topic: "from the journey" }),
      });
      expect(response.status === 202, `the trigger to answer 202, got ${response.status}`);
      const { executionId } = (await response.json()) as { executionId: string };
      await page.reload();
      const runs = page.getByRole("list", { name: /^Last runs of trigger / });
      await runs.getByRole("link", { name: executionId }).waitFor();
      await browser.shot("trigger-last-runs");
    },
  );
  await journey.step("a schedule shows its next runs on create and pauses", async () => {
    const panel = page.getByRole("region", { name: "Schedules" });
    await panel.getByLabel("Cron").fill("*/5 * * * *");
    await panel.getByLabel("Time zone").fill("UTC");
    await panel.getByLabel("Input for each run (JSON)").fill('{ "source": "schedule" }');
    await panel.getByRole("button", { name: "Create schedule" }).click();
    const next = panel.getByRole("list", { name: "Next runs of the new schedule" });
    await next.waitFor();
    expect((await next.getByRole("listitem").count()) === 5, "five next runs");
    const item = panel.locator(".schedule-item").first();
    await item.getByRole("button", { name: "Pause" }).click();
    await item.getByText("Paused", { exact: true }).waitFor();
    await item.getByRole("button", { name: "Resume" }).waitFor();
    await browser.shot("schedule-paused");
  });
}
