// Shared setup for the trigger and schedule tests: a tenant with a runnable orchestration (one step the
// built-in local model answers), POSTs to a trigger URL as a caller on another origin would send them,
// and the executions a tenant has, read from D1.
import { env } from "cloudflare:workers";
import { newTenant, workerFetch } from "./client";
import { independentSignature } from "./webhooks";

export async function tenantWithOrchestration(label: string) {
  const account = await newTenant(label);
  await account.trpc.role.create.mutate({ name: "Writer", basePrompt: "You write." });
  const orchestration = await account.trpc.orchestrationManagement.create.mutate({
    name: `${label} flow`,
    steps: [{ name: "Write", roleName: "Writer" }],
  });
  return { ...account, orchestrationId: orchestration.id };
}

/** POSTs `body` (a string is sent as is) to a trigger URL from another origin. */
export function postTrigger(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  method = "POST",
): Promise<Response> {
  return workerFetch(url, {
    method,
    headers: { "content-type": "application/json", origin: "https://elsewhere.example", ...headers },
    ...(method === "GET" || method === "HEAD"
      ? {}
      : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}

/** A `Troupe-Signature` for `body`, `ageSeconds` old, computed here (not with the Worker's signer). */
export async function signed(secret: string, body: string, ageSeconds = 0): Promise<string> {
  const t = Math.floor(Date.now() / 1000) - ageSeconds;
  const hex = await independentSignature(secret, String(t), body);
  return `t=${t},v1=${hex}`;
}

export async function executionsOf(tenantId: string) {
  const { results } = await env.DB.prepare(
    "select id, created_by, idempotency_key, status from executions where tenant_id = ? order by created_at",
  )
    .bind(tenantId)
    .all<{ id: string; created_by: string; idempotency_key: string | null; status: string }>();
  return results;
}
