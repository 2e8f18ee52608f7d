// Crash safety: the execution's Durable Object is killed hard (ctx.abort(), which drops in-flight work and
// unflushed writes) at each point of a step's life, and a fresh instance resumes it from storage through
// its pending alarm. The run must end as an uncrashed one does: completed steps never run again, a cut-off
// attempt is retried and stays in the step log, and D1's index row ends where the object is.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_INTERRUPTIONS } from "../../durable-objects/engine/decide";
import { stagesOf } from "../../durable-objects/engine/plan";
import type { Plan } from "../../durable-objects/engine/types";
import { INLINE_CALLS } from "../../durable-objects/execution/calls";
import { armFault, type FaultPoint } from "../../durable-objects/execution/fault-points";
import { PROJECTION_RETRY_MS, WATCHDOG_MS } from "../../durable-objects/execution/object";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import type { ExecutionRpc } from "../../durable-objects/execution/stub";
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
  fanMembers,
  fanOut,
  fanSteps,
  indexRow,
  outcomeOf,
  pendingAlarm,
  recover,
  restart,
  statusOf,
  waitFor,
  waitForEnd,
} from "../helpers/crash";

let chainControl: ExecutionStatus;
let fanControl: ExecutionStatus;

beforeAll(async () => {
  [chainControl, fanControl] = await Promise.all([controlRun(chain), controlRun(fanOut)]);
  expect(chainControl.status).toBe("completed");
  expect(fanControl.status).toBe("completed");
});

const INTERRUPTED = "the attempt was cut off by a restart before its result was stored; it runs again";

/**
 * Starts the chain with `heldStep`'s call held, arms `point` and lets the call go: the object dies at the
 * next pass through `point` (B's before_call or during_call when A is held, the held step's after_reply).
 */
async function crashChain(point: FaultPoint, heldStep: "A" | "B") {
  const rig = await crashRig(chain);
  const held = rig.model.hold(heldStep);
  const executionId = await rig.execute();
  await held.called();
  armFault(executionId, point);
  held.release();
  await crashed(executionId);
  return { ...rig, executionId };
}

