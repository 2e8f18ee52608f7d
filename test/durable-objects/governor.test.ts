// The tenant's governor: the token-bucket math (pure), and the cap on running executions through the API
// (maxRunningExecutions: a start past it queues, up to maxQueuedExecutions, and starts in order as runs
// end; past the queue, or with no queue, it is refused with TOO_MANY_REQUESTS, writes nothing, leaves
// other tenants alone, and a slot comes back when a run ends; children count too and never queue).
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Plan } from "../../durable-objects/engine/types";
import type { ExecutionObject } from "../../durable-objects/execution/object";
import type { ExecutionMeta } from "../../durable-objects/execution/store";
import { executionStub } from "../../durable-objects/execution/stub";
import { type BucketRate, take, takeAll } from "../../durable-objects/governor/bucket";
import { governorStub } from "../../durable-objects/governor/client";
import { takeStart } from "../../durable-objects/governor/starts";
import type { PlanOverrides } from "../../worker/limits";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { flowWith, statusOf } from "../helpers/control-flow";
import { countRows } from "../helpers/db";
import { waitFor, waitForEnd } from "../helpers/executions";
import { gate, type StepInput, untilAborted } from "../helpers/runs";

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
    expect(taken).toEqual({ ok: true, buckets: new Map([["tenant", { tokens: 3, at: 0 }]]), granted: 2 });
  });

  it("leases extra tokens only as far as every bucket holds them whole, and never refuses for them", () => {
    const buckets = (tenantTokens: number, keyTokens: number) => [
      { key: "tenant" as const, bucket: { tokens: tenantTokens, at: 0 }, rate: { perSecond: 10, burst: 10 } },
      { key: "key" as const, bucket: { tokens: keyTokens, at: 0 }, rate: { perSecond: 10, burst: 10 } },
    ];
    const leased = takeAll(buckets(10, 4.5), 1, 0, 20);
    expect(leased).toMatchObject({ ok: true, granted: 4 });
    if (!leased.ok) throw new Error("refused");
    expect(leased.buckets.get("tenant")?.tokens).toBe(6);
    expect(leased.buckets.get("key")?.tokens).toBe(0.5);
    // The call's own cost is all it needs: with no spare tokens it still goes through, leasing none.
    expect(takeAll(buckets(1, 1), 1, 0, 20)).toMatchObject({ ok: true, granted: 1 });
    expect(takeAll(buckets(0.5, 10), 1, 0, 20)).toMatchObject({ ok: false, key: "tenant" });
  });
});

describe("executions started per minute (pure)", () => {
  it("counts starts in a minute's window and answers the wait until it closes", () => {
    let window = takeStart(undefined, 2, 1_000);
    expect(window).toEqual({ ok: true, window: { endsAt: 61_000, count: 1 } });
    if (!window.ok) throw new Error("refused");
    window = takeStart(window.window, 2, 30_000);
    expect(window).toEqual({ ok: true, window: { endsAt: 61_000, count: 2 } });
    if (!window.ok) throw new Error("refused");
    expect(takeStart(window.window, 2, 31_000)).toEqual({ ok: false, retryAfterMs: 30_000 });
    expect(takeStart(window.window, 2, 61_000)).toEqual({ ok: true, window: { endsAt: 121_000, count: 1 } });
  });
});

async function planned(plan: PlanOverrides, label: string) {
  const tenant = await newTenant(label);
  await env.DB.prepare("update tenants set plan = ? where id = ?")
    .bind(JSON.stringify(plan), tenant.tenant.id)
    .run();
  await governorStub(env, tenant.tenant.id).forgetLimits();
  return tenant;
}

