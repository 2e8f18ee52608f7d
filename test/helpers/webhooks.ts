// Webhook test rig: the loopback receiver (test/helpers/webhook-receiver.ts, scripted per key), the
// tenant's dispatcher object (its stored deliveries and its alarm), and an HMAC computed here with
// WebCrypto, independent of worker/webhooks/signature.ts.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import type { PendingDelivery } from "../../durable-objects/webhooks/object";
import type { WebhookEventType } from "../../worker/schemas/webhook";
import type { TestClient } from "./client";
import { waitFor } from "./executions";
import type { ReceivedRequest, ReceiverReply } from "./webhook-receiver";

const receiver = () => `http://127.0.0.1:${inject("webhookReceiverPort")}`;

/** A fresh receiver path; every test uses its own. */
export function newReceiverKey(): string {
  return `k${crypto.randomUUID().replaceAll("-", "")}`;
}

export function receiverUrl(key: string): string {
  return `${receiver()}/hook/${key}`;
}

/** The next answers of `key`'s path, in order (then 200). */
export async function scriptReceiver(key: string, responses: ReceiverReply[]): Promise<void> {
  const response = await fetch(`${receiver()}/control/${key}`, {
    method: "POST",
    body: JSON.stringify({ responses }),
  });
  if (response.status !== 204) throw new Error(`receiver control answered ${response.status}`);
}

export async function receivedBy(key: string): Promise<ReceivedRequest[]> {
  return (await (await fetch(`${receiver()}/received/${key}`)).json()) as ReceivedRequest[];
}

/** Waits until `key`'s path has received `count` requests, and returns them. */
export function waitForReceived(key: string, count: number): Promise<ReceivedRequest[]> {
  return waitFor(
    () => receivedBy(key),
    (requests) => requests.length >= count,
  );
}

/** A webhook of `trpc`'s tenant posting to a fresh receiver path. */
export async function hookFor(
  trpc: TestClient,
  events: WebhookEventType[] = ["execution.completed", "execution.failed", "execution.cancelled"],
  options: { orchestrationId?: string; key?: string } = {},
) {
  const key = options.key ?? newReceiverKey();
  const { orchestrationId } = options;
  const webhook = await trpc.webhook.create.mutate({
    url: receiverUrl(key),
    events,
    ...(orchestrationId ? { orchestrationId } : {}),
  });
  return { key, webhook };
}

export function dispatcherObject(tenantId: string) {
  return env.WEBHOOKS.get(env.WEBHOOKS.idFromName(tenantId));
}

/** The deliveries the tenant's dispatcher still owes, and its alarm. */
export function dispatcherState(tenantId: string) {
  return runInDurableObject(dispatcherObject(tenantId), async (_, state) => ({
    pending: [...(await state.storage.list<PendingDelivery>({ prefix: "pending:" })).values()],
    alarm: await state.storage.getAlarm(),
  }));
}

/** Runs the dispatcher's pending alarm now (a retry that is due later). */
export function runDispatcherAlarm(tenantId: string): Promise<boolean> {
  return runDurableObjectAlarm(dispatcherObject(tenantId));
}

/** Deliveries of one webhook, newest first, with attempts. */
export async function deliveriesOf(trpc: TestClient, webhookId: string) {
  return (await trpc.webhook.deliveries.query({ webhookId })).items;
}

/** Waits until the webhook's newest delivery has `attempts` attempts recorded and the dispatcher is done with it. */
export async function waitForAttempts(
  trpc: TestClient,
  tenantId: string,
  webhookId: string,
  attempts: number,
) {
  const [delivery] = await waitFor(
    () => deliveriesOf(trpc, webhookId),
    (items) => (items[0]?.attempts.length ?? 0) >= attempts,
  );
  if (!delivery) throw new Error("no delivery");
  // The stored record is updated right after the attempt's row, then the alarm derived from it: wait for both.
  await waitFor(
    () => dispatcherState(tenantId),
    ({ pending, alarm }) => {
      const stored = pending.find((entry) => entry.deliveryId === delivery.id);
      return stored === undefined || (stored.attempts >= attempts && alarm === stored.nextAt);
    },
  );
  return (await deliveriesOf(trpc, webhookId))[0] ?? delivery;
}

/**
 * Makes every stored delivery due now and runs the dispatcher's alarm (the retry Cloudflare would run at
 * its time); returns the times they had been scheduled for.
 */
export async function runRetriesNow(tenantId: string): Promise<number[]> {
  const scheduled = await runInDurableObject(dispatcherObject(tenantId), async (_, state) => {
    const pending = await state.storage.list<PendingDelivery>({ prefix: "pending:" });
    const times: number[] = [];
    for (const [key, entry] of pending) {
      times.push(entry.nextAt);
      await state.storage.put(key, { ...entry, nextAt: Date.now() });
    }
    return times;
  });
  await runDispatcherAlarm(tenantId);
  return scheduled;
}

/** HMAC-SHA256(secret, "<t>.<body>") in hex, computed with WebCrypto here (not with our signature code). */
export async function independentSignature(secret: string, t: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${t}.${body}`));
  return [...new Uint8Array(mac)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
