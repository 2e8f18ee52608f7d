// Crash safety of the control-flow kinds: the execution's Durable Object is killed hard (ctx.abort()) after
// a decision is made, after it is written, inside a loop iteration, a forEach item and a branch arm, while
// an approval lands or times out, while a sleep waits and while a failed run resumes (child executions:
// crash-children.test.ts). A fresh instance resumes from storage through an alarm that is always due soon.
// Each run ends as an uncrashed one does: completed instances never run again, a cut-off attempt is
// retried, and D1's index row ends where the object is.
import { beforeAll, describe, expect, it } from "vitest";
import { armFault } from "../../durable-objects/execution/fault-points";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import type { OrchestrationInput } from "../../worker/schemas/orchestration";
import { errorOf } from "../helpers/client";
import {
  attemptsByCall,
  chain,
  chainSteps,
  controlRun,
  crashed,
  crashRig,
  expectIndexMatches,
  outcomeOf,
  pendingAlarm,
  pickUp,
  restart,
  statusOf,
  waitFor,
  waitForEnd,
} from "../helpers/crash";
import {
  approvalCalls,
  approvalFlow,
  approve,
  approveWhenWaiting,
  branchCalls,
  branchFlow,
  callsOnce,
  crashWhileHeld,
  finish,
  forEachCalls,
  forEachFlow,
  loopCalls,
  loopFlow,
  sleepCalls,
  sleepFlow,
  succeededOnce,
  timelessOutcome,
} from "../helpers/crash-kinds";

const control: Record<string, ExecutionStatus> = {};

beforeAll(async () => {
  const runs = await Promise.all([
    controlRun(loopFlow),
    controlRun(forEachFlow),
    controlRun(branchFlow),
    controlRun(approvalFlow, [], approveWhenWaiting),
    controlRun(sleepFlow(1)),
    controlRun(chain),
  ]);
  for (const [i, name] of ["loop", "forEach", "branch", "approval", "sleep", "chain"].entries()) {
    const run = runs[i] as ExecutionStatus;
    expect(run.status, name).toBe("completed");
    control[name] = run;
  }
});

describe("a crash inside a loop iteration", () => {
  it.each([
    { point: "after_decide", what: "Critic@1's reply decided, not written", again: { "Critic@1": 2 } },
    { point: "after_save", what: "Refine@1's attempt written, its call not made", again: {} },
    { point: "during_call", what: "Refine@1's call in flight", again: { "Refine@1": 2 } },
  ] as const)("at $point ($what): earlier iterations never run again", async ({ point, again }) => {
    const rig = await crashWhileHeld(loopFlow, "Critic@1", point);
    const atCrash = await statusOf(rig.trpc, rig.executionId);
    expect(atCrash.stepLogs[0]?.loop).toEqual({ iteration: 1, maxIterations: 5 });
    expect(rig.model.callsOf(["Critic@0", "Refine@0"])).toEqual({ "Critic@0": 1, "Refine@0": 1 });

    const end = await finish(rig);
    expect(timelessOutcome(end)).toEqual(timelessOutcome(control.loop as ExecutionStatus));
    expect(end.stepLogs[0]?.output).toMatchObject({ iterations: 3 });
    expect(rig.model.callsOf(loopCalls)).toEqual(callsOnce(loopCalls, again));
    const cutOff = point === "after_decide" ? ["Critic@1"] : ["Refine@1"];
    expect(attemptsByCall(end)).toEqual(succeededOnce(loopCalls, cutOff));
    await expectIndexMatches(end);
    expect(await pendingAlarm(rig.executionId)).toBeNull();
  });
});

describe("a crash during a forEach fan-out", () => {
  it.each([
    { point: "before_call", item2Calls: 1 },
    { point: "during_call", item2Calls: 2 },
  ] as const)(
    "at $point of item 2: item 0 never runs again, the items in flight are retried",
    async ({ point, item2Calls }) => {
      const rig = await crashRig(forEachFlow);
      const [first, second] = [rig.model.hold("Work#0"), rig.model.hold("Work#1")];
      const executionId = await rig.execute();
      await Promise.all([first.called(), second.called()]);
      armFault(executionId, point);
      first.release(); // item 0 completes, so item 2 starts (concurrency 2) and the object dies there
      await crashed(executionId);
      try {
        const atCrash = await statusOf(rig.trpc, executionId);
        expect(atCrash.stepLogs[0]?.forEach).toMatchObject({ total: 5, done: 1, running: 2 });

        await restart(executionId);
        const end = await waitForEnd(rig.trpc, executionId);
        expect(timelessOutcome(end)).toEqual(timelessOutcome(control.forEach as ExecutionStatus));
        expect(rig.model.callsOf(forEachCalls)).toEqual(
          callsOnce(forEachCalls, { "Work#1": 2, "Work#2": item2Calls }),
        );
        expect(attemptsByCall(end)).toEqual(succeededOnce(forEachCalls, ["Work#1", "Work#2"]));
        expect(end.stepLogs[0]?.forEach).toMatchObject({ total: 5, done: 5, running: 0, failed: 0 });
        await expectIndexMatches(end);
      } finally {
        second.release(); // the call the dead instance was holding
      }
    },
  );
});

