// The cron sweeper: an execution whose Durable Object lost its alarm (Cloudflare drops one after repeated
// failures) is woken again, an index row in D1 that missed a write converges to the object's state, and a
// parent whose child's notice never arrived asks the child and finishes.
import {
  createExecutionContext,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { armFault } from "../../durable-objects/execution/fault-points";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { STALE_AFTER_MS, SWEEP_BATCH, sweep } from "../../durable-objects/execution/sweeper";
import worker from "../../worker/index";
import { newTenant } from "../helpers/client";
import {
  attemptsOf,
  chain,
  chainSteps,
  controlRun,
  crashed,
  crashRig,
  executionObject,
  expectIndexMatches,
  indexRow,
  outcomeOf,
  pendingAlarm,
  rewriteIndexRow,
  statusOf,
  waitFor,
  waitForEnd,
} from "../helpers/crash";
import {
  childFlow,
  childIdsOf,
  childrenOf,
  loseOutbox,
  outboxOf,
  parentCalls,
  parentFlow,
} from "../helpers/crash-kinds";

const LATER_MS = 10 * 60_000;

let control: ExecutionStatus;
let parentControl: ExecutionStatus;
beforeAll(async () => {
  [control, parentControl] = await Promise.all([controlRun(chain), controlRun(parentFlow, [childFlow])]);
});

/** An execution whose object crashed during B's call and then lost its alarm: nothing would wake it. */
async function strandedExecution() {
  const rig = await crashRig(chain);
  const held = rig.model.hold("A");
  const executionId = await rig.execute();
  await held.called();
  armFault(executionId, "during_call");
  held.release();
  await crashed(executionId);
  await runInDurableObject(executionObject(executionId), (_, state) => state.storage.deleteAlarm());
  expect(await pendingAlarm(executionId)).toBeNull();
  return { ...rig, executionId };
}

describe("the sweeper", () => {
  it("brings forward an alarm set far too late, and the run completes as an uncrashed one", async () => {
    const { trpc, model, executionId } = await strandedExecution();
    const days = Date.now() + 7 * 24 * 60 * 60_000;
    await runInDurableObject(executionObject(executionId), (_, state) => state.storage.setAlarm(days));

    const { rearmed } = await sweep(env, Date.now() + LATER_MS);
    expect(rearmed).toBe(0); // it had an alarm, only a useless one
    // The wake made the cut-off call again at once; what is left is due within a watchdog's length.
    const alarm = await pendingAlarm(executionId);
    expect(alarm === null || alarm < Date.now() + 60_000).toBe(true);
    const end = await waitForEnd(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(control));
    expect(model.callsOf(chainSteps)).toEqual({ A: 1, B: 2, C: 1 });
  });

  it("wakes an execution whose object has no alarm, and it completes as an uncrashed run", async () => {
    const { trpc, model, executionId } = await strandedExecution();

    await sweep(env, Date.now());
    expect(await pendingAlarm(executionId)).toBeNull(); // its row moved less than STALE_AFTER_MS ago

    const { rearmed } = await sweep(env, Date.now() + LATER_MS);
    expect(rearmed).toBeGreaterThanOrEqual(1);
    const end = await waitForEnd(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(control));
    expect(model.callsOf(chainSteps)).toEqual({ A: 1, B: 2, C: 1 });
    expect(attemptsOf(end)).toEqual({ A: ["succeeded"], B: ["interrupted", "succeeded"], C: ["succeeded"] });
    await expectIndexMatches(end);
  });

  it("runs from the Worker's cron trigger", async () => {
    const { trpc, executionId } = await strandedExecution();
    await rewriteIndexRow(executionId, { updated_at: Date.now() - STALE_AFTER_MS - 1000 });

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    const end = await waitForEnd(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(control));
    await expectIndexMatches(end);
  });

  it("brings back every column of an index row whose final write was lost", async () => {
    const { trpc, execute } = await crashRig(chain);
    const executionId = await execute();
    const end = await waitForEnd(trpc, executionId);
    await rewriteIndexRow(executionId, { status: "running", finished_at: null, updated_at: Date.now() });

    await sweep(env, Date.now() + LATER_MS);
    await expectIndexMatches(end);
    expect(await statusOf(trpc, executionId)).toEqual(end);
    expect(await pendingAlarm(executionId)).toBeNull();
  });

  it("leaves a live execution that still has its alarm alone", async () => {
    const { trpc, model, execute } = await crashRig(chain);
    const held = model.hold("B");
    const executionId = await execute();
    await held.called();
    const watchdog = await pendingAlarm(executionId);

    const { rearmed } = await sweep(env, Date.now() + LATER_MS);
    expect(rearmed).toBe(0);
    expect(await pendingAlarm(executionId)).toBe(watchdog);
    expect((await indexRow(executionId))?.status).toBe("running");

    held.release();
    const end = await waitForEnd(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(control));
    expect(model.callsOf(chainSteps)).toEqual({ A: 1, B: 1, C: 1 });
  });

  it("marks failed an execution whose object never received its state", async () => {
    const { tenantId } = await crashRig(chain);
    const executionId = `exe_lost_${crypto.randomUUID()}`;
    const longAgo = Date.now() - LATER_MS;
    await env.DB.prepare(
      `insert into executions (id, tenant_id, orchestration_id, orchestration_name, orchestration_version, status,
         created_by, created_at, updated_at) values (?, ?, 'orc_gone', 'Gone', 1, 'pending', 'test', ?, ?)`,
    )
      .bind(executionId, tenantId, longAgo, longAgo)
      .run();

    await sweep(env, Date.now());
    expect(await indexRow(executionId)).toMatchObject({
      status: "failed",
      error: "the execution's state was lost before it started",
    });
    expect(await pendingAlarm(executionId)).toBeNull();
  });
});

describe("the sweeper and a child's notice to its parent", () => {
  /**
   * A parent waiting for a child that has ended: the child's object died right after writing its end
   * (so its notice to the parent is owed, not sent) and its index row still says running.
   */
  async function childEndedUntold() {
    const rig = await crashRig(parentFlow, [childFlow]);
    const inner = rig.model.hold("Inner");
    const executionId = await rig.execute();
    await inner.called();
    const childId = childIdsOf(await statusOf(rig.trpc, executionId))[0] as string;
    armFault(childId, "after_save");
    inner.release();
    await crashed(childId);
    expect(await outboxOf(childId)).toHaveLength(1);
    return { ...rig, executionId, childId };
  }

  /** The parent ends as an uncrashed one, with one child that ran once, and both index rows agree. */
  async function expectParentFinished(rig: Awaited<ReturnType<typeof childEndedUntold>>) {
    const end = await waitForEnd(rig.trpc, rig.executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(parentControl));
    expect(rig.model.callsOf(parentCalls)).toEqual({ A: 1, Inner: 1, After: 1 });
    const children = await childrenOf(rig.trpc, rig.executionId);
    expect(children.map((child) => [child.id, child.status])).toEqual([[rig.childId, "completed"]]);
    await expectIndexMatches(end);
    await expectIndexMatches(await statusOf(rig.trpc, rig.childId));
    return end;
  }

  it("lost for good: the parent's ensureAlarm asks the child, and the parent finishes", async () => {
    const rig = await childEndedUntold();
    await loseOutbox(rig.childId);
    const stuck = await statusOf(rig.trpc, rig.executionId);
    expect(stuck.stepLogs.find((step) => step.name === "Sub")?.wait).toMatchObject({ kind: "child" });
    // Nothing else would wake the parent before the child's deadline, 30 days away.
    expect(await pendingAlarm(rig.executionId)).toBeGreaterThan(Date.now() + LATER_MS);

    await sweep(env, Date.now() + LATER_MS);
    await expectParentFinished(rig);
    expect(await outboxOf(rig.childId)).toEqual([]);
  });

  it("still owed by a child whose alarm was dropped: asked and told, the parent finishes once", async () => {
    const rig = await childEndedUntold();
    await runInDurableObject(executionObject(rig.childId), (_, state) => state.storage.deleteAlarm());
    expect(await pendingAlarm(rig.childId)).toBeNull();

    // Both rows are stale: the child is re-armed and delivers its notice, the parent asks the child.
    await sweep(env, Date.now() + LATER_MS);
    const end = await expectParentFinished(rig);
    await waitFor(
      () => outboxOf(rig.childId),
      (owed) => owed.length === 0,
    );
    expect(await statusOf(rig.trpc, rig.executionId)).toEqual(end);
    expect(rig.model.callsOf(parentCalls)).toEqual({ A: 1, Inner: 1, After: 1 });
  });
});

/** Index rows for executions whose objects hold nothing, last updated at the times given. */
async function staleRows(tenantId: string, updatedAts: number[]): Promise<string[]> {
  const ids = updatedAts.map(() => `exe_sweep_${crypto.randomUUID()}`);
  await env.DB.batch(
    ids.map((id, i) =>
      env.DB.prepare(
        `insert into executions (id, tenant_id, orchestration_id, orchestration_name, orchestration_version,
           status, created_by, created_at, updated_at) values (?, ?, 'orc_x', 'X', 1, 'running', 'test', ?, ?)`,
      ).bind(id, tenantId, updatedAts[i], updatedAts[i]),
    ),
  );
  return ids;
}

describe("the sweeper's queue", () => {
  it("moves a row whose check throws to the back, so it cannot stay first for ever", async () => {
    const { tenant } = await newTenant("sweep-broken");
    const [executionId] = (await staleRows(tenant.id, [Date.now() - 1000 * LATER_MS])) as [string];
    // State the object cannot load: its check throws every time.
    await runInDurableObject(executionObject(executionId), (_, state) =>
      state.storage.put({ meta: {}, plan: {}, header: { v: 2 }, "step:broken": 42 }),
    );
    const swept = Date.now() + LATER_MS;

    await sweep(env, swept);
    expect((await indexRow(executionId))?.updated_at).toBe(swept);
    // The next pass within STALE_AFTER_MS leaves it alone; it comes round again after that.
    await sweep(env, swept + 1000);
    expect((await indexRow(executionId))?.updated_at).toBe(swept);
  });

  it("takes the tenants' rows in turn: a tenant with a pile of stale rows does not starve another", async () => {
    const [busy, quiet] = await Promise.all([newTenant("sweep-busy"), newTenant("sweep-quiet")]);
    const oldest = Date.now() - 100 * LATER_MS;
    const pile = await staleRows(
      busy.tenant.id,
      Array.from({ length: SWEEP_BATCH + 5 }, (_, i) => oldest + i),
    );
    const [waiting] = (await staleRows(quiet.tenant.id, [oldest + LATER_MS])) as [string];

    await sweep(env, Date.now());
    // Checked (its object holds no state, so it is marked lost), though the pile was all older.
    expect((await indexRow(waiting))?.status).toBe("failed");
    expect((await indexRow(pile[0] as string))?.status).toBe("failed");
    expect((await indexRow(pile.at(-1) as string))?.status).toBe("running");
  });
});