describe("a hard crash at each point of a step's life", () => {
  it.each([
    { point: "before_call", heldStep: "A", calls: { A: 1, B: 1, C: 1 } },
    { point: "during_call", heldStep: "A", calls: { A: 1, B: 2, C: 1 } },
    { point: "after_reply", heldStep: "B", calls: { A: 1, B: 2, C: 1 } },
  ] as const)(
    "at $point of step B: A never runs again, B's cut-off attempt is logged and retried",
    async ({ point, heldStep, calls }) => {
      const { trpc, model, executionId } = await crashChain(point, heldStep);

      const atCrash = await statusOf(trpc, executionId);
      expect(atCrash.status).toBe("running");
      expect(attemptsOf(atCrash)).toEqual({ A: ["succeeded"], B: ["running"], C: [] });
      expect((await indexRow(executionId))?.status).toBe("running");

      const end = await recover(trpc, executionId);
      expect(outcomeOf(end)).toEqual(outcomeOf(chainControl));
      expect(model.callsOf(chainSteps)).toEqual(calls);
      expect(attemptsOf(end)).toEqual({
        A: ["succeeded"],
        B: ["interrupted", "succeeded"],
        C: ["succeeded"],
      });
      const cutOff = end.stepLogs[1]?.attempts[0];
      expect(cutOff).toMatchObject({ errorKind: "interrupted", error: INTERRUPTED });
      expect(cutOff?.input).toEqual(end.stepLogs[1]?.attempts[1]?.input);
      await expectIndexMatches(end);
      expect(await pendingAlarm(executionId)).toBeNull();
    },
  );

  it("after the reply of the first step, before it is stored: only that step runs again", async () => {
    const { trpc, model, executionId } = await crashChain("after_reply", "A");
    const atCrash = await statusOf(trpc, executionId);
    expect(attemptsOf(atCrash)).toEqual({ A: ["running"], B: [], C: [] });

    const end = await recover(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(chainControl));
    expect(model.callsOf(chainSteps)).toEqual({ A: 2, B: 1, C: 1 });
    expect(attemptsOf(end)).toEqual({ A: ["interrupted", "succeeded"], B: ["succeeded"], C: ["succeeded"] });
    await expectIndexMatches(end);
  });

  it("during the D1 update after the last step: no step runs again and the index row catches up", async () => {
    const { trpc, model, execute } = await crashRig(chain);
    const held = model.hold("A");
    const executionId = await execute();
    await held.called();
    // The "running" projection has landed, so the next D1 update is the final "completed" one.
    await waitFor(
      () => indexRow(executionId),
      (row) => row?.status === "running",
    );
    armFault(executionId, "before_projection");
    held.release();
    await crashed(executionId);

    const atCrash = await statusOf(trpc, executionId);
    expect(atCrash.status).toBe("completed");
    expect((await indexRow(executionId))?.status).toBe("running");

    const end = await recover(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(chainControl));
    expect(model.callsOf(chainSteps)).toEqual({ A: 1, B: 1, C: 1 });
    expect(attemptsOf(end)).toEqual({ A: ["succeeded"], B: ["succeeded"], C: ["succeeded"] });
    await expectIndexMatches(end);
    expect(await pendingAlarm(executionId)).toBeNull();
  });

  it(`during a 10-wide fan-out: the object's own ${INLINE_CALLS} calls are made again, the call runners' are not`, async () => {
    const { trpc, model, execute } = await crashRig(fanOut);
    const held = fanMembers.map((member) => model.hold(member));
    const executionId = await execute();
    await Promise.all(held.map((call) => call.called()));
    // The first INLINE_CALLS members are the object's own calls, the rest went to call runners.
    const own = fanMembers.slice(0, INLINE_CALLS);
    for (const call of held.slice(INLINE_CALLS, INLINE_CALLS + 4)) call.release();
    await waitFor(
      () => statusOf(trpc, executionId),
      (status) => status.stepLogs.filter((step) => step.status === "completed").length === 4,
    );
    armFault(executionId, "after_reply");
    held[0]?.release();
    await crashed(executionId);

    await restart(executionId);
    for (const call of held) call.release();
    const end = await waitForEnd(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(fanControl));
    expect(model.callsOf(fanSteps)).toEqual({
      ...Object.fromEntries(fanMembers.map((member) => [member, own.includes(member) ? 2 : 1])),
      Join: 1,
    });
    const attempts = attemptsOf(end);
    for (const member of fanMembers) {
      expect(attempts[member], member).toEqual(
        own.includes(member) ? ["interrupted", "succeeded"] : ["succeeded"],
      );
    }
    expect(attempts.Join).toEqual(["succeeded"]);
    await expectIndexMatches(end);
  });

  it(`a step cut off by ${MAX_INTERRUPTIONS + 1} restarts in a row fails the run instead of looping`, async () => {
    const { trpc, model, executionId } = await crashChain("during_call", "A");
    armFault(executionId, "during_call", { times: MAX_INTERRUPTIONS });
    for (let restart = 1; restart <= MAX_INTERRUPTIONS; restart++) {
      await expect(runDurableObjectAlarm(executionObject(executionId))).rejects.toThrow();
    }
    const end = await recover(trpc, executionId);
    expect(end.status).toBe("failed");
    expect(end.error).toContain('step "B" failed after');
    expect(model.callsOf(chainSteps)).toEqual({ A: 1, B: MAX_INTERRUPTIONS + 1, C: 0 });
    expect(attemptsOf(end).B).toEqual(Array(MAX_INTERRUPTIONS + 1).fill("interrupted"));
    expect(end.stepLogs[2]?.status).toBe("cancelled");
    await expectIndexMatches(end);
  });
});

