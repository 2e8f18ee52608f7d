// A tenant's own provider: an invalid base URL named at its field (nothing saved), the e2e model server
// added as an OpenAI-compatible provider (its key shown only as ••••last4), its connection tested, an edit
// that keeps the key, a role whose model is picked from the catalog, a run whose reply is seen streaming
// into the execution page before the stored output replaces it, and a provider deleted after confirming.
import { expect } from "../harness.ts";
import { callMutation, type E2E, openFromNav, pasteIntoEditor } from "./context.ts";

const PROVIDER = "e2e-models";
const API_KEY = "sk-e2e-provider-key-7f3a";
/** Streams its reply a few words every 150 ms for about 3 s: long enough to watch it grow. */
const STREAM_MODEL = "stream-3000";
const STREAM_REF = `${PROVIDER}:${STREAM_MODEL}`;

const streamingFlow = {
  name: "Streaming Reply",
  description: "One step whose model streams its reply",
  tags: ["streaming"],
  steps: [{ name: "Write", roleName: "Streamer", timeout: 60000 }],
};

/** Records each text the streaming reply (step log and graph node) shows, and the step's status then. */
function recordStreaming() {
  const seen: { text: string; node: string; status: string }[] = [];
  const scan = () => {
    const reply = document.querySelector<HTMLElement>('.streaming-reply[data-streaming="true"] pre');
    if (!reply) return;
    const text = reply.textContent ?? "";
    if (seen.at(-1)?.text === text) return;
    const node = document.querySelector<HTMLElement>('.flow-step[data-step="Write"]');
    seen.push({
      text,
      node: node?.querySelector(".flow-step-line.streaming")?.textContent ?? "",
      status: node?.dataset.status ?? "",
    });
  };
  new MutationObserver(scan).observe(document.body, {
    subtree: true,
    childList: true,
    characterData: true,
  });
  (window as unknown as { streamLog: typeof seen }).streamLog = seen;
}

async function fillProvider(e2e: E2E, baseUrl: string) {
  const { page } = e2e;
  await page.getByLabel("Name", { exact: true }).fill(PROVIDER);
  await page.getByLabel("Kind").selectOption("openai-compatible");
  await page.getByLabel("Base URL").fill(baseUrl);
  await page.getByLabel("API key").fill(API_KEY);
  const model = page.getByRole("group", { name: "Model 1", exact: true });
  await model.getByLabel("Model id").fill(STREAM_MODEL);
  await model.getByLabel("Context window").fill("32000");
  await model.getByLabel("Price in").fill("0.5");
  await model.getByLabel("Price out").fill("1.5");
  await model.getByLabel("Streaming").check();
}

