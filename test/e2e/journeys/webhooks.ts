// Webhooks: a receiver on loopback (an http server this journey starts and stops; local development
// allows http), a webhook created on the Webhooks page (its secret copied once), a run whose end is
// POSTed there signed (checked with node:crypto), its failed delivery seen with the attempt, redelivered
// from the page, then the webhook disabled and deleted after confirming.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "../harness.ts";
import { callMutation, type E2E, eventually, openFromNav } from "./context.ts";

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

/** Answers 400 to the first POST and 200 to the rest; keeps what it was sent. */
async function startReceiver() {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(received.length === 1 ? 400 : 200, { "content-type": "text/plain" });
      response.end(received.length === 1 ? "not ready yet" : "thanks");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { url: `http://127.0.0.1:${port}/troupe-hook`, received, stop };
}

/** The README's verification: HMAC-SHA256 of "<t>.<raw body>" compared in constant time. */
function signatureValid(secret: string, header: string, body: string): boolean {
  const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
  const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1];
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, "hex"));
}

export async function webhooks({ page, browser, journey }: E2E) {
  const receiver = await startReceiver();
  try {
    let secret = "";
    await journey.step("create a webhook: its signing secret is shown once and copied", async () => {
      await openFromNav(page, "Webhooks");
      await page.getByText("No webhooks yet").waitFor();
      await page.getByLabel("Endpoint URL").fill(receiver.url);
      await page.getByRole("button", { name: "Create webhook" }).click();
      await page.getByRole("button", { name: "Copy secret" }).click();
      await page.getByRole("button", { name: "Copied" }).waitFor();
      secret = await page.evaluate(() => navigator.clipboard.readText());
      expect(secret.startsWith("whsec_"), `a whsec_ secret, got "${secret}"`);
      expect((await page.getByLabel("Signing secret").inputValue()) === secret, "the shown secret copied");
      await page.locator(`article[data-webhook-url="${receiver.url}"]`).getByText("Enabled").waitFor();
      await browser.shot("webhook-created");
    });

    let executionId = "";
    await journey.step("a run's end is POSTed to the receiver, signed with that secret", async () => {
      await callMutation(page, "role.create", { name: "Hook Author", basePrompt: "You write notices." });
      const flow = (await callMutation(page, "orchestrationManagement.create", {
        name: "Webhook Flow",
        steps: [{ name: "Notice", roleName: "Hook Author" }],
      })) as { id: string };
      executionId = (
        (await callMutation(page, "orchestrationManagement.execute", {
          orchestrationId: flow.id,
          input: { topic: "webhooks" },
        })) as { id: string }
      ).id;
      await eventually(() => receiver.received.length >= 1, "the receiver to get the run's end", 20_000);
      const [first] = receiver.received;
      expect(first?.headers["troupe-event"] === "execution.completed", "an execution.completed event");
      const header = String(first?.headers["troupe-signature"] ?? "");
      expect(signatureValid(secret, header, first?.body ?? ""), `a valid signature, got "${header}"`);
      const body = JSON.parse(first?.body ?? "{}") as { data?: { executionId?: string } };
      expect(body.data?.executionId === executionId, "the body to name the run");
    });

    await journey.step("the failed delivery is listed with its attempt, and redelivered", async () => {
      const card = page.locator(`article[data-webhook-url="${receiver.url}"]`);
      await card.getByRole("button", { name: "Deliveries" }).click();
      const delivery = card.locator("article.delivery").first();
      await delivery.getByRole("link", { name: executionId }).waitFor();
      await delivery.getByText("Failed", { exact: true }).waitFor();
      await delivery.getByText("not ready yet").waitFor();
      await delivery.getByText("answered 400").waitFor();
      await browser.shot("webhook-delivery-failed");
      await delivery.getByRole("button", { name: /^Redeliver/ }).click();
      await delivery.getByText("Delivered", { exact: true }).waitFor();
      await delivery.getByText("thanks").waitFor();
      expect(receiver.received.length === 2, "a second POST");
      const [first, second] = receiver.received;
      expect(second?.body === first?.body, "the same body redelivered");
      expect(
        second?.headers["troupe-delivery"] === first?.headers["troupe-delivery"],
        "the same delivery id redelivered",
      );
      await browser.shot("webhook-redelivered");
    });

    await journey.step("disable the webhook, then delete it after confirming", async () => {
      const card = page.locator(`article[data-webhook-url="${receiver.url}"]`);
      await card.getByRole("button", { name: /^Disable/ }).click();
      await card.getByText("Disabled", { exact: true }).waitFor();
      await card.getByRole("button", { name: /^Delete/ }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByText("its deliveries and their attempts are deleted").waitFor();
      await dialog.getByRole("button", { name: "Delete webhook" }).click();
      await page.getByText("No webhooks yet").waitFor();
    });
  } finally {
    await receiver.stop();
  }
}
