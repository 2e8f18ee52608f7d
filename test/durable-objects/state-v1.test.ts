// Executions in flight when the graph engine shipped: storage written by the version-1 engine (captured in
// test/fixtures/v1-execution-storage.json) is planted in an execution object and its pending alarm run.
// Each run finishes under the new code as an uncrashed one does: completed steps are not called again, the
// call the gone runner held is logged as interrupted and made again, and the index row follows.
import { runDurableObjectAlarm } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import {
  attemptsOf,
  chain,
  chainSteps,
  controlRun,
  executionObject,
  expectIndexMatches,
  fanMembers,
  fanOut,
  fanSteps,
  outcomeOf,
  pendingAlarm,
  statusOf,
} from "../helpers/crash";
import {
  capturedChainEnd,
  expectListedUntilEnd,
  plantV1Execution,
  runToEnd,
  storedState,
} from "../helpers/v1-state";

const INTERRUPTED = "the attempt was cut off by a restart before its result was stored; it runs again";

let chainControl: ExecutionStatus;
let fanControl: ExecutionStatus;

beforeAll(async () => {
  [chainControl, fanControl] = await Promise.all([controlRun(chain), controlRun(fanOut)]);
});

describe("version-1 state finishing under the graph engine", () => {
  it("a chain whose B call was open: A is not called again, B is retried, C runs", async () => {
    const planted = await plantV1Execution("chainHeldAtB");
    const before = await statusOf(planted.trpc, planted.executionId);
    expect(before.status).toBe("running");
    expect(attemptsOf(before)).toEqual({ A: ["succeeded"], B: ["running"], C: [] });
    expect(before.stepLogs[1]?.wait).toMatchObject({ kind: "call", attempt: 1 });

    const end = await runToEnd(planted);
    expect(outcomeOf(end)).toEqual(outcomeOf(chainControl));
    expect(end.output).toEqual(capturedChainEnd().output);
    expect(planted.model.callsOf(chainSteps)).toEqual({ A: 0, B: 1, C: 1 });
    expect(attemptsOf(end)).toEqual({ A: ["succeeded"], B: ["interrupted", "succeeded"], C: ["succeeded"] });
    expect(end.stepLogs[1]?.attempts[0]).toMatchObject({ errorKind: "interrupted", error: INTERRUPTED });
    expect(end.stepLogs[1]?.attempts[1]?.input).toEqual(end.stepLogs[1]?.attempts[0]?.input);
    await expectIndexMatches(end);
    expect(await pendingAlarm(planted.executionId)).toBeNull();

    const { raw, view } = await storedState(planted.executionId);
    expect(raw.get("header")).toMatchObject({ v: 2, status: "completed" });
    expect(raw.get("header")).not.toHaveProperty("stageCursor");
    // A was never rewritten: its record is still the version-1 StepRun, and loads as an instance.
    expect(raw.get("step:00000")).toMatchObject({ index: 0, name: "A", status: "completed" });
    expect(raw.get("step:00001")).toMatchObject({ id: "1", name: "B", status: "completed" });
    expect(raw.get("step:00001")).not.toHaveProperty("index");
    expect(raw.get("step:00002")).toMatchObject({ id: "2", name: "C" });
    expect(view).toEqual(end);
  });

  it("a 10-wide group with M3 open: only M3 is called again, then Join sees every member", async () => {
    const planted = await plantV1Execution("fanOutHeldAtM3");
    const end = await runToEnd(planted);
    expect(outcomeOf(end)).toEqual(outcomeOf(fanControl));
    expect(planted.model.callsOf(fanSteps)).toEqual({
      ...Object.fromEntries(fanMembers.map((member) => [member, member === "M3" ? 1 : 0])),
      Join: 1,
    });
    const attempts = attemptsOf(end);
    for (const member of fanMembers)
      expect(attempts[member], member).toEqual(
        member === "M3" ? ["interrupted", "succeeded"] : ["succeeded"],
      );
    expect(attempts.Join).toEqual(["succeeded"]);
    await expectIndexMatches(end);

    const { raw, view } = await storedState(planted.executionId);
    expect(raw.get("header")).toMatchObject({ v: 2 });
    expect(raw.get("step:00000")).toMatchObject({ index: 0, name: "M0" });
    expect(raw.get("step:00003")).toMatchObject({ id: "3", name: "M3", status: "completed" });
    expect(raw.get("step:00010")).toMatchObject({ id: "10", name: "Join", status: "completed" });
    expect(view).toEqual(end);
  });

  it("a step waiting for its retry: the retry runs with the first attempt's input, then After", async () => {
    const planted = await plantV1Execution("waitingRetry");
    const before = await statusOf(planted.trpc, planted.executionId);
    expect(before.stepLogs[0]).toMatchObject({ name: "Flaky", status: "running", waitingForRetry: true });

    const end = await runToEnd(planted);
    expect(end.status).toBe("completed");
    expect(planted.model.callsOf(["Flaky", "After"])).toEqual({ Flaky: 1, After: 1 });
    expect(attemptsOf(end)).toEqual({ Flaky: ["failed", "succeeded"], After: ["succeeded"] });
    const [flaky, after] = end.stepLogs;
    expect(flaky?.attempts[0]).toMatchObject({ error: "upstream answered 502", errorKind: "provider" });
    expect(flaky?.attempts[1]?.input).toEqual({ step: "Flaky" });
    const flakyOutput = { by: "Flaky", saw: { step: "Flaky" } };
    expect(flaky?.output).toEqual(flakyOutput);
    expect(after?.output).toEqual({ by: "After", saw: { step: "After", prior: flakyOutput } });
    expect(end.output).toEqual(after?.output);
    await expectIndexMatches(end);

    const { raw, view } = await storedState(planted.executionId);
    expect(raw.get("header")).toMatchObject({ v: 2, status: "completed" });
    expect(view).toEqual(end);
  });

  it("a completed chain reads back as it ended, and waking it changes nothing", async () => {
    const planted = await plantV1Execution("chainCompleted");
    const { header } = planted.entries;
    const status = await statusOf(planted.trpc, planted.executionId);
    expect(outcomeOf(status)).toEqual(outcomeOf(chainControl));
    expect(status).toMatchObject({
      status: "completed",
      output: capturedChainEnd().output,
      error: null,
      createdAt: new Date(header.createdAt).toISOString(),
      startedAt: new Date(header.startedAt ?? 0).toISOString(),
      finishedAt: new Date(header.finishedAt ?? 0).toISOString(),
      parent: null,
      depth: 0,
      resumes: 0,
    });
    expect(attemptsOf(status)).toEqual({ A: ["succeeded"], B: ["succeeded"], C: ["succeeded"] });
    expect(status.stepLogs.map((step) => [step.id, step.stepType, step.wait])).toEqual([
      ["0", "agent", null],
      ["1", "agent", null],
      ["2", "agent", null],
    ]);
    await expectIndexMatches(status);

    expect(await pendingAlarm(planted.executionId)).toBeNull();
    expect(await runDurableObjectAlarm(executionObject(planted.executionId))).toBe(false);
    expect(await statusOf(planted.trpc, planted.executionId)).toEqual(status);
    expect(planted.model.callsOf(chainSteps)).toEqual({ A: 0, B: 0, C: 0 });
  });

  it("is listed with the status it ends with", async () => {
    const planted = await plantV1Execution("chainHeldAtB");
    await expectListedUntilEnd(planted, "Crash chain");
  });
});
