// Request rate limits: every authenticated tRPC call takes a token from its tenant's bucket and from its
// key's (or signed-in user's) bucket in the tenant's governor object; out of tokens, the call answers
// TOO_MANY_REQUESTS (HTTP 429) with Retry-After, changes nothing, and other tenants and keys go on.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { governorStub } from "../../durable-objects/governor/client";
import { DEFAULT_LIMITS, type PlanOverrides } from "../../worker/limits";
import { BASE_URL, errorOf, makeClient, newTenant, uniqueIp, workerFetch } from "../helpers/client";
import { countRows } from "../helpers/db";
import { waitFor } from "../helpers/executions";
import { roleInput } from "../helpers/fixtures";

/** A new tenant on `plan` (set before its first authenticated call, so its governor reads it). */
async function tenantOnPlan(label: string, plan: PlanOverrides) {
  const tenant = await newTenant(label);
  await env.DB.prepare("update tenants set plan = ? where id = ?")
    .bind(JSON.stringify(plan), tenant.tenant.id)
    .run();
  await governorStub(env, tenant.tenant.id).forgetLimits();
  return tenant;
}

/** `auth.me` as a raw request: status, Retry-After and the error message, if any. */
async function me(credentials: { cookie?: string; apiKey?: string }, calls = 1) {
  const path = Array.from({ length: calls }, () => "auth.me").join(",");
  const response = await workerFetch(`${BASE_URL}/trpc/${path}${calls > 1 ? "?batch=1" : ""}`, {
    headers: {
      ...(credentials.cookie ? { cookie: credentials.cookie } : {}),
      ...(credentials.apiKey ? { authorization: `Bearer ${credentials.apiKey}` } : {}),
    },
  });
  const body = (await response.json()) as { error?: { message: string } } | { error?: { message: string } }[];
  const first = Array.isArray(body) ? body[0] : body;
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    message: first?.error?.message,
  };
}

async function spend(credentials: { cookie?: string; apiKey?: string }, times: number) {
  for (let i = 0; i < times; i += 1) expect((await me(credentials)).status).toBe(200);
}

describe("request rate limits", () => {
  it("a burst over the tenant's limit answers 429 with Retry-After; another tenant is unaffected", async () => {
    const plan = { requestsPerSecondPerTenant: 0.5, requestBurstPerTenant: 5 };
    const busy = await tenantOnPlan("rate-busy", plan);
    const other = await tenantOnPlan("rate-other", plan);
    const cookie = busy.trpc.jar.cookie ?? "";

    await spend({ cookie }, 5);
    const refused = await me({ cookie });
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toMatch(/^[12]$/); // 2 s for a token at 0.5 per second, less what refilled
    expect(refused.message).toBe(
      `too many requests from this team: the limit is 0.5 per second, 5 at once (requestsPerSecondPerTenant, requestBurstPerTenant); retry after ${refused.retryAfter} s`,
    );
    // The other tenant has its own buckets.
    await spend({ cookie: other.trpc.jar.cookie ?? "" }, 5);

    // A refused mutation changes nothing.
    const error = await errorOf(busy.trpc.role.create.mutate(roleInput("Refused")));
    expect(error).toMatchObject({ code: "TOO_MANY_REQUESTS", httpStatus: 429 });
    expect(await countRows("roles", "tenant_id = ?", busy.tenant.id)).toBe(0);
  });

  it("refills at the plan's rate: after Retry-After the next call goes through", async () => {
    const { trpc } = await tenantOnPlan("rate-refill", {
      requestsPerSecondPerTenant: 2,
      requestBurstPerTenant: 2,
    });
    const cookie = trpc.jar.cookie ?? "";
    await spend({ cookie }, 2);
    const refused = await me({ cookie });
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe("1");
    const started = Date.now();

    await waitFor(
      () => me({ cookie }),
      (answer) => answer.status === 200,
      { everyMs: 50 },
    );
    // One token back at 2 per second: about half a second after the refusal (refusals take nothing).
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("holds each API key to its own bucket: one key out of tokens, the tenant's other key and user go on", async () => {
    const tenant = await tenantOnPlan("rate-keys", { requestsPerSecondPerKey: 0.1, requestBurstPerKey: 3 });
    const busyKey = (await tenant.trpc.apiKey.create.mutate({ name: "busy" })).key;
    const quietKey = (await tenant.trpc.apiKey.create.mutate({ name: "quiet" })).key;

    await spend({ apiKey: busyKey }, 3);
    const refused = await me({ apiKey: busyKey });
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe("10");
    expect(refused.message).toMatch(/^too many requests from this API key: .*\(requestsPerSecondPerKey/);

    await spend({ apiKey: quietKey }, 3);
    // The signed-in user is a caller of its own (it made two calls above: the keys).
    expect((await me({ cookie: tenant.trpc.jar.cookie ?? "" })).status).toBe(200);
    const viaClient = makeClient({ apiKey: busyKey, headers: { "cf-connecting-ip": uniqueIp() } });
    expect(await errorOf(viaClient.role.list.query({}))).toMatchObject({ code: "TOO_MANY_REQUESTS" });
  });

  it("charges a batch one token per call, in one check", async () => {
    const { trpc } = await tenantOnPlan("rate-batch", {
      requestsPerSecondPerTenant: 0.1,
      requestBurstPerTenant: 5,
    });
    const cookie = trpc.jar.cookie ?? "";
    expect((await me({ cookie }, 3)).status).toBe(200);
    // Two tokens left: a batch of three is refused whole, and takes none of them.
    const refused = await me({ cookie }, 3);
    expect(refused.message).toMatch(/^too many requests from this team/);
    expect(refused.retryAfter).toBe("10");
    await spend({ cookie }, 2);
  });

  it("charges a watchExecution subscription one token when it starts, not one per update", async () => {
    const { trpc } = await tenantOnPlan("rate-watch", {
      requestsPerSecondPerKey: 0.1,
      requestBurstPerKey: 4,
    });
    const cookie = trpc.jar.cookie ?? "";
    const steps = [{ name: "Nap", stepType: "sleep" as const, duration: 300 }];
    const nap = await trpc.orchestrationManagement.create.mutate({ name: "Nap", steps });
    const { id } = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: nap.id, input: {} });
    const input = encodeURIComponent(JSON.stringify({ executionId: id }));
    const watch = () =>
      workerFetch(`${BASE_URL}/trpc/orchestrationManagement.watchExecution?input=${input}`, {
        headers: { cookie, accept: "text/event-stream" },
      });

    // The stream runs to the run's end (several updates) on the one token it took.
    const events = await (await watch()).text();
    expect(events).toContain('"status":"completed"');
    expect((await me({ cookie })).status).toBe(200); // the fourth token
    // Server-Sent Events carry errors in the stream (as tRPC does for every error of a subscription).
    const refused = await watch();
    expect(refused.headers.get("retry-after")).toBe("10");
    const text = await refused.text();
    expect(text).toContain("event: serialized-error");
    expect(text).toContain('"code":"TOO_MANY_REQUESTS","httpStatus":429');
  });

  it("lets a burst the size of a key's bucket through on the defaults", async () => {
    const { trpc } = await newTenant("rate-defaults");
    const cookie = trpc.jar.cookie ?? "";
    const burst = await Promise.all(
      Array.from({ length: DEFAULT_LIMITS.requestBurstPerKey }, () => me({ cookie })),
    );
    expect(burst.filter((answer) => answer.status !== 200)).toEqual([]);
  }, 30_000);
});
