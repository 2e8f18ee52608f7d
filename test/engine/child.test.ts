// Orchestration steps through the pure scheduler: each attempt asks the shell to start a child execution
// with an id chosen now, waits for it without a call in memory, and takes its output; a failed child
// fails the attempt (retries start a new child), cancelling the parent cancels the child.
import { describe, expect, it } from "vitest";
import { WAIT_MAX_MS } from "../../durable-objects/engine/limits";
import {
  childCancelled,
  childCompleted,
  childFailed,
  EngineDriver,
  expectNoChange,
  providerError,
  reply,
  type StepInput,
  scripted,
} from "../helpers/engine-driver";

const withChild = (fields: Partial<Extract<StepInput, { stepType: "orchestration" }>> = {}): StepInput[] => [
  { name: "Prepare" },
  {
    name: "Sub",
    stepType: "orchestration",
    orchestrationId: "orc_child",
    inputMapping: { topic: "{{context.input.topic}}", prepared: "{{context.Prepare}}" },
    ...fields,
  },
  { name: "After", inputMapping: { child: "{{context.Sub}}" } },
];

/** Runs Prepare, leaving Sub waiting for its first child. */
function waitingForChild(fields: Parameters<typeof withChild>[0] = {}) {
  const run = new EngineDriver(withChild(fields));
  run.start();
  run.at(100).finish("Prepare", reply("ready"));
  return run;
}

