// The tenant's governor: the token-bucket math (pure), and the cap on running executions through the API
// (maxRunningExecutions: a start past it is refused with TOO_MANY_REQUESTS, writes nothing, leaves other
// tenants alone, and a slot comes back when a run ends; children count too).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type BucketRate, take, takeAll } from "../../durable-objects/governor/bucket";
import { governorStub } from "../../durable-objects/governor/client";
import type { PlanOverrides } from "../../worker/limits";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { countRows } from "../helpers/db";
import { waitFor, waitForEnd } from "../helpers/executions";
import type { StepInput } from "../helpers/runs";

describe("token buckets (pure)", () => {
  const rate: BucketRate = { perSecond: 2, burst: 3 };

  it("starts full, takes until empty, then says how long until the next token", () => {
    let bucket = take(undefined, rate, 1, 1_000);
    expect(bucket).toEqual({ ok: true, bucket: { tokens: 2, at: 1_000 } });
    bucket = take(bucket.bucket, rate, 2, 1_000);
    expect(bucket).toEqual({ ok: true, bucket: { tokens: 0, at: 1_000 } });
    expect(take(bucket.bucket, rate, 1, 1_100)).toEqual({
      ok: false,
      bucket: { tokens: 0.2, at: 1_100 },
      retryAfterMs: 400,
    });
  });

  it("refills at its rate and never above its burst", () => {
    const empty = { tokens: 0, at: 0 };
    expect(take(empty, rate, 1, 500)).toEqual({ ok: true, bucket: { tokens: 0, at: 500 } });
    expect(take(empty, rate, 1, 60_000)).toEqual({ ok: true, bucket: { tokens: 2, at: 60_000 } });
  });

  it("charges a cost above the burst as the burst, and a rate of 0 never refills", () => {
    expect(take(undefined, rate, 10, 0)).toEqual({ ok: true, bucket: { tokens: 0, at: 0 } });
    const still = take({ tokens: 0, at: 0 }, { perSecond: 0, burst: 3 }, 1, 1e9);
    expect(still).toMatchObject({ ok: false, retryAfterMs: Infinity });
  });

  it("does not let the clock run backwards into free tokens", () => {
    expect(take({ tokens: 0, at: 5_000 }, rate, 1, 1_000)).toMatchObject({ ok: false, retryAfterMs: 500 });
  });

  it("takes from every bucket or from none, answering the longest wait", () => {
    const tenant = { tokens: 5, at: 0 };
    const key = { tokens: 0, at: 0 };
    const refused = takeAll(
      [
        { key: "tenant", bucket: tenant, rate: { perSecond: 10, burst: 10 } },
        { key: "key", bucket: key, rate: { perSecond: 1, burst: 2 } },
      ],
      1,
      0,
    );
    expect(refused).toEqual({ ok: false, key: "key", retryAfterMs: 1_000 });
    const taken = takeAll([{ key: "tenant", bucket: tenant, rate: { perSecond: 10, burst: 10 } }], 2, 0);
    expect(taken).toEqual({ ok: true, buckets: new Map([["tenant", { tokens: 3, at: 0 }]]) });
  });
});

/** A tenant on `plan` with an orchestration that sleeps an hour (so its runs stay running until cancelled). */
async function sleeperTenant(plan: PlanOverrides, label = "governed") {
  const tenant = await newTenant(label);
  await env.DB.prepare("update tenants set plan = ? where id = ?")
    .bind(JSON.stringify(plan), tenant.tenant.id)
    .run();
  await governorStub(env, tenant.tenant.id).forgetLimits();
  const steps: StepInput[] = [{ name: "Nap", stepType: "sleep", duration: 3_600_000 }];
  const sleeper = await tenant.trpc.orchestrationManagement.create.mutate({ name: "Sleeper", steps });
  const execute = (idempotencyKey?: string) =>
    tenant.trpc.orchestrationManagement.execute.mutate({
      orchestrationId: sleeper.id,
      input: {},
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
  return { ...tenant, execute };
}

function executionsOf(tenantId: string): Promise<number> {
  return countRows("executions", "tenant_id = ?", tenantId);
}

async function cancelAndWait(trpc: TestClient, executionId: string) {
  await trpc.orchestrationManagement.cancel.mutate({ executionId });
  await waitForEnd(trpc, executionId);
}

describe("running executions per tenant (maxRunningExecutions)", () => {
  it("refuses a start past the cap with TOO_MANY_REQUESTS, writing nothing; other tenants go on", async () => {
    const full = await sleeperTenant({ maxRunningExecutions: 2 });
    const other = await sleeperTenant({ maxRunningExecutions: 2 }, "other");
    const [first, second] = await Promise.all([full.execute(), full.execute()]);
    expect([first.status, second.status]).toEqual(["running", "running"]);

    const refused = await errorOf(full.execute());
    expect(refused).toMatchObject({
      code: "TOO_MANY_REQUESTS",
      httpStatus: 429,
      message:
        "the team has 2 executions running, the most it may have (maxRunningExecutions 2); wait for one to end, or cancel one",
    });
    // With an idempotency key, the row it claimed is taken back: a retry with the key may start later.
    expect(await errorOf(full.execute("nightly-1"))).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    expect(await executionsOf(full.tenant.id)).toBe(2);
    expect((await other.execute()).status).toBe("running");

    // A run that ends gives its slot back (the governor reads the index), and the key now starts a run.
    await cancelAndWait(full.trpc, first.id);
    const third = await full.execute("nightly-1");
    expect(third.status).toBe("running");
    expect(await governorStub(env, full.tenant.id).runningExecutions(full.tenant.id)).toEqual(
      expect.arrayContaining([second.id, third.id]),
    );
    expect(await executionsOf(full.tenant.id)).toBe(3);
  });

  it("counts parallel starts atomically: of ten at once, exactly the cap's number start", async () => {
    const tenant = await sleeperTenant({ maxRunningExecutions: 3 }, "parallel");
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => tenant.execute()));
    expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(3);
    expect(await executionsOf(tenant.tenant.id)).toBe(3);
  });

  it("counts a resumed execution again, and a child too: a child past the cap fails its step clearly", async () => {
    const tenant = await sleeperTenant({ maxRunningExecutions: 1 }, "children");
    const parent = await tenant.trpc.orchestrationManagement.create.mutate({
      name: "Parent",
      steps: [{ name: "Sub", stepType: "orchestration", orchestrationId: "Sleeper" }] as StepInput[],
    });
    const started = await tenant.trpc.orchestrationManagement.execute.mutate({
      orchestrationId: parent.id,
      input: {},
    });
    const end = await waitForEnd(tenant.trpc, started.id);
    expect(end.status).toBe("failed");
    expect(end.error).toContain("maxRunningExecutions 1");

    // The parent failed, so its slot is free: a sleeper takes it, and resuming the parent is refused.
    const sleeper = await tenant.execute();
    expect(
      await errorOf(tenant.trpc.orchestrationManagement.resume.mutate({ executionId: started.id })),
    ).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    await cancelAndWait(tenant.trpc, sleeper.id);
    await waitFor(
      () =>
        tenant.trpc.orchestrationManagement.resume.mutate({ executionId: started.id }).then(
          () => true,
          () => false,
        ),
      (resumed) => resumed,
      { everyMs: 50 },
    );
  });
});
