// Whole runs through the pure scheduler around interruptions: cancel, attempts cut off by a restart (a new
// runner), and replies or wakes that must change nothing.
import { describe, expect, it } from "vitest";
import { MAX_INTERRUPTIONS } from "../../durable-objects/engine/decide";
import { EngineDriver, expectNoChange, providerError, reply, scripted } from "../helpers/engine-driver";

describe("cancel", () => {
  it("aborts every attempt in flight, cancels every unfinished step and ends the run", () => {
    const run = new EngineDriver([
      { name: "A", parallelGroup: "g" },
      { name: "B", parallelGroup: "g" },
      { name: "C", parallelGroup: "g" },
      { name: "D" },
    ]);
    run.start();
    run.finish("B", reply("b"));
    const cancelled = run.at(40).cancel("stopped by ada@example.com");
    expect(cancelled.commands).toEqual([
      { type: "abort", instance: "0", attempt: 1, reason: "stopped by ada@example.com" },
      { type: "abort", instance: "2", attempt: 1, reason: "stopped by ada@example.com" },
      { type: "status_changed", status: "cancelled" },
    ]);
    expect(cancelled.wakeAt).toBeUndefined();
    expect(run.run.header).toMatchObject({
      status: "cancelled",
      error: "stopped by ada@example.com",
      finishedAt: 40,
    });
    expect(run.statusesById()).toEqual([
      ["0", "cancelled"],
      ["1", "completed"],
      ["2", "cancelled"],
    ]);
    expect(run.find("D")).toBeUndefined();
    expect(run.instance("A").attempts[0]).toMatchObject({
      outcome: "cancelled",
      error: { kind: "cancelled", message: "stopped by ada@example.com", retryable: false },
    });
  });

  it("changes nothing after a cancel: no replies, wakes, starts or second cancels", () => {
    const run = new EngineDriver([{ name: "A" }, { name: "B" }]);
    run.start();
    run.cancel();
    expectNoChange(run, () => run.finish("A", reply("late"), 1));
    expectNoChange(run, () => run.at(500_000).wake());
    expectNoChange(run, () => run.start());
    expectNoChange(run, () => run.cancel("again"));
    expect(run.calls).toHaveLength(1);
  });

  it("cancels a run that has not started", () => {
    const run = new EngineDriver([{ name: "A" }]);
    const decision = run.cancel("no longer needed");
    expect(decision.commands).toEqual([{ type: "status_changed", status: "cancelled" }]);
    expect(run.run.header).toMatchObject({ status: "cancelled", error: "no longer needed" });
    expect(run.find("A")).toBeUndefined();
  });

  it("stops a step waiting to retry without aborting anything", () => {
    const run = new EngineDriver([{ name: "A", maxRetries: 3, retryDelay: 1000 }]);
    run.start();
    run.finish("A", providerError());
    expect(run.cancel().commands).toEqual([{ type: "status_changed", status: "cancelled" }]);
    expect(run.instance("A")).toMatchObject({ status: "cancelled" });
    expect(run.instance("A").retryAt).toBeUndefined();
  });

  it("does not cancel a run that has already completed", () => {
    const run = new EngineDriver([{ name: "A" }]);
    run.drive(scripted({}));
    expectNoChange(run, () => run.cancel());
    expect(run.run.header.status).toBe("completed");
  });
});