describe("a crash inside a branch", () => {
  it.each([
    { point: "after_decide", cutOff: "A", again: { A: 2, Right: 0 } },
    { point: "after_save", cutOff: "Left", again: { Right: 0 } },
  ] as const)(
    "at $point of the decision that takes it: the arm runs once",
    async ({ point, cutOff, again }) => {
      const rig = await crashWhileHeld(branchFlow, "A", point);
      const end = await finish(rig);
      expect(timelessOutcome(end)).toEqual(timelessOutcome(control.branch as ExecutionStatus));
      expect(rig.model.callsOf(branchCalls)).toEqual(callsOnce(branchCalls, again));
      expect(attemptsByCall(end)).toEqual(succeededOnce(["A", "Left", "After"], [cutOff]));
      expect(end.stepLogs.find((step) => step.name === "Route")?.branch?.taken).toBe(0);
      await expectIndexMatches(end);
    },
  );
});

describe("a crash while an approval lands", () => {
  async function waitingAtGate() {
    const rig = await crashRig(approvalFlow);
    const executionId = await rig.execute();
    await waitFor(
      () => statusOf(rig.trpc, executionId),
      (status) => status.stepLogs[1]?.status === "waiting",
    );
    return { ...rig, executionId };
  }

  it("after it is written: the client sees a failure, it is recorded once, a retry answers CONFLICT", async () => {
    const rig = await waitingAtGate();
    armFault(rig.executionId, "after_save");
    const failed = await errorOf(approve(rig.trpc, rig.executionId));
    expect(failed.code).toBe("INTERNAL_SERVER_ERROR");

    const atCrash = await statusOf(rig.trpc, rig.executionId);
    const gate = atCrash.stepLogs[1];
    expect(gate).toMatchObject({ status: "completed", output: { approved: true, comment: "ship it" } });
    const again = await errorOf(approve(rig.trpc, rig.executionId));
    expect(again.code).toBe("CONFLICT");
    expect(again.message).toContain('step "Gate" was already approved');

    await pickUp(rig.executionId);
    const end = await waitForEnd(rig.trpc, rig.executionId);
    expect(timelessOutcome(end)).toEqual(timelessOutcome(control.approval as ExecutionStatus));
    expect(end.stepLogs[1]?.output).toEqual(gate?.output);
    expect(rig.model.callsOf(approvalCalls)).toEqual({ A: 1, After: 1 });
    await expectIndexMatches(end);
    expect(await pendingAlarm(rig.executionId)).toBeNull();
  });

  it("after it is decided, before it is written: nothing is recorded and the retry approves", async () => {
    const rig = await waitingAtGate();
    armFault(rig.executionId, "after_decide");
    expect((await errorOf(approve(rig.trpc, rig.executionId))).code).toBe("INTERNAL_SERVER_ERROR");
    expect((await statusOf(rig.trpc, rig.executionId)).stepLogs[1]?.status).toBe("waiting");

    const approved = await approve(rig.trpc, rig.executionId);
    expect(approved.stepLogs[1]?.status).toBe("completed");
    const end = await waitForEnd(rig.trpc, rig.executionId);
    expect(timelessOutcome(end)).toEqual(timelessOutcome(control.approval as ExecutionStatus));
    expect(rig.model.callsOf(approvalCalls)).toEqual({ A: 1, After: 1 });
    await expectIndexMatches(end);
  });
});