describe("the alarm", () => {
  it("cut off at its start twice in a row, is picked up by the next one with nothing lost", async () => {
    const { trpc, model, executionId } = await crashChain("during_call", "A");
    armFault(executionId, "alarm_start", { times: 2 });
    for (let restart = 1; restart <= 2; restart++) {
      await expect(runDurableObjectAlarm(executionObject(executionId))).rejects.toThrow();
      expect(await pendingAlarm(executionId)).not.toBeNull();
    }
    const end = await recover(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(chainControl));
    expect(model.callsOf(chainSteps)).toEqual({ A: 1, B: 2, C: 1 });
    expect(attemptsOf(end)).toEqual({ A: ["succeeded"], B: ["interrupted", "succeeded"], C: ["succeeded"] });
    await expectIndexMatches(end);
  });

  it("throwing three times in a row re-arms itself each time and still ends the run", async () => {
    const { trpc, model, executionId } = await crashChain("during_call", "A");
    armFault(executionId, "alarm_start", { mode: "throw", times: 3 });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const before = Date.now();
      await expect(runDurableObjectAlarm(executionObject(executionId))).rejects.toThrow(
        "fault injected at alarm_start",
      );
      // The watchdog was armed before the handler did any work, so a dropped retry cannot strand the run.
      expect(await pendingAlarm(executionId)).toBeGreaterThanOrEqual(before + WATCHDOG_MS);
    }
    const end = await recover(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(chainControl));
    expect(model.callsOf(chainSteps)).toEqual({ A: 1, B: 2, C: 1 });
    await expectIndexMatches(end);
  });

  it("fired again after the run ended changes nothing", async () => {
    const { trpc, model, execute } = await crashRig(chain);
    const executionId = await execute();
    const end = await waitForEnd(trpc, executionId);
    const row = await indexRow(executionId);
    const stub = executionObject(executionId);
    expect(await pendingAlarm(executionId)).toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(false);

    for (let spurious = 1; spurious <= 2; spurious++) {
      await runInDurableObject(stub, (_, state) => state.storage.setAlarm(Date.now() + 60_000));
      expect(await runDurableObjectAlarm(stub)).toBe(true);
    }
    expect(await statusOf(trpc, executionId)).toEqual(end);
    expect(await indexRow(executionId)).toEqual(row);
    expect(model.callsOf(chainSteps)).toEqual({ A: 1, B: 1, C: 1 });
    expect(await pendingAlarm(executionId)).toBeNull();
  });

  it("fired a second time while a step is in flight starts nothing twice", async () => {
    const { trpc, model, execute } = await crashRig(chain);
    const held = model.hold("B");
    const executionId = await execute();
    await held.called();
    const watchdog = await pendingAlarm(executionId);
    const duplicate = runDurableObjectAlarm(executionObject(executionId));
    await waitFor(
      () => pendingAlarm(executionId),
      (alarm) => alarm !== watchdog,
    );
    held.release();
    expect(await duplicate).toBe(true);

    const end = await waitForEnd(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(chainControl));
    expect(model.callsOf(chainSteps)).toEqual({ A: 1, B: 1, C: 1 });
    expect(attemptsOf(end)).toEqual({ A: ["succeeded"], B: ["succeeded"], C: ["succeeded"] });
    await expectIndexMatches(end);
  });

  it("is never re-armed for a time already past, which workerd may never fire", async () => {
    const { trpc, model, execute } = await crashRig(chain);
    const held = model.hold("B");
    const executionId = await execute();
    await held.called();

    const armedAt = await runInDurableObject(executionObject(executionId), async (instance) => {
      const shell = instance as unknown as { wakeAt: number | undefined; armAlarm(): Promise<void> };
      const now = Date.now();
      shell.wakeAt = now - 5_000; // a retry that fell due while the invocation was busy
      await shell.armAlarm();
      return now;
    });
    expect(await pendingAlarm(executionId)).toBeGreaterThan(armedAt);

    held.release();
    expect(outcomeOf(await waitForEnd(trpc, executionId))).toEqual(outcomeOf(chainControl));
  });

  it("on an object whose execution never got its state, deletes itself instead of waking forever", async () => {
    const stub = executionObject(`exe_never_started_${crypto.randomUUID()}`);
    await runInDurableObject(stub, (_, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();
  });
});

describe("a D1 write that fails", () => {
  it("leaves the index row behind only until the retry alarm re-projects it", async () => {
    const { trpc, model, execute } = await crashRig(chain);
    const held = model.hold("A");
    const executionId = await execute();
    await held.called();
    await waitFor(
      () => indexRow(executionId),
      (row) => row?.status === "running",
    );
    // Both projections of "completed" in this alarm fail: the step's and the one before re-arming.
    armFault(executionId, "before_projection", { mode: "throw", times: 2 });
    held.release();
    await crashed(executionId);
    await waitFor(
      () => pendingAlarm(executionId),
      (alarm) => alarm !== null && alarm <= Date.now() + PROJECTION_RETRY_MS,
    );
    expect((await statusOf(trpc, executionId)).status).toBe("completed");
    expect((await indexRow(executionId))?.status).toBe("running");

    const end = await recover(trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(chainControl));
    expect(model.callsOf(chainSteps)).toEqual({ A: 1, B: 1, C: 1 });
    await expectIndexMatches(end);
    expect(await pendingAlarm(executionId)).toBeNull();
  });

  /** A start request for a one-step orchestration of a fresh tenant, sent to the object directly. */
  async function directStart(indexed: boolean) {
    const { trpc, tenant } = await newTenant("start-fault");
    const orchestration = await trpc.orchestrationManagement.create.mutate({
      name: "Start fault",
      steps: [{ name: "only" }],
    });
    const executionId = `exe_start_fault_${crypto.randomUUID().replaceAll("-", "")}`;
    const steps = orchestration.steps as Plan["steps"];
    const request = {
      meta: {
        v: 1 as const,
        executionId,
        tenantId: tenant.id,
        orchestrationId: orchestration.id,
        orchestrationName: orchestration.name,
        orchestrationVersion: orchestration.version,
        createdBy: "test",
      },
      plan: { executionId, steps, stages: stagesOf(steps), roles: {} },
      input: { topic: "index" },
      indexed,
    };
    return { trpc, executionId, request, stub: executionObject(executionId) as unknown as ExecutionRpc };
  }

  it("at start, when the object writes the first index row: nothing is left running unlisted", async () => {
    const { trpc, executionId, request, stub } = await directStart(false);
    armFault(executionId, "before_projection", { mode: "throw" });

    expect(await stub.start(request)).toEqual({
      ok: false,
      error: "the execution index could not be written",
    });
    expect(await indexRow(executionId)).toBeNull();
    expect(await stub.status()).toEqual({ ok: false, error: "no such execution" });
    expect(await pendingAlarm(executionId)).toBeNull();
    expect(
      await runInDurableObject(executionObject(executionId), (_, state) => state.storage.list()),
    ).toEqual(new Map());

    // The same start once D1 answers: the run happens and its row says where it ended.
    const started = await stub.start(request);
    expect(started.ok && started.value.status).toBe("completed");
    expect((await indexRow(executionId))?.status).toBe("completed");
    expect((await statusOf(trpc, executionId)).status).toBe("completed");
  });

  it("at start, when the Worker wrote the row first (an idempotent start): the retry alarm projects it", async () => {
    const { executionId, request, stub } = await directStart(true);
    // Tried alongside the save, then once more before the alarm is armed.
    armFault(executionId, "before_projection", { mode: "throw", times: 2 });

    const started = await stub.start(request);
    expect(started.ok && started.value.status).toBe("completed");
    expect(await indexRow(executionId)).toBeNull(); // the row this test's "Worker" never wrote
    const alarm = await pendingAlarm(executionId);
    expect(alarm).not.toBeNull();
    expect(alarm).toBeLessThanOrEqual(Date.now() + PROJECTION_RETRY_MS);

    await runDurableObjectAlarm(executionObject(executionId));
    expect((await indexRow(executionId))?.status).toBe("completed");
    expect(await pendingAlarm(executionId)).toBeNull();
  });
});
