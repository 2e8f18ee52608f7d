// Crash safety around child executions (an `orchestration` step): the parent's Durable Object is killed
// hard after deciding a child's start, after writing it, while the child starts and after writing the
// child's result; the child's while it tells its parent it ended. Every child attempt has exactly one
// child execution, the parent ends as an uncrashed one does, and both index rows end where the objects are.
import { runDurableObjectAlarm } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { armFault } from "../../durable-objects/execution/fault-points";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import {
  controlRun,
  crashed,
  crashRig,
  executionObject,
  expectIndexMatches,
  pendingAlarm,
  pickUp,
  restart,
  statusOf,
  waitFor,
  waitForEnd,
} from "../helpers/crash";
import {
  childFlow,
  childIdsOf,
  childrenOf,
  crashWhileHeld,
  finish,
  outboxOf,
  parentCalls,
  parentFlow,
  timelessOutcome,
} from "../helpers/crash-kinds";

let control: ExecutionStatus;

beforeAll(async () => {
  control = await controlRun(parentFlow, [childFlow]);
  expect(control.status).toBe("completed");
});

describe("a crash around a child execution", () => {
  async function expectOneChildPerAttempt(
    rig: { trpc: Parameters<typeof childrenOf>[0] },
    end: ExecutionStatus,
  ) {
    const children = await childrenOf(rig.trpc, end.id);
    expect(children.map((child) => child.id).toSorted()).toEqual(childIdsOf(end).toSorted());
    for (const child of children) {
      expect(child.parentExecutionId).toBe(end.id);
      await expectIndexMatches(await statusOf(rig.trpc, child.id));
    }
    return children;
  }

  it("after deciding its start (not written): the start is decided again and one child runs", async () => {
    const rig = await crashWhileHeld(parentFlow, "A", "after_decide", { children: [childFlow] });
    expect(await childrenOf(rig.trpc, rig.executionId)).toEqual([]);

    const end = await finish(rig);
    expect(timelessOutcome(end)).toEqual(timelessOutcome(control));
    expect(rig.model.callsOf(parentCalls)).toEqual({ A: 2, Inner: 1, After: 1 });
    expect((await expectOneChildPerAttempt(rig, end)).length).toBe(1);
    await expectIndexMatches(end);
    expect(await outboxOf(rig.executionId)).toEqual([]);
  });

  it("after writing its start, before delivering it: the start is delivered once", async () => {
    const rig = await crashWhileHeld(parentFlow, "A", "after_save", { children: [childFlow] });
    const atCrash = await statusOf(rig.trpc, rig.executionId);
    const sub = atCrash.stepLogs.find((step) => step.name === "Sub");
    expect(sub?.wait).toMatchObject({ kind: "child" });
    expect(await childrenOf(rig.trpc, rig.executionId)).toEqual([]);

    const end = await finish(rig);
    expect(timelessOutcome(end)).toEqual(timelessOutcome(control));
    expect(rig.model.callsOf(parentCalls)).toEqual({ A: 1, Inner: 1, After: 1 });
    const children = await expectOneChildPerAttempt(rig, end);
    expect(children.map((child) => child.id)).toEqual([sub?.childExecutionId]);
    await expectIndexMatches(end);
  });

  /** The parent dies as its child's start arrives (child_started); the child's own step is held. */
  async function crashAsChildStarts() {
    const rig = await crashRig(parentFlow, [childFlow]);
    const [a, inner] = [rig.model.hold("A"), rig.model.hold("Inner")];
    const executionId = await rig.execute();
    await a.called();
    armFault(executionId, "child_started");
    a.release();
    await crashed(executionId);
    return { rig, inner, executionId };
  }

  it("while the child starts (child_started): the repeated start finds it, one child runs", async () => {
    const { rig, inner, executionId } = await crashAsChildStarts();
    const [child] = await childrenOf(rig.trpc, executionId);
    expect(child?.parentExecutionId).toBe(executionId);
    expect(await outboxOf(executionId)).toHaveLength(1); // the start, not yet marked delivered

    await restart(executionId);
    await waitFor(
      () => outboxOf(executionId),
      (owed) => owed.length === 0,
    );
    inner.release();
    const end = await waitForEnd(rig.trpc, executionId);
    expect(timelessOutcome(end)).toEqual(timelessOutcome(control));
    expect(rig.model.callsOf(parentCalls)).toEqual({ A: 1, Inner: 1, After: 1 });
    expect((await expectOneChildPerAttempt(rig, end)).map((found) => found.id)).toEqual([child?.id]);
    await expectIndexMatches(end);
  });

  it("cancelled after the child started, its start not yet marked delivered: the child is cancelled", async () => {
    const { rig, inner, executionId } = await crashAsChildStarts();
    await inner.called();
    const [child] = await childrenOf(rig.trpc, executionId);

    const cancelled = await rig.trpc.orchestrationManagement.cancel.mutate({ executionId });
    expect(cancelled.status).toBe("cancelled");
    const childEnd = await waitForEnd(rig.trpc, child?.id as string);
    inner.release();
    expect(childEnd.status).toBe("cancelled");
    expect(rig.model.callsOf(parentCalls)).toEqual({ A: 1, Inner: 1, After: 0 });
    expect((await childrenOf(rig.trpc, executionId)).map((found) => found.id)).toEqual([child?.id]);
    await waitFor(
      () => outboxOf(executionId),
      (owed) => owed.length === 0,
    );
    await expectIndexMatches(await statusOf(rig.trpc, executionId));
    await expectIndexMatches(childEnd);
  });

  it.each([1, 3])(
    "while the child tells its parent it ended (parent_notified, %i times): repeats change nothing",
    async (times) => {
      const rig = await crashRig(parentFlow, [childFlow]);
      const inner = rig.model.hold("Inner");
      const executionId = await rig.execute();
      await inner.called();
      const childId = childIdsOf(await statusOf(rig.trpc, executionId))[0] as string;
      armFault(childId, "parent_notified");
      inner.release();
      await crashed(childId);
      const end = await waitForEnd(rig.trpc, executionId);

      for (let repeat = 1; repeat < times; repeat++) {
        armFault(childId, "parent_notified");
        await expect(runDurableObjectAlarm(executionObject(childId))).rejects.toThrow();
        expect(await pendingAlarm(childId)).not.toBeNull();
      }
      expect(await outboxOf(childId)).toHaveLength(1); // the notice, never marked delivered
      await restart(childId);
      await waitFor(
        () => outboxOf(childId),
        (owed) => owed.length === 0,
      );
      expect(await statusOf(rig.trpc, executionId)).toEqual(end);
      expect(timelessOutcome(end)).toEqual(timelessOutcome(control));
      expect(rig.model.callsOf(parentCalls)).toEqual({ A: 1, Inner: 1, After: 1 });
      expect((await expectOneChildPerAttempt(rig, end)).map((found) => found.status)).toEqual(["completed"]);
      await expectIndexMatches(end);
      expect(await pendingAlarm(childId)).toBeNull();
    },
  );

  it("after the parent writes the child's result (after_save): the next step still runs soon", async () => {
    const rig = await crashRig(parentFlow, [childFlow]);
    const inner = rig.model.hold("Inner");
    const executionId = await rig.execute();
    await inner.called();
    armFault(executionId, "after_save");
    inner.release();
    await crashed(executionId);
    const atCrash = await statusOf(rig.trpc, executionId);
    expect(atCrash.stepLogs.find((step) => step.name === "Sub")?.status).toBe("completed");

    // Not only the child's deadline, 30 days away: After is due now.
    await pickUp(executionId);
    const end = await waitForEnd(rig.trpc, executionId);
    expect(timelessOutcome(end)).toEqual(timelessOutcome(control));
    expect(rig.model.callsOf(parentCalls)).toEqual({ A: 1, Inner: 1, After: 1 });
    expect((await expectOneChildPerAttempt(rig, end)).length).toBe(1);
    await expectIndexMatches(end);
  });

  it("while a failed child's retry starts: one child per attempt, the failed one and its successor", async () => {
    const rig = await crashRig(parentFlow, [childFlow]);
    rig.model.fail("Inner"); // the first child fails, so the step starts a second one
    const inner = rig.model.hold("Inner"); // the second child's call, so it cannot end before the start is redone
    const a = rig.model.hold("A");
    const executionId = await rig.execute();
    await a.called();
    armFault(executionId, "child_started", { skip: 1 });
    a.release();
    await crashed(executionId);
    await inner.called();

    // The crash came in the parent's answer to the first child's notice: the alarm written with the
    // retry's start delivers it again, and the second child is found started.
    await pickUp(executionId);
    await waitFor(
      () => outboxOf(executionId),
      (owed) => owed.length === 0,
    );
    inner.release();
    const end = await waitForEnd(rig.trpc, executionId);
    expect(timelessOutcome(end)).toEqual(timelessOutcome(control));
    expect(rig.model.callsOf(parentCalls)).toEqual({ A: 1, Inner: 2, After: 1 });
    const sub = end.stepLogs.find((step) => step.name === "Sub");
    expect(sub?.attempts.map((attempt) => attempt.status)).toEqual(["failed", "succeeded"]);
    const children = await expectOneChildPerAttempt(rig, end);
    expect(Object.fromEntries(children.map((child) => [child.id, child.status]))).toEqual({
      [childIdsOf(end)[0] as string]: "failed",
      [childIdsOf(end)[1] as string]: "completed",
    });
    await expectIndexMatches(end);
  });
});