/** A tenant on `plan` with an orchestration that sleeps an hour (so its runs stay running until cancelled). */
async function sleeperTenant(plan: PlanOverrides, label = "governed") {
  const tenant = await planned(plan, label);
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
  it("with no queue, refuses a start past the cap with TOO_MANY_REQUESTS, writing nothing; other tenants go on", async () => {
    const full = await sleeperTenant({ maxRunningExecutions: 2, maxQueuedExecutions: 0 });
    const other = await sleeperTenant({ maxRunningExecutions: 2, maxQueuedExecutions: 0 }, "other");
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
    const tenant = await sleeperTenant({ maxRunningExecutions: 3, maxQueuedExecutions: 0 }, "parallel");
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

/**
 * A tenant on `plan` whose orchestration "Hold" has one step that waits until the test opens the gate
 * of its run (input `n`); `called` lists the runs whose step was called, in order.
 */
async function holdingTenant(plan: PlanOverrides, label: string) {
  const tenant = await planned(plan, label);
  const holds = Array.from({ length: 5 }, () => gate<string>());
  const called: number[] = [];
  const flow = await flowWith(
    tenant.trpc,
    [{ name: "Wait", inputMapping: { n: "{{context.input.n}}" } }],
    (input, signal) => {
      const n = Number(input.n);
      called.push(n);
      return Promise.race([holds[n]?.promise ?? "no gate", untilAborted(signal)]);
    },
    { name: "Hold" },
  );
  const execute = (n: number) =>
    tenant.trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id, input: { n } });
  return { ...tenant, holds, called, execute };
}

describe("end notices", () => {
  async function metaOf(executionId: string): Promise<ExecutionMeta | undefined> {
    const stub = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId));
    return runInDurableObject(stub, (_object: ExecutionObject, state) =>
      state.storage.get<ExecutionMeta>("meta"),
    );
  }

  it("well below the cap a run need not report its end, its slot is found free in D1; near it, runs report", async () => {
    const tenant = await sleeperTenant({ maxRunningExecutions: 4, maxQueuedExecutions: 0 }, "notices");
    const first = await tenant.execute();
    expect((await metaOf(first.id))?.endNotice).toBe(false);
    await cancelAndWait(tenant.trpc, first.id);
    // Its end was not announced: the governor still counts it, until it prunes against D1.
    const [second, third] = [await tenant.execute(), await tenant.execute()];
    expect((await metaOf(second.id))?.endNotice).toBe(false);
    // Half the cap is held (first pruned away as ended): the third run must report its end.
    expect((await metaOf(third.id))?.endNotice).toBeUndefined();
    const fourth = await tenant.execute();
    const fifth = await tenant.execute();
    expect((await metaOf(fifth.id))?.endNotice).toBeUndefined();
    // Full: the next start is refused, and frees up as soon as one that reports ends.
    expect(await errorOf(tenant.execute())).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    await cancelAndWait(tenant.trpc, fourth.id);
    expect((await tenant.execute()).status).toBe("running");
  });

  it("a start the checks refuse gives its admission back: it holds no slot and is no start of the minute", async () => {
    const tenant = await sleeperTenant(
      { maxRunningExecutions: 1, maxQueuedExecutions: 0, maxExecutionsStartedPerMinute: 1 },
      "withdrawn",
    );
    const missing = await errorOf(
      tenant.trpc.orchestrationManagement.execute.mutate({ orchestrationId: "No such flow", input: {} }),
    );
    expect(missing.code).toBe("NOT_FOUND");
    expect(await governorStub(env, tenant.tenant.id).runningExecutions(tenant.tenant.id)).toEqual([]);
    expect((await tenant.execute()).status).toBe("running");
  });
});

