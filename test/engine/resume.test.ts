// Resume through the pure scheduler: a failed or cancelled run continues from the instances that failed
// or were cancelled, with a fresh retry budget; completed outputs are kept and containers pick up their
// bodies where they were. Any other run ignores it.
import { describe, expect, it } from "vitest";
import { MAX_INTERRUPTIONS } from "../../durable-objects/engine/decide";
import {
  childCompleted,
  childFailed,
  EngineDriver,
  expectNoChange,
  providerError,
  reply,
  scripted,
} from "../helpers/engine-driver";

describe("resume", () => {
  it("re-runs the failed step with a fresh retry budget, keeping completed outputs", () => {
    const run = new EngineDriver([
      { name: "A", outputMapping: { a: "{{output}}" } },
      { name: "B", maxRetries: 1, retryDelay: 0, inputMapping: { a: "{{context.a}}" } },
      { name: "C" },
    ]);
    run.drive(scripted({ A: reply("from A"), B: providerError("down") }));
    expect(run.run.header).toMatchObject({
      status: "failed",
      error: 'step "B" failed after 2 attempts: down',
    });

    const resumed = run.at(5000).resume();
    expect(resumed.commands).toEqual([
      { type: "call_model", instance: "1", attempt: 3, input: { a: "from A" }, deadline: 5000 + 300_000 },
      { type: "status_changed", status: "running" },
    ]);
    expect(run.run.header).toMatchObject({ status: "running", resumes: 1 });
    expect(run.run.header).not.toHaveProperty("error");
    expect(run.run.header).not.toHaveProperty("finishedAt");
    expect(run.instance("B")).toMatchObject({ status: "running", budgetFrom: 2 });
    expect(run.instance("B").error).toBeUndefined();

    // The fresh budget allows maxRetries (1) retries again.
    run.finish("B", providerError("still down"));
    expect(run.instance("B")).toMatchObject({ status: "running", wait: { kind: "call", attempt: 4 } });
    run.drive(scripted({ B: reply("finally") }));
    expect(run.callsOf("A")).toHaveLength(1);
    expect(run.context()).toMatchObject({ A: "from A", a: "from A", B: "finally", C: "C done" });
    expect(run.run.header).toMatchObject({ status: "completed", output: "C done" });
    expect(run.statuses).toEqual(["running", "failed", "running", "completed"]);
  });

  it("fails again with the whole attempt count when the fresh budget runs out too", () => {
    const run = new EngineDriver([{ name: "A" }]);
    run.drive(scripted({ A: providerError("down") }));
    run.resume();
    run.drive(scripted({ A: providerError("down") }));
    expect(run.run.header).toMatchObject({
      status: "failed",
      error: 'step "A" failed after 2 attempts: down',
    });
    run.resume();
    expect(run.run.header.resumes).toBe(2);
  });

  it("continues a cancelled run from the steps that were cancelled, in flight or not started", () => {
    const run = new EngineDriver([
      { name: "A", parallelGroup: "g" },
      { name: "B", parallelGroup: "g" },
      { name: "C" },
    ]);
    run.start();
    run.finish("A", reply("a"));
    run.cancel("paused by ada");
    expect(run.statusesById()).toEqual([
      ["0", "completed"],
      ["1", "cancelled"],
    ]);
    const resumed = run.resume();
    expect(resumed.commands).toEqual([
      expect.objectContaining({ type: "call_model", instance: "1", attempt: 2 }),
      { type: "status_changed", status: "running" },
    ]);
    run.drive(scripted({}));
    expect(run.callsOf("A")).toHaveLength(1);
    expect(run.instance("B").attempts.map((a) => a.outcome)).toEqual(["cancelled", "succeeded"]);
    expect(run.run.header.status).toBe("completed");
    expect(run.statuses).toEqual(["running", "cancelled", "running", "completed"]);
  });

  it("starts a run cancelled before it began", () => {
    const run = new EngineDriver([{ name: "A" }]);
    run.cancel();
    run.resume();
    expect(run.openCall("A")).toBeDefined();
    run.drive(scripted({}));
    expect(run.run.header.status).toBe("completed");
  });

  it("leaves a failure that continued on error as it is", () => {
    const run = new EngineDriver([{ name: "Soft", continueOnError: true }, { name: "Hard" }]);
    run.drive(scripted({ Soft: providerError("x", false), Hard: providerError("y", false) }));
    run.resume();
    run.drive(scripted({}));
    expect(run.callsOf("Soft")).toHaveLength(1);
    expect(run.instance("Soft")).toMatchObject({ status: "failed", continued: true });
    expect(run.run.header.status).toBe("completed");
  });

  it("leaves the body of a container that continued on error as it ended", () => {
    const run = new EngineDriver([
      { name: "Each", stepType: "forEach", items: [0, 1], continueOnError: true, steps: [{ name: "Do" }] },
      { name: "Hard" },
    ]);
    run.start();
    run.finish("0.0.0", providerError("bad item", false));
    run.finish("Hard", providerError("hard", false));
    run.resume();
    run.drive(scripted({}));
    expect(run.run.header.status).toBe("completed");
    expect(run.statusesById()).toEqual([
      ["0", "failed"],
      ["0.0.0", "failed"],
      ["0.1.0", "cancelled"],
      ["1", "completed"],
    ]);
    expect(run.callsOf("Do")).toHaveLength(2);
  });

  it("gives a step that gave up after too many restarts its interruptions back", () => {
    const run = new EngineDriver([{ name: "Crashy" }]);
    run.start();
    for (let restart = 1; restart <= MAX_INTERRUPTIONS + 1; restart++) {
      run.runner = `runner-${restart + 1}`;
      run.wake();
    }
    expect(run.run.header.status).toBe("failed");
    run.resume();
    expect(run.instance("Crashy")).toMatchObject({ status: "running", interruptions: 0 });
  });

  it("is ignored by a run that is running, completed or never started", () => {
    const pending = new EngineDriver([{ name: "A" }]);
    expectNoChange(pending, () => pending.resume());
    pending.start();
    expectNoChange(pending, () => pending.resume());
    pending.drive(scripted({}));
    expectNoChange(pending, () => pending.resume());
  });

  it("continues a loop from the iteration that failed, keeping earlier iterations", () => {
    const run = new EngineDriver([
      { name: "Rounds", stepType: "loop", maxIterations: 3, steps: [{ name: "Draft" }, { name: "Check" }] },
    ]);
    run.drive(
      scripted({ Check: (call) => (call.instance === "0.1.1" ? providerError("no", false) : reply("ok")) }),
    );
    expect(run.instance("Rounds")).toMatchObject({ status: "failed", iteration: 1 });
    run.resume();
    expect(run.instance("Rounds")).toMatchObject({ status: "running", iteration: 1 });
    expect(run.openCall("0.1.1")).toMatchObject({ attempt: 2 });
    run.drive(scripted({}));
    expect(run.callsOf("Draft").map((call) => call.instance)).toEqual(["0.0.0", "0.1.0", "0.2.0"]);
    expect(run.instance("Rounds").output).toEqual({
      iterations: 3,
      outputs: ["ok", "Check done", "Check done"],
    });
  });

  it("continues a forEach with the items it resolved, re-running only the failed and cancelled ones", () => {
    const run = new EngineDriver([
      { name: "Plan" },
      {
        name: "Each",
        stepType: "forEach",
        items: "{{context.Plan.items}}",
        concurrency: 2,
        steps: [{ name: "Do" }],
      },
    ]);
    run.start();
    run.finish("Plan", reply('{"items": ["a", "b", "c"]}'));
    run.finish("1.0.0", reply("did a"));
    run.finish("1.1.0", providerError("bad b", false));
    expect(run.statusesById()).toEqual([
      ["0", "completed"],
      ["1", "failed"],
      ["1.0.0", "completed"],
      ["1.1.0", "failed"],
      ["1.2.0", "cancelled"],
    ]);
    run.resume();
    expect([...run.open.values()].map((call) => [call.instance, call.attempt])).toEqual([
      ["1.1.0", 2],
      ["1.2.0", 2],
    ]);
    run.drive(scripted({ Do: (call) => reply(`again ${call.instance}`) }));
    expect(run.instance("Each")).toMatchObject({
      status: "completed",
      items: ["a", "b", "c"],
      output: ["did a", "again 1.1.0", "again 1.2.0"],
    });
    expect(run.callsOf("Plan")).toHaveLength(1);
  });

  it("continues a branch on the arm it took, without choosing again", () => {
    const run = new EngineDriver([
      {
        name: "Route",
        stepType: "branch",
        branches: [{ when: { field: "input.topic", operator: "exists" }, steps: [{ name: "Go" }] }],
        otherwise: [{ name: "Other" }],
      },
    ]);
    run.drive(scripted({ Go: [providerError("no", false), reply("went")] }));
    run.resume();
    run.drive(scripted({ Go: [providerError("no", false), reply("went")] }));
    expect(run.instance("Route")).toMatchObject({ status: "completed", branch: 0, output: "went" });
    expect(run.callsOf("Other")).toEqual([]);
  });

  it("starts a new child for an orchestration step that failed or was cancelled", () => {
    const run = new EngineDriver([{ name: "Sub", stepType: "orchestration", orchestrationId: "orc_x" }]);
    run.start();
    run.finishChild("Sub", childFailed());
    run.resume();
    run.cancel("pause");
    expect(run.childCancels).toEqual([{ type: "cancel_child", executionId: "child-2", reason: "pause" }]);
    run.resume();
    run.finishChild("Sub", childCompleted("third child"));
    expect(run.children.map((child) => [child.executionId, child.attempt])).toEqual([
      ["child-1", 1],
      ["child-2", 2],
      ["child-3", 3],
    ]);
    expect(run.run.header).toMatchObject({ status: "completed", output: "third child", resumes: 2 });
  });

  it("waits again, with a new deadline, for an approval that timed out", () => {
    const run = new EngineDriver([{ name: "Gate", stepType: "approval", timeout: 1000 }]);
    run.start();
    run.at(1000).wake();
    expect(run.run.header.status).toBe("failed");
    const resumed = run.at(50_000).resume();
    expect(resumed.wakeAt).toBe(51_000);
    expect(run.instance("Gate").wait).toMatchObject({ kind: "approval", since: 50_000, deadline: 51_000 });
    run.approve("Gate");
    expect(run.run.header.status).toBe("completed");
  });
});