describe("an orchestration step", () => {
  it("asks for a child execution with a fresh id and waits for it, holding no call", () => {
    const run = new EngineDriver(withChild({ version: 3 }));
    run.start();
    const decision = run.at(100).finish("Prepare", reply("ready"));
    expect(decision.commands).toEqual([
      {
        type: "start_child",
        instance: "1",
        attempt: 1,
        executionId: "child-1",
        stepName: "Sub",
        orchestrationId: "orc_child",
        version: 3,
        input: { topic: "test", prepared: "ready" },
      },
    ]);
    expect(run.instance("Sub")).toMatchObject({
      status: "waiting",
      wait: { kind: "child", attempt: 1, executionId: "child-1", deadline: 100 + WAIT_MAX_MS },
      attempts: [
        {
          attempt: 1,
          startedAt: 100,
          childExecutionId: "child-1",
          input: { topic: "test", prepared: "ready" },
        },
      ],
    });
    expect(run.open.size).toBe(0);
    expect(decision.wakeAt).toBe(100 + WAIT_MAX_MS);
  });

  it("gives the child the run's input when it has no inputMapping, and names no version unless set", () => {
    const run = new EngineDriver(
      [{ name: "Sub", stepType: "orchestration", orchestrationId: "Nightly report" }],
      {
        input: { day: "monday" },
      },
    );
    const decision = run.start();
    expect(decision.commands[0]).toEqual({
      type: "start_child",
      instance: "0",
      attempt: 1,
      executionId: "child-1",
      stepName: "Sub",
      orchestrationId: "Nightly report",
      input: { day: "monday" },
    });
  });

  it("takes the child's output as its own and carries on", () => {
    const run = waitingForChild();
    run.at(500).finishChild("Sub", childCompleted({ report: "done" }));
    expect(run.instance("Sub")).toMatchObject({
      status: "completed",
      output: { report: "done" },
      attempts: [{ outcome: "succeeded", endedAt: 500, output: { report: "done" } }],
    });
    expect(run.instance("Sub").wait).toBeUndefined();
    expect(run.openCall("After")?.input).toEqual({ child: { report: "done" } });
  });

  it("fails the step, and the run, when the child fails", () => {
    const run = waitingForChild();
    run.finishChild("Sub", childFailed('step "Inner" failed after 1 attempt: boom'));
    expect(run.instance("Sub")).toMatchObject({
      status: "failed",
      error: 'step "Sub" failed after 1 attempt: step "Inner" failed after 1 attempt: boom',
    });
    expect(run.run.header.status).toBe("failed");
    expect(run.childCancels).toEqual([]);
  });

  it("starts a new child, with a new id and the same input, for each retry", () => {
    const run = waitingForChild({ maxRetries: 2, retryDelay: 1000 });
    run.at(200).finishChild("Sub", childFailed());
    expect(run.instance("Sub")).toMatchObject({ status: "waiting_retry", retryAt: 1200 });
    const retried = run.wakeWhenDue();
    expect(retried.commands).toEqual([
      expect.objectContaining({ type: "start_child", attempt: 2, executionId: "child-2" }),
    ]);
    run.finishChild("Sub", childFailed());
    run.wakeWhenDue();
    run.finishChild("Sub", childCompleted("third time"));
    expect(run.children.map((child) => [child.executionId, child.attempt, child.input])).toEqual([
      ["child-1", 1, { topic: "test", prepared: "ready" }],
      ["child-2", 2, { topic: "test", prepared: "ready" }],
      ["child-3", 3, { topic: "test", prepared: "ready" }],
    ]);
    expect(run.instance("Sub").attempts.map((a) => [a.childExecutionId, a.outcome])).toEqual([
      ["child-1", "failed"],
      ["child-2", "failed"],
      ["child-3", "succeeded"],
    ]);
    expect(run.instance("Sub").output).toBe("third time");
  });

  it("does not retry a child that was cancelled or refused (not retryable)", () => {
    const run = waitingForChild({ maxRetries: 3, retryDelay: 0 });
    run.finishChild("Sub", childCancelled("cancelled by ada"));
    expect(run.children).toHaveLength(1);
    expect(run.run.header.error).toBe('step "Sub" failed after 1 attempt: cancelled by ada');
  });

  it("cancels its child when the parent is cancelled", () => {
    const run = waitingForChild();
    const cancelled = run.at(300).cancel("stopped by ada");
    expect(cancelled.commands).toEqual([
      { type: "cancel_child", executionId: "child-1", reason: "stopped by ada" },
      { type: "status_changed", status: "cancelled" },
    ]);
    expect(run.instance("Sub")).toMatchObject({ status: "cancelled", reason: "stopped by ada" });
    expect(run.instance("Sub").attempts[0]).toMatchObject({
      outcome: "cancelled",
      endedAt: 300,
      error: { kind: "cancelled", message: "stopped by ada", retryable: false },
    });
    expectNoChange(run, () =>
      run.finishChild("Sub", childCompleted("late"), { attempt: 1, executionId: "child-1" }),
    );
  });

  it("cancels its child when a sibling fails the run", () => {
    const run = new EngineDriver([
      { name: "Sub", stepType: "orchestration", orchestrationId: "orc_child", parallelGroup: "g" },
      { name: "Fails", parallelGroup: "g" },
    ]);
    run.start();
    const failed = run.finish("Fails", providerError("down", false));
    expect(failed.commands).toEqual([
      { type: "cancel_child", executionId: "child-1", reason: 'execution failed: step "Fails" failed' },
      { type: "status_changed", status: "failed" },
    ]);
  });

  it("ignores a late or duplicate child_finished, and one from a child it no longer waits for", () => {
    const run = waitingForChild({ maxRetries: 1, retryDelay: 0 });
    run.finishChild("Sub", childFailed());
    expect(run.instance("Sub").wait).toMatchObject({ kind: "child", executionId: "child-2" });
    const first = { attempt: 1, executionId: "child-1" };
    expectNoChange(run, () => run.finishChild("1", childCompleted("from the first child"), first));
    expectNoChange(run, () =>
      run.finishChild("1", childCompleted("wrong id"), { attempt: 2, executionId: "child-1" }),
    );
    expectNoChange(run, () =>
      run.finishChild("1", childCompleted("wrong attempt"), { attempt: 1, executionId: "child-2" }),
    );
    run.finishChild("Sub", childCompleted("second"));
    const second = { attempt: 2, executionId: "child-2" };
    expectNoChange(run, () => run.finishChild("1", childCompleted("again"), second));
    expectNoChange(run, () => run.finishChild("1", childFailed(), second));
    expect(run.instance("Sub").output).toBe("second");
  });

  it("cancels a child that outlives the step's timeout, and retries with a new one", () => {
    const run = waitingForChild({ timeout: 60_000, maxRetries: 1, retryDelay: 0 });
    expect(run.last?.wakeAt).toBe(60_100);
    expectNoChange(run, () => run.at(60_099).wake());
    const timedOut = run.at(60_100).wake();
    expect(timedOut.commands).toEqual([
      { type: "cancel_child", executionId: "child-1", reason: "timeout" },
      expect.objectContaining({ type: "start_child", attempt: 2, executionId: "child-2" }),
    ]);
    expect(run.instance("Sub").attempts[0]).toMatchObject({
      outcome: "timed_out",
      error: {
        kind: "timeout",
        message: "child execution child-1 did not finish within 60000 ms",
        retryable: true,
      },
    });
    const failed = run.at(120_100).wake();
    expect(failed.commands).toEqual([
      { type: "cancel_child", executionId: "child-2", reason: "timeout" },
      { type: "status_changed", status: "failed" },
    ]);
  });

  it("keeps waiting for its child across a restart: only model calls are made again", () => {
    const run = waitingForChild();
    run.runner = "runner-2";
    expectNoChange(run, () => run.at(5000).wake());
    run.finishChild("Sub", childCompleted("survived"));
    expect(run.instance("Sub").attempts).toHaveLength(1);
    expect(run.instance("Sub").interruptions).toBe(0);
  });

  it("drives a run whose children all complete, one start per orchestration step", () => {
    const run = new EngineDriver([
      { name: "A", stepType: "orchestration", orchestrationId: "one", parallelGroup: "g" },
      { name: "B", stepType: "orchestration", orchestrationId: "two", parallelGroup: "g" },
      { name: "Join" },
    ]);
    run.drive(scripted({}), (child) => childCompleted(`${child.orchestrationId} output`));
    expect(run.children.map((child) => [child.stepName, child.executionId])).toEqual([
      ["A", "child-1"],
      ["B", "child-2"],
    ]);
    expect(run.callsOf("Join")[0]?.input).toEqual({
      input: { topic: "test" },
      previous: { A: "one output", B: "two output" },
    });
    expect(run.run.header.status).toBe("completed");
  });
});
