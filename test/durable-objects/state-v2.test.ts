// Executions in flight when the model call path changed (issue 12): storage written by commit ae46803 (captured
// in test/fixtures/v2-execution-storage.json) is planted in an execution object and its pending alarm run.
// Each run finishes under the current code as an uncrashed one does: completed instances are not called
// again, a call the gone runner held is logged as interrupted and made again, a waiting retry or approval
// goes on from where it was, and the index row follows. Completed runs read back as they ended.
import { runDurableObjectAlarm } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { isTerminal } from "../../durable-objects/engine/status";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import type { TestClient } from "../helpers/client";
import {
  attemptsByCall,
  attemptsOf,
  controlRun,
  executionObject,
  expectIndexMatches,
  fanMembers,
  pendingAlarm,
  statusOf,
  waitFor,
  waitForEnd,
} from "../helpers/crash";
import { timelessOutcome } from "../helpers/crash-kinds";
import { expectListedUntilEnd, runToEnd, storedState } from "../helpers/v1-state";
import { capturedDefinition, capturedEnd, plantV2Execution, type V2Situation } from "../helpers/v2-state";

const INTERRUPTED = "the attempt was cut off by a restart before its result was stored; it runs again";

type Planted = Awaited<ReturnType<typeof plantV2Execution>>;
type Family = "retry" | "chain" | "fanOut" | "loopApproval" | "forEach";

/** Model call keys (the `step` each call's input names) of each captured definition. */
const calls: Record<Family, string[]> = {
  retry: ["Flaky", "After"],
  chain: ["A", "B", "C"],
  fanOut: [...fanMembers, "Join"],
  loopApproval: ["Work@0", "Work@1", "Final"],
  forEach: ["Work#0", "Work#1", "Work#2", "Work#3", "Work#4", "Join"],
};

/** Which captured definition each situation runs. */
const familyOf: Record<V2Situation, Family> = {
  deferredAtStart: "retry",
  waitingRetry: "retry",
  chainHeldAtB: "chain",
  chainCompleted: "chain",
  fanOutHeldAtM3M7: "fanOut",
  loopApprovalWaiting: "loopApproval",
  loopApprovalCompleted: "loopApproval",
  forEachHeldAtItems2And3: "forEach",
  forEachCompleted: "forEach",
};
const definitionOf: Record<Family, V2Situation> = {
  retry: "waitingRetry",
  chain: "chainHeldAtB",
  fanOut: "fanOutHeldAtM3M7",
  loopApproval: "loopApprovalWaiting",
  forEach: "forEachHeldAtItems2And3",
};

/** Approves the Gate of the loop's next iteration each time one waits, until the run ends. */
async function approveEachGate(trpc: TestClient, executionId: string): Promise<void> {
  for (;;) {
    const status = await waitFor(
      () => statusOf(trpc, executionId),
      (seen) =>
        isTerminal(seen.status) ||
        seen.stepLogs.some((log) => log.name === "Gate" && log.status === "waiting"),
    );
    if (isTerminal(status.status)) return;
    // Answers once the decision is recorded: that Gate is no longer waiting when the loop looks again.
    await approveGate(trpc, executionId);
  }
}

function approveGate(trpc: TestClient, executionId: string) {
  return trpc.orchestrationManagement.approve.mutate({
    executionId,
    stepName: "Gate",
    approved: true,
    comment: "keep it",
  });
}

const control = {} as Record<Family, ExecutionStatus>;

beforeAll(async () => {
  const families = Object.keys(definitionOf) as Family[];
  const runs = await Promise.all(
    families.map((family) =>
      controlRun(
        capturedDefinition(definitionOf[family]),
        [],
        family === "loopApproval" ? approveEachGate : undefined,
      ),
    ),
  );
  for (const [i, family] of families.entries()) {
    const run = runs[i] as ExecutionStatus;
    expect(run.status, family).toBe("completed");
    control[family] = run;
  }
});

/** What every finished run must show: the control's outcome, its index row, no alarm, storage read back. */
async function expectFinishedLike(planted: Planted, end: ExecutionStatus, family: Family) {
  expect(timelessOutcome(end)).toEqual(timelessOutcome(control[family]));
  await expectIndexMatches(end);
  expect(await pendingAlarm(planted.executionId)).toBeNull();
  const { raw, view } = await storedState(planted.executionId);
  expect(raw.get("header")).toMatchObject({ v: 2, status: end.status });
  expect(raw.get("projected")).toBe(end.status);
  expect(view).toEqual(end);
  return raw;
}

/** `value` for every model call of `family`. */
function everyCall<T>(family: Family, value: T): Record<string, T> {
  return Object.fromEntries(calls[family].map((key) => [key, value]));
}

/** Every call once, except those in `counts`. */
function callCounts(family: Family, counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(calls[family].map((key) => [key, counts[key] ?? 1]));
}