describe("the queue past the cap (maxQueuedExecutions)", () => {
  it("queues starts past the cap, starts them in order as runs end, and refuses past the queue", async () => {
    const tenant = await holdingTenant({ maxRunningExecutions: 2, maxQueuedExecutions: 2 }, "queue");
    const other = await sleeperTenant({ maxRunningExecutions: 1, maxQueuedExecutions: 0 }, "queue-other");
    const governor = governorStub(env, tenant.tenant.id);
    const first = await tenant.execute(0);
    const second = await tenant.execute(1);
    const third = await tenant.execute(2);
    const fourth = await tenant.execute(3);
    expect([first.status, second.status]).toEqual(["running", "running"]);
    expect([third, fourth].map((run) => [run.status, run.queued, run.startedAt])).toEqual([
      ["pending", true, null],
      ["pending", true, null],
    ]);

    const refused = await errorOf(tenant.execute(4));
    expect(refused).toMatchObject({
      code: "TOO_MANY_REQUESTS",
      httpStatus: 429,
      message:
        "the team has 2 executions running (maxRunningExecutions 2) and 2 queued, the most it may queue (maxQueuedExecutions 2); wait for one to end, or cancel one",
    });
    expect(await executionsOf(tenant.tenant.id)).toBe(4);
    expect(await governor.queuedExecutions()).toEqual([third.id, fourth.id]);
    expect((await other.execute()).status).toBe("running");
    // The sweeper's poke does not start a queued run.
    const poked = await executionStub(env, third.id).ensureAlarm("pending");
    expect(poked).toMatchObject({ ok: true, value: { status: "pending", armed: false } });
    expect(tenant.called).toEqual([0, 1]);

    // A run that ends makes room for the oldest queued one, at once.
    tenant.holds[0]?.open("zero");
    expect((await waitForEnd(tenant.trpc, first.id)).status).toBe("completed");
    const running = await waitFor(
      () => statusOf(tenant.trpc, third.id),
      (status) => status.status === "running",
    );
    expect(running.queued).toBeUndefined();
    const waiting = await statusOf(tenant.trpc, fourth.id);
    expect([waiting.status, waiting.queued]).toEqual(["pending", true]);
    expect(await governor.queuedExecutions()).toEqual([fourth.id]);

    tenant.holds[1]?.open("one");
    await waitFor(
      () => statusOf(tenant.trpc, fourth.id),
      (status) => status.status === "running",
    );
    tenant.holds[2]?.open("two");
    tenant.holds[3]?.open("three");
    for (const run of [second, third, fourth])
      expect((await waitForEnd(tenant.trpc, run.id)).status).toBe("completed");
    expect(tenant.called).toEqual([0, 1, 2, 3]);
    expect(await governor.queuedExecutions()).toEqual([]);
    expect(await governor.runningExecutions(tenant.tenant.id)).toEqual([]);
  });

  it("cancels a queued run: it ends cancelled, never runs, and the next queued run takes the slot", async () => {
    const tenant = await holdingTenant({ maxRunningExecutions: 1, maxQueuedExecutions: 5 }, "queue-cancel");
    const first = await tenant.execute(0);
    const second = await tenant.execute(1);
    const third = await tenant.execute(2);
    expect([first.status, second.queued, third.queued]).toEqual(["running", true, true]);

    const cancelled = await tenant.trpc.orchestrationManagement.cancel.mutate({ executionId: second.id });
    expect([cancelled.status, cancelled.queued]).toEqual(["cancelled", undefined]);
    await waitFor(
      () => governorStub(env, tenant.tenant.id).queuedExecutions(),
      (queued) => queued.length === 1,
    );

    tenant.holds[0]?.open("zero");
    tenant.holds[2]?.open("two");
    expect((await waitForEnd(tenant.trpc, third.id)).status).toBe("completed");
    const never = await statusOf(tenant.trpc, second.id);
    expect([never.status, never.startedAt]).toEqual(["cancelled", null]);
    expect(tenant.called).toEqual([0, 2]);
  });

  it("does not stall on a lost end notice: the governor's alarm finds the end in D1 and starts the next", async () => {
    const tenant = await sleeperTenant({ maxRunningExecutions: 1, maxQueuedExecutions: 1 }, "queue-alarm");
    const running = await tenant.execute();
    const queued = await tenant.execute();
    expect(queued.queued).toBe(true);
    // The run ends as far as the index knows, and no notice reaches the governor.
    await env.DB.prepare("update executions set status = 'cancelled' where id = ?").bind(running.id).run();
    const governor = env.GOVERNORS.get(env.GOVERNORS.idFromName(tenant.tenant.id));
    expect(await runDurableObjectAlarm(governor)).toBe(true);
    const started = await waitFor(
      () => statusOf(tenant.trpc, queued.id),
      (status) => status.status === "running",
    );
    expect(started.queued).toBeUndefined();
    expect(await governorStub(env, tenant.tenant.id).queuedExecutions()).toEqual([]);
    await executionStub(env, running.id).cancel("test over");
  });

  it("starts at once a queued start that the governor released before it reached its object", async () => {
    const tenant = await sleeperTenant({}, "queue-early");
    const model = await tenant.execute();
    const stored = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(model.id));
    const { meta, plan } = await runInDurableObject(stored, async (_, state) => ({
      meta: (await state.storage.get<ExecutionMeta>("meta")) as ExecutionMeta,
      plan: (await state.storage.get<Plan>("plan")) as Plan,
    }));
    const executionId = `exe_early_${crypto.randomUUID()}`;
    const early = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId)) as unknown as Pick<
      ExecutionObject,
      "release" | "start" | "cancel"
    >;

    expect(await early.release()).toEqual({ ok: true, value: "started" });
    const started = await early.start({
      meta: { ...meta, executionId },
      plan: { ...plan, executionId },
      input: {},
      indexed: false,
      queued: true,
    });
    expect(started).toMatchObject({ ok: true, value: { status: "running" } });
    expect(started.ok && started.value.queued).toBeUndefined();
    await early.cancel("test over");
    await cancelAndWait(tenant.trpc, model.id);
  });

  it("a retried start with the same idempotency key gets the queued run, not a second place", async () => {
    const tenant = await sleeperTenant({ maxRunningExecutions: 1, maxQueuedExecutions: 1 }, "queue-key");
    const running = await tenant.execute();
    const queued = await tenant.execute("nightly");
    const again = await tenant.execute("nightly");
    expect([running.status, queued.queued, again.id]).toEqual(["running", true, queued.id]);
    expect(await errorOf(tenant.execute())).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    await cancelAndWait(tenant.trpc, running.id);
    await waitFor(
      () => statusOf(tenant.trpc, queued.id),
      (status) => status.status === "running",
    );
  });
});