export async function providers(e2e: E2E) {
  const { page, browser, journey, models } = e2e;
  await journey.step("an invalid base URL is named at its field, and nothing is saved", async () => {
    await openFromNav(page, "Providers");
    await page.getByText("No providers yet").waitFor();
    await browser.shot("providers-empty");
    await page.getByRole("link", { name: "Add provider" }).click();
    await fillProvider(e2e, "not a url");
    await page.getByRole("button", { name: "Add provider" }).click();
    const baseUrl = page.getByLabel("Base URL");
    await page.waitForFunction(
      () => document.querySelector('input[type="url"]')?.getAttribute("aria-invalid") === "true",
    );
    const described = (await baseUrl.getAttribute("aria-describedby")) ?? "";
    const errorId = described.split(" ").find((id) => id.endsWith("-error"));
    expect(errorId, "the base URL field to point at its error");
    const message = await page.locator(`[id="${errorId}"]`).textContent();
    expect(message?.trim(), "a message under the base URL field");
    await browser.shot("provider-invalid-url");
  });
  await journey.step(
    "add the e2e model server as a provider; only the key's last four are shown",
    async () => {
      await page.getByLabel("Base URL").fill(models.url);
      await page.getByRole("button", { name: "Add provider" }).click();
      const card = page.locator(`li[data-provider="${PROVIDER}"]`);
      await card.waitFor();
      await card.getByText(`key ••••${API_KEY.slice(-4)}`).waitFor();
      await card.getByRole("cell", { name: STREAM_MODEL }).waitFor();
      await card.getByRole("cell", { name: "32k" }).waitFor();
      await card.getByText("$0.50 in / $1.50 out per M tokens").waitFor();
      expect(!(await page.content()).includes(API_KEY), "the whole key to appear nowhere on the page");
      expect(
        (await page.locator("li[data-provider]").count()) === 1,
        "the invalid attempt to have saved nothing",
      );
    },
  );
  await journey.step("test the connection: ok, its latency and the model's reply", async () => {
    const card = page.locator(`li[data-provider="${PROVIDER}"]`);
    await card.getByRole("button", { name: /Test connection/ }).click();
    const outcome = card.locator("[data-test-outcome]");
    await outcome.waitFor({ timeout: 20_000 });
    const text = (await outcome.textContent()) ?? "";
    expect((await outcome.getAttribute("data-test-outcome")) === "ok", `the test to pass, saw: ${text}`);
    expect(/Connected in [\d.]+ (ms|s)/.test(text), `the latency, saw: ${text}`);
    expect(text.includes("Answer from the e2e model"), `the model's reply, saw: ${text}`);
    expect(models.stats(STREAM_MODEL).requests >= 1, "the test to reach the model server");
    await browser.shot("providers-tested");
  });
  await journey.step("edit the provider: an empty key field keeps the stored key", async () => {
    await page.getByRole("link", { name: `Edit ${PROVIDER}` }).click();
    await page.getByRole("heading", { name: `Provider: ${PROVIDER}` }).waitFor();
    await page.getByText("Leave this empty to keep it unchanged").waitFor();
    expect((await page.getByLabel("API key").inputValue()) === "", "the key field to start empty");
    await page.getByRole("button", { name: "Add a model" }).click();
    const second = page.getByRole("group", { name: "Model 2", exact: true });
    await second.getByLabel("Model id").fill("pause-50");
    await second.getByLabel("Context window").fill("8000");
    await browser.shot("provider-edit");
    await page.getByRole("button", { name: "Save changes" }).click();
    const card = page.locator(`li[data-provider="${PROVIDER}"]`);
    await card.getByRole("cell", { name: "pause-50" }).waitFor();
    await card.getByText(`key ••••${API_KEY.slice(-4)}`).waitFor();
  });
  await journey.step("create a role whose model is picked from the provider's catalog", async () => {
    await openFromNav(page, "Roles");
    await page.getByRole("link", { name: "New role" }).first().click();
    await page.getByLabel("Name", { exact: true }).fill("Streamer");
    await page.getByLabel("Base prompt").fill("You write a short paragraph, word by word.");
    const picker = page.getByLabel("Model", { exact: true });
    const option = picker.locator(`option[value="${STREAM_REF}"]`);
    await option.waitFor({ state: "attached" });
    const label = (await option.textContent()) ?? "";
    expect(label.includes("32k context") && label.includes("$0.50 in"), `window and price, saw ${label}`);
    const group = await option.evaluate((el) => (el.parentElement as HTMLOptGroupElement).label);
    expect(group === "Your providers", `the tenant's models in their own group, saw "${group}"`);
    await picker.selectOption(STREAM_REF);
    await page.getByText(`From your provider “${PROVIDER}”`).waitFor();
    await browser.shot("role-model-picker");
    await page.getByRole("button", { name: "Create role" }).click();
    await page.getByRole("heading", { name: "Role: Streamer" }).waitFor();
    expect((await picker.inputValue()) === STREAM_REF, "the saved role to keep the picked model");
  });
  await journey.step("run a step on the provider's model; its reply streams in, growing", async () => {
    await openFromNav(page, "Orchestrations");
    await page.getByRole("link", { name: "New orchestration" }).first().click();
    await pasteIntoEditor(page, JSON.stringify(streamingFlow, null, 2));
    await page.getByText("No problems found").waitFor();
    await page.getByRole("button", { name: "Create orchestration" }).click();
    await page.getByRole("heading", { name: "Streaming Reply" }).waitFor();
    await page.evaluate(recordStreaming);
    await page.getByRole("button", { name: "Run orchestration" }).click();
    await page.waitForURL(/\/executions\/exe_/);
    const reply = page.locator('.streaming-reply[data-streaming="true"] pre');
    await reply.waitFor({ timeout: 20_000 });
    await page.waitForFunction(
      () => (document.querySelector(".streaming-reply pre")?.textContent ?? "").split(" ").length > 12,
    );
    await page.locator('.flow-step[data-step="Write"] .flow-step-line.streaming').waitFor();
    await browser.shot("execution-streaming");
  });
  await journey.step("the stored output replaces the streamed text once the step completes", async () => {
    await page.locator(".facts.summary").getByText("Completed", { exact: true }).waitFor({ timeout: 30_000 });
    const seen = await page.evaluate(
      () => (window as unknown as { streamLog: { text: string; node: string; status: string }[] }).streamLog,
    );
    const running = seen.filter((s) => s.status === "running" && s.text.length > 0);
    expect(running.length >= 2, `at least two growing texts while running, saw ${running.length}`);
    for (const [i, s] of running.entries()) {
      const before = running[i - 1];
      if (before)
        expect(
          s.text.length > before.text.length && s.text.startsWith(before.text),
          `each text to extend the one before: "${before.text}" then "${s.text}"`,
        );
    }
    expect(
      running.some((s) => s.node.length > 0),
      "the graph node to show the reply as it streams",
    );
    expect((await page.locator("[data-streaming]").count()) === 0, "no streaming marker once completed");
    const log = page.locator('article.step-log[data-step="Write"]');
    await log
      .getByText(/Answer from the e2e model "stream-3000", streamed/)
      .first()
      .waitFor();
    expect(models.stats(STREAM_MODEL).streamed >= 1, "the model server to have streamed the reply");
    await browser.shot("execution-streamed");
  });
  await journey.step("delete a provider after confirming; the list no longer shows it", async () => {
    await callMutation(page, "provider.create", {
      name: "scratch",
      kind: "openai-compatible",
      baseUrl: models.url,
      models: [{ id: "pause-50", contextWindow: 8000, priceIn: 0, priceOut: 0 }],
    });
    await openFromNav(page, "Providers");
    const card = page.locator('li[data-provider="scratch"]');
    await card.getByText("no key").waitFor();
    await card.getByRole("button", { name: "Delete scratch" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Roles that name its models").waitFor();
    await browser.shot("provider-delete-confirm");
    await dialog.getByRole("button", { name: "Delete provider" }).click();
    await card.waitFor({ state: "detached" });
    await page.locator(`li[data-provider="${PROVIDER}"]`).waitFor();
  });
}
