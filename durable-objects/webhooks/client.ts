// Reaching a tenant's webhook dispatcher (one Durable Object per tenant) from execution objects and the API.
import type { Env } from "../../worker/env";
import type { WebhookDispatcher } from "./object";

export type DispatcherRpc = Pick<WebhookDispatcher, "enqueue" | "redeliver" | "webhooksChanged">;

export function webhookDispatcher(env: Pick<Env, "WEBHOOKS">, tenantId: string): DispatcherRpc {
  return env.WEBHOOKS.get(env.WEBHOOKS.idFromName(tenantId)) as unknown as DispatcherRpc;
}