describe("version-2 state finishing under the current code", () => {
  it("a run whose first attempt was handed to the first alarm: Flaky is called, then After", async () => {
    const planted = await plantV2Execution("deferredAtStart");
    const before = await statusOf(planted.trpc, planted.executionId);
    expect(before.status).toBe("running");
    // Recorded as waiting_retry with no attempt, which readers see as pending.
    expect(before.stepLogs[0]).toMatchObject({ name: "Flaky", status: "pending", attempts: [] });
    expect(planted.entries["step:00000"]).toMatchObject({ status: "waiting_retry", attempts: [] });

    const end = await runToEnd(planted);
    expect(planted.model.callsOf(calls.retry)).toEqual(callCounts("retry", {}));
    expect(attemptsOf(end)).toEqual({ Flaky: ["succeeded"], After: ["succeeded"] });
    await expectFinishedLike(planted, end, "retry");
  });

  it("a chain whose B call was open: A is not called again, B is retried, C runs", async () => {
    const planted = await plantV2Execution("chainHeldAtB");
    const before = await statusOf(planted.trpc, planted.executionId);
    expect(before.status).toBe("running");
    expect(attemptsOf(before)).toEqual({ A: ["succeeded"], B: ["running"], C: [] });
    expect(before.stepLogs[1]?.wait).toMatchObject({ kind: "call", attempt: 1 });

    const end = await runToEnd(planted);
    expect(end.output).toEqual(capturedEnd("chainCompleted").output);
    expect(planted.model.callsOf(calls.chain)).toEqual(callCounts("chain", { A: 0 }));
    expect(attemptsOf(end)).toEqual({ A: ["succeeded"], B: ["interrupted", "succeeded"], C: ["succeeded"] });
    expect(end.stepLogs[1]?.attempts[0]).toMatchObject({ errorKind: "interrupted", error: INTERRUPTED });
    expect(end.stepLogs[1]?.attempts[1]?.input).toEqual(end.stepLogs[1]?.attempts[0]?.input);
    const raw = await expectFinishedLike(planted, end, "chain");
    // A was never rewritten: its record is still the one ae46803 wrote.
    expect(raw.get("step:00000")).toEqual(planted.entries["step:00000"]);
    expect(raw.get("step:00001")).toMatchObject({ id: "1", name: "B", status: "completed" });
    expect(raw.get("step:00001")).not.toHaveProperty("wait");
  });

  it("a 10-wide group with M3 and M7 open: only they are called again, then Join sees every member", async () => {
    const planted = await plantV2Execution("fanOutHeldAtM3M7");
    const open = ["M3", "M7"];
    const before = await statusOf(planted.trpc, planted.executionId);
    for (const log of before.stepLogs.slice(0, 10))
      expect(log.status, log.name).toBe(open.includes(log.name) ? "running" : "completed");

    const end = await runToEnd(planted);
    const closed = Object.fromEntries(fanMembers.filter((m) => !open.includes(m)).map((m) => [m, 0]));
    expect(planted.model.callsOf(calls.fanOut)).toEqual(callCounts("fanOut", closed));
    const attempts = attemptsOf(end);
    for (const member of fanMembers)
      expect(attempts[member], member).toEqual(
        open.includes(member) ? ["interrupted", "succeeded"] : ["succeeded"],
      );
    expect(attempts.Join).toEqual(["succeeded"]);
    const raw = await expectFinishedLike(planted, end, "fanOut");
    for (const [i, member] of fanMembers.entries()) {
      const key = `step:${String(i).padStart(5, "0")}`;
      if (!open.includes(member)) expect(raw.get(key), member).toEqual(planted.entries[key]);
    }
  });

  it("a step waiting for its retry: the retry runs with the first attempt's input, then After", async () => {
    const planted = await plantV2Execution("waitingRetry");
    const before = await statusOf(planted.trpc, planted.executionId);
    expect(before.stepLogs[0]).toMatchObject({ name: "Flaky", status: "running", waitingForRetry: true });
    expect(attemptsOf(before)).toEqual({ Flaky: ["failed"], After: [] });

    const end = await runToEnd(planted);
    expect(planted.model.callsOf(calls.retry)).toEqual(callCounts("retry", {}));
    expect(attemptsOf(end)).toEqual({ Flaky: ["failed", "succeeded"], After: ["succeeded"] });
    const [flaky] = end.stepLogs;
    expect(flaky?.attempts[0]).toMatchObject({ error: "Flaky is failing on purpose", errorKind: "provider" });
    expect(flaky?.attempts[1]?.input).toEqual(flaky?.attempts[0]?.input);
    await expectFinishedLike(planted, end, "retry");
  });

  it("an approval waiting in loop iteration 1: a wake changes nothing, approving it finishes the loop and Final runs", async () => {
    const planted = await plantV2Execution("loopApprovalWaiting");
    const before = await statusOf(planted.trpc, planted.executionId);
    expect(before.status).toBe("running");
    const gate = before.stepLogs.find((log) => log.id === "0.1.1");
    expect(gate).toMatchObject({ name: "Gate", status: "waiting" });
    expect(gate?.wait).toMatchObject({ kind: "approval", message: "Keep what Work@1 made?" });
    expect(before.stepLogs.find((log) => log.id === "0")?.loop).toEqual({ iteration: 1, maxIterations: 3 });

    // The object wakes under the new code first (its planted alarm): nothing is due, nothing is called.
    expect(await pendingAlarm(planted.executionId)).not.toBeNull();
    await runDurableObjectAlarm(executionObject(planted.executionId));
    const woken = await statusOf(planted.trpc, planted.executionId);
    expect(woken).toEqual(before);
    expect(planted.model.callsOf(calls.loopApproval)).toEqual({ "Work@0": 0, "Work@1": 0, Final: 0 });
    // Still waiting with a wake-up planned (the approval's deadline, or sooner).
    const alarm = await pendingAlarm(planted.executionId);
    expect(alarm).not.toBeNull();
    if (gate?.wait?.kind !== "approval") throw new Error("not waiting for approval");
    expect(alarm).toBeLessThanOrEqual(Date.parse(gate.wait.deadline ?? ""));

    await approveGate(planted.trpc, planted.executionId);
    const end = await waitForEnd(planted.trpc, planted.executionId);
    expect(planted.model.callsOf(calls.loopApproval)).toEqual({ "Work@0": 0, "Work@1": 0, Final: 1 });
    expect(attemptsByCall(end)).toEqual({
      "Work@0": ["succeeded"],
      "Work@1": ["succeeded"],
      Final: ["succeeded"],
    });
    const decisions = end.stepLogs.filter((log) => log.name === "Gate").map((log) => log.output);
    expect(decisions).toEqual([
      // Iteration 0's decision as recorded (its principal rewritten to this tenant's user), then the new one.
      (planted.entries["step:00000.00000.00001"] as { output: unknown }).output,
      expect.objectContaining({ approved: true, comment: "keep it", by: `user:${planted.userId}` }),
    ]);
    expect(end.stepLogs.find((log) => log.id === "0")?.output).toMatchObject({ iterations: 2 });
    await expectFinishedLike(planted, end, "loopApproval");
  });

  it("a forEach with items 2 and 3 open: 0 and 1 are not called again, 2 and 3 are, then 4 and Join", async () => {
    const planted = await plantV2Execution("forEachHeldAtItems2And3");
    const before = await statusOf(planted.trpc, planted.executionId);
    expect(before.stepLogs[0]?.forEach).toMatchObject({ total: 5, done: 2, running: 2 });

    const end = await runToEnd(planted);
    expect(planted.model.callsOf(calls.forEach)).toEqual(callCounts("forEach", { "Work#0": 0, "Work#1": 0 }));
    const cutOff = ["Work#2", "Work#3"];
    expect(attemptsByCall(end)).toEqual(
      Object.fromEntries(
        calls.forEach.map((key) => [
          key,
          cutOff.includes(key) ? ["interrupted", "succeeded"] : ["succeeded"],
        ]),
      ),
    );
    expect(end.stepLogs[0]?.forEach).toMatchObject({ total: 5, done: 5, running: 0, failed: 0 });
    expect(end.output).toEqual(capturedEnd("forEachCompleted").output);
    const raw = await expectFinishedLike(planted, end, "forEach");
    for (const key of ["step:00000.00000.00000", "step:00000.00001.00000"])
      expect(raw.get(key), key).toEqual(planted.entries[key]);
  });

  it.each(["chainCompleted", "loopApprovalCompleted", "forEachCompleted"] as const)(
    "%s reads back as it ended, and waking it changes nothing",
    async (situation) => {
      const planted = await plantV2Execution(situation);
      const family = familyOf[situation];
      const { header } = planted.entries;
      const status = await statusOf(planted.trpc, planted.executionId);
      expect(timelessOutcome(status)).toEqual(timelessOutcome(control[family]));
      expect(status).toMatchObject({
        status: "completed",
        error: null,
        createdAt: new Date(header.createdAt).toISOString(),
        startedAt: new Date(header.startedAt ?? 0).toISOString(),
        finishedAt: new Date(header.finishedAt ?? 0).toISOString(),
        parent: null,
        depth: 0,
        resumes: 0,
      });
      expect(status.output).toEqual(header.output);
      expect(attemptsByCall(status)).toEqual(everyCall(family, ["succeeded"]));
      await expectIndexMatches(status);

      expect(await pendingAlarm(planted.executionId)).toBeNull();
      expect(await runDurableObjectAlarm(executionObject(planted.executionId))).toBe(false);
      expect(await statusOf(planted.trpc, planted.executionId)).toEqual(status);
      expect(planted.model.callsOf(calls[family])).toEqual(everyCall(family, 0));
    },
  );

  it("is listed with the status it ends with", async () => {
    const planted = await plantV2Execution("fanOutHeldAtM3M7");
    await expectListedUntilEnd(planted, "Crash fan-out");
  });
});