describe("an attempt cut off by a restart", () => {
  it("runs again at once, with the same input, when a new runner wakes the run", () => {
    const run = new EngineDriver([{ name: "A", inputMapping: { q: "{{context.input.topic}}" } }], { now: 0 });
    run.start();
    run.runner = "runner-2";
    const decision = run.at(30).wake();
    expect(decision.commands).toEqual([
      { type: "call_model", instance: "0", attempt: 2, input: { q: "test" }, deadline: 30 + 300_000 },
    ]);
    expect(run.instance("A")).toMatchObject({ status: "running", interruptions: 1 });
    expect(run.instance("A").attempts.map((a) => [a.runner, a.outcome, a.error?.kind])).toEqual([
      ["runner-1", "interrupted", "interrupted"],
      ["runner-2", undefined, undefined],
    ]);
  });

  it("does not count the interruption against maxRetries", () => {
    const run = new EngineDriver([{ name: "A", maxRetries: 1, retryDelay: 0 }]);
    run.start();
    run.runner = "r2";
    run.wake();
    run.finish("A", providerError());
    run.runner = "r3";
    run.wake();
    expect(run.run.header.status).toBe("running");
    run.finish("A", providerError());
    expect(run.instance("A").attempts.map((a) => a.outcome)).toEqual([
      "interrupted",
      "failed",
      "interrupted",
      "failed",
    ]);
    expect(run.run.header.error).toBe('step "A" failed after 4 attempts: upstream answered 502');
  });

  it("completes when the attempt after the interruption succeeds, even with no retries allowed", () => {
    const run = new EngineDriver([{ name: "A" }, { name: "B" }]);
    run.start();
    run.runner = "r2";
    run.start();
    run.drive(scripted({}));
    expect(run.run.header.status).toBe("completed");
    expect(run.instance("A").attempts.map((a) => a.outcome)).toEqual(["interrupted", "succeeded"]);
  });

  it(`gives up after ${MAX_INTERRUPTIONS} interruptions, with an error that says so`, () => {
    const run = new EngineDriver([{ name: "Crashy", maxRetries: 3 }]);
    run.start();
    for (let restart = 1; restart <= MAX_INTERRUPTIONS; restart++) {
      run.runner = `runner-${restart + 1}`;
      expect(run.wake().commands).toEqual([
        expect.objectContaining({ type: "call_model", attempt: restart + 1 }),
      ]);
    }
    run.runner = "runner-last";
    const failed = run.wake();
    expect(failed.commands).toEqual([{ type: "status_changed", status: "failed" }]);
    expect(run.instance("Crashy").interruptions).toBe(MAX_INTERRUPTIONS + 1);
    const times = MAX_INTERRUPTIONS + 1;
    expect(run.run.header.error).toBe(
      `step "Crashy" failed after ${times} attempts: the attempt was cut off by a restart ${times} times; it is not run again`,
    );
    expect(run.instance("Crashy").attempts.at(-2)?.error?.message).toMatch(/it runs again$/);
  });

  it("ignores the reply of the attempt that was cut off", () => {
    const run = new EngineDriver([{ name: "A" }]);
    run.start();
    run.runner = "r2";
    run.wake();
    expectNoChange(run, () => run.finish("A", reply("from the old runner"), 1));
    expect(run.instance("A").status).toBe("running");
  });

  it("interrupts only the open attempts, restarting all members of a group in one decision", () => {
    const run = new EngineDriver([
      { name: "A", parallelGroup: "g" },
      { name: "B", parallelGroup: "g" },
      { name: "C", parallelGroup: "g" },
    ]);
    run.start();
    run.finish("B", reply("b"));
    run.runner = "r2";
    const decision = run.wake();
    expect(decision.commands.map((c) => c.type === "call_model" && [c.instance, c.attempt])).toEqual([
      ["0", 2],
      ["2", 2],
    ]);
    expect(run.instance("B").attempts.map((a) => a.outcome)).toEqual(["succeeded"]);
  });

  it("treats an attempt past its deadline whose runner is gone as cut off, not timed out", () => {
    const run = new EngineDriver([{ name: "A", timeout: 1000 }]);
    run.start();
    run.runner = "r2";
    run.at(5000).wake();
    expect(run.instance("A").attempts.map((a) => a.outcome)).toEqual(["interrupted", undefined]);
    expect(run.run.header.status).toBe("running");
  });

  it("leaves a step waiting to retry alone, and retries it on time under the new runner", () => {
    const run = new EngineDriver([{ name: "A", maxRetries: 1, retryDelay: 1000 }]);
    run.start();
    run.finish("A", providerError());
    run.runner = "r2";
    expectNoChange(run, () => run.at(500).wake());
    run.at(1000).wake();
    expect(run.instance("A").attempts.map((a) => [a.runner, a.outcome])).toEqual([
      ["runner-1", "failed"],
      ["r2", undefined],
    ]);
    expect(run.instance("A").interruptions).toBe(0);
  });
});

describe("stale events and idle wakes", () => {
  it("ignores a duplicate reply for an attempt that already completed", () => {
    const run = new EngineDriver([{ name: "A" }, { name: "B" }]);
    run.start();
    run.finish("A", reply("first"));
    expectNoChange(run, () => run.finish("A", reply("duplicate"), 1));
    expectNoChange(run, () => run.finish("A", providerError(), 1));
    expect(run.instance("A").output).toBe("first");
    expect(run.callsOf("B")).toHaveLength(1);
  });

  it("ignores replies for unknown attempts, unknown steps and steps not started", () => {
    const run = new EngineDriver([{ name: "A" }, { name: "B" }]);
    run.start();
    expectNoChange(run, () => run.finish("A", reply("x"), 7));
    expectNoChange(run, () => run.finish("99", reply("x"), 1));
    expectNoChange(run, () => run.finish("0.0.0", reply("x"), 1));
    expectNoChange(run, () => run.finish("1", reply("x"), 1));
  });

  it("ignores a reply before the run started and after it finished", () => {
    const run = new EngineDriver([{ name: "A" }]);
    const pending = run.send({ type: "attempt_finished", instance: "0", attempt: 1, result: reply("early") });
    expect(pending.commands).toEqual([]);
    expect(run.run.header.status).toBe("pending");
    run.drive(scripted({}));
    expectNoChange(run, () => run.finish("A", reply("again"), 1));
  });

  it("changes nothing when woken with nothing due, however often", () => {
    const run = new EngineDriver([{ name: "A", timeout: 10_000 }]);
    run.start();
    for (const at of [0, 1, 5000, 5000, 9999]) expectNoChange(run, () => run.at(at).wake());
  });

  it("does not start a pending run on a wake", () => {
    const run = new EngineDriver([{ name: "A" }]);
    const decision = run.wake();
    expect(decision.commands).toEqual([]);
    expect(decision.wakeAt).toBeUndefined();
    expect(run.run.header.status).toBe("pending");
  });

  it("changes nothing when a finished run is woken", () => {
    const run = new EngineDriver([{ name: "A" }]);
    run.drive(scripted({}));
    expectNoChange(run, () => run.at(1_000_000).wake());
  });
});