describe("a crash while an approval times out", () => {
  it("in the decision that settles it: it is decided by the timeout once, and a late approve is refused", async () => {
    const timingOut: OrchestrationInput = {
      ...approvalFlow,
      steps: approvalFlow.steps.map((step) =>
        step.name === "Gate" ? { ...step, timeout: 1000, onTimeout: "approve" as const } : step,
      ),
    };
    const rig = await crashWhileHeld(timingOut, "A", "after_decide", { skip: 1 });
    expect((await statusOf(rig.trpc, rig.executionId)).stepLogs[1]?.status).toBe("waiting");

    const end = await finish(rig);
    expect(end.status).toBe("completed");
    expect(end.stepLogs[1]?.output).toMatchObject({ approved: true, by: "timeout", comment: null });
    expect(end.stepLogs[2]?.output).toMatchObject({ saw: { step: "After", approved: true } });
    expect(rig.model.callsOf(approvalCalls)).toEqual({ A: 1, After: 1 });
    const late = await errorOf(approve(rig.trpc, rig.executionId));
    expect(late).toMatchObject({ code: "CONFLICT" });
    expect(late.message).toContain('step "Gate" was already approved by timeout');
    await expectIndexMatches(end);
  });
});

describe("a crash during a sleep", () => {
  /** The wake time the stored timer holds. */
  function wakeOf(status: ExecutionStatus): string | null | undefined {
    const wait = status.stepLogs[1]?.wait;
    return wait?.kind === "timer" ? wait.until : undefined;
  }

  it.each([
    { point: "after_save", skip: 0, when: "once it waits" },
    { point: "after_decide", skip: 1, when: "in the decision that wakes it" },
  ] as const)("$when: it ends at the wake time it was given, once", async ({ point, skip }) => {
    const rig = await crashWhileHeld(sleepFlow(1000), "A", point, { skip });
    const until = wakeOf(await statusOf(rig.trpc, rig.executionId));
    expect(until).toEqual(expect.any(String));

    const end = await finish(rig);
    expect(timelessOutcome(end)).toEqual(timelessOutcome(control.sleep as ExecutionStatus));
    expect(end.stepLogs[1]?.output).toEqual({ sleptUntil: until });
    expect(rig.model.callsOf(sleepCalls)).toEqual({ A: 1, After: 1 });
    await expectIndexMatches(end);
  });

  it("beyond the inline wait: the restarted object's alarm is the same wake time", async () => {
    const rig = await crashWhileHeld(sleepFlow(3000), "A", "after_save");
    const until = wakeOf(await statusOf(rig.trpc, rig.executionId)) as string;

    await restart(rig.executionId);
    expect(await pendingAlarm(rig.executionId)).toBe(Date.parse(until));
    expect(wakeOf(await statusOf(rig.trpc, rig.executionId))).toBe(until);
    const end = await waitForEnd(rig.trpc, rig.executionId);
    expect(end.stepLogs[1]?.output).toEqual({ sleptUntil: until });
    expect(rig.model.callsOf(sleepCalls)).toEqual({ A: 1, After: 1 });
    await expectIndexMatches(end);
  }, 15_000);
});

describe("a crash while a failed run resumes", () => {
  it("after the resume is written: the run is picked up at once and ends as an uncrashed one", async () => {
    const rig = await crashRig(chain);
    rig.model.fail("B");
    const executionId = await rig.execute();
    expect((await waitForEnd(rig.trpc, executionId)).status).toBe("failed");

    armFault(executionId, "after_save");
    const resume = rig.trpc.orchestrationManagement.resume.mutate({ executionId });
    expect((await errorOf(resume)).code).toBe("INTERNAL_SERVER_ERROR");
    expect((await statusOf(rig.trpc, executionId)).resumes).toBe(1);
    const again = rig.trpc.orchestrationManagement.resume.mutate({ executionId });
    expect((await errorOf(again)).code).toBe("PRECONDITION_FAILED");

    // A failed run has no alarm and its index row says failed (the sweeper skips it): the resume's own
    // commit must carry the alarm that picks the run up.
    await pickUp(executionId);
    const end = await waitForEnd(rig.trpc, executionId);
    expect(outcomeOf(end)).toEqual(outcomeOf(control.chain as ExecutionStatus));
    expect(end.resumes).toBe(1);
    expect(rig.model.callsOf(chainSteps)).toEqual({ A: 1, B: 2, C: 1 });
    // The resume's decision started B's new attempt (its call made in the same invocation) and the crash
    // cut it off before the call went out: logged as interrupted, made again, not counted as a retry.
    expect(attemptsByCall(end)).toEqual({
      A: ["succeeded"],
      B: ["failed", "interrupted", "succeeded"],
      C: ["succeeded"],
    });
    await expectIndexMatches(end);
  });
});
