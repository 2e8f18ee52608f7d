// Whole runs through the pure scheduler when steps fail: retries (fixed, exponential, rate limits),
// timeouts, and a failing step stopping the run. Cancel, restarts and stale events: decide-recovery.test.ts.
import { describe, expect, it } from "vitest";
import type { AgentStep } from "../../durable-objects/engine/definition";
import { retryDelayMs } from "../../durable-objects/engine/retry";
import type { StepError } from "../../durable-objects/engine/types";
import {
  EngineDriver,
  expectNoChange,
  GUIDE_EXAMPLE_4,
  providerError,
  rateLimited,
  reply,
  replyJson,
  type StepInput,
  scripted,
  USAGE,
} from "../helpers/engine-driver";

describe("retries", () => {
  it("retries Example 4's Generate Code after retryDelay, up to maxRetries times, then fails the run", () => {
    const run = new EngineDriver(GUIDE_EXAMPLE_4);
    run.start();
    const first = run.finish("Generate Code", providerError());
    expect(first.commands).toEqual([]);
    expect(first.wakeAt).toBe(1000);
    expect(run.instance("Generate Code")).toMatchObject({ status: "waiting_retry", retryAt: 1000 });
    expectNoChange(run, () => run.at(999).wake());

    const second = run.at(1000).wake();
    expect(second.commands).toEqual([
      {
        type: "call_model",
        instance: "0",
        attempt: 2,
        input: { input: { topic: "test" } },
        deadline: 61_000,
      },
    ]);
    run.at(1400).finish("Generate Code", providerError());
    expect(run.last?.wakeAt).toBe(2400);
    run.wakeWhenDue();
    const last = run.at(2500).finish("Generate Code", providerError("upstream answered 503"));

    expect(last.commands).toEqual([{ type: "status_changed", status: "failed" }]);
    expect(last.wakeAt).toBeUndefined();
    expect(run.run.header).toMatchObject({
      status: "failed",
      finishedAt: 2500,
      error: 'step "Generate Code" failed after 3 attempts: upstream answered 503',
    });
    expect(
      run.instance("Generate Code").attempts.map((a) => [a.attempt, a.startedAt, a.endedAt, a.outcome]),
    ).toEqual([
      [1, 0, 0, "failed"],
      [2, 1000, 1400, "failed"],
      [3, 2400, 2500, "failed"],
    ]);
    // Run Tests never came up: it has no instance (the status view lists it as cancelled).
    expect(run.find("Run Tests")).toBeUndefined();
    expect(run.callsOf("Run Tests")).toEqual([]);
  });

  it("carries on with the next step when a retry succeeds", () => {
    const run = new EngineDriver(GUIDE_EXAMPLE_4);
    run.drive(
      scripted({
        "Generate Code": [providerError(), providerError(), reply("code")],
        "Run Tests": replyJson({ passed: 1 }),
      }),
    );
    expect(run.callsOf("Generate Code").map((call) => call.at)).toEqual([0, 1000, 2000]);
    expect(run.callsOf("Run Tests")[0]?.input).toEqual({ code: "code" });
    expect(run.run.header.status).toBe("completed");
  });

  it("starts a retry whose alarm fired late when the wake comes, with a deadline counted from then", () => {
    const run = new EngineDriver([{ name: "Call", maxRetries: 1, retryDelay: 1000, timeout: 5000 }]);
    run.start();
    run.finish("Call", providerError());
    const late = run.at(4321).wake();
    expect(late.commands).toEqual([
      { type: "call_model", instance: "0", attempt: 2, input: { input: { topic: "test" } }, deadline: 9321 },
    ]);
  });

  it("records the usage a failed attempt reports", () => {
    const run = new EngineDriver([{ name: "Call" }]);
    run.start();
    run.finish("Call", {
      ok: false,
      error: { kind: "provider", message: "cut", retryable: false },
      usage: USAGE,
    });
    expect(run.instance("Call").attempts[0]?.usage).toEqual(USAGE);
  });

  it("fails at the first failure when maxRetries is the default 0", () => {
    const run = new EngineDriver([{ name: "Once" }, { name: "Never" }]);
    run.drive(scripted({ Once: providerError() }));
    expect(run.run.header).toMatchObject({
      status: "failed",
      error: 'step "Once" failed after 1 attempt: upstream answered 502',
    });
    expect(run.callsOf("Never")).toEqual([]);
  });

  it("does not retry an error marked not retryable", () => {
    const run = new EngineDriver([{ name: "Call", maxRetries: 5 }]);
    run.drive(scripted({ Call: providerError("the API key was refused", false) }));
    expect(run.calls).toHaveLength(1);
    expect(run.run.header.error).toBe('step "Call" failed after 1 attempt: the API key was refused');
  });

  it("retries in the same decision when retryDelay is 0", () => {
    const run = new EngineDriver([{ name: "Call", maxRetries: 1, retryDelay: 0 }], { now: 50 });
    run.start();
    const decision = run.finish("Call", providerError());
    expect(decision.commands).toEqual([
      {
        type: "call_model",
        instance: "0",
        attempt: 2,
        input: { input: { topic: "test" } },
        deadline: 50 + 300_000,
      },
    ]);
  });

  it("waits delay·2^(n-1) with deterministic jitter in [50%, 100%] under exponential backoff", () => {
    const steps: StepInput[] = [
      { name: "Call", maxRetries: 4, retryDelay: 1000, retryBackoff: "exponential" },
    ];
    const run = new EngineDriver(steps, { executionId: "exec-exp" });
    run.drive(scripted({ Call: providerError() }));
    const times = run.calls.map((call) => call.at);
    const waits = times.slice(1).map((at, i) => at - (times[i] ?? 0));
    const definition = run.plan.steps[0] as AgentStep;
    const error: StepError = { kind: "provider", message: "upstream answered 502", retryable: true };
    expect(waits).toEqual([1, 2, 3, 4].map((n) => retryDelayMs(definition, n, "exec-exp:0", error)));
    waits.forEach((wait, i) => {
      expect(wait).toBeGreaterThanOrEqual(500 * 2 ** i);
      expect(wait).toBeLessThanOrEqual(1000 * 2 ** i);
    });
    expect(run.run.header.error).toBe('step "Call" failed after 5 attempts: upstream answered 502');

    const again = new EngineDriver(steps, { executionId: "exec-exp" });
    again.drive(scripted({ Call: providerError() }));
    expect(again.calls.map((call) => call.at)).toEqual(times);
  });

  it("waits at least a rate limit's retryAfterMs, and the step's delay when that is longer", () => {
    const run = new EngineDriver([{ name: "Call", maxRetries: 2, retryDelay: 1000 }]);
    run.start();
    expect(run.finish("Call", rateLimited(30_000)).wakeAt).toBe(30_000);
    run.wakeWhenDue();
    expect(run.finish("Call", rateLimited(10)).wakeAt).toBe(31_000);
  });

  it('retries a reply that is not JSON when outputFormat is "json", keeping the raw reply on the attempt', () => {
    const run = new EngineDriver([{ name: "Score", outputFormat: "json", maxRetries: 1, retryDelay: 0 }]);
    run.drive(scripted({ Score: [reply("Sure! The score is 7."), replyJson({ score: 7 })] }));
    expect(run.instance("Score").attempts[0]).toMatchObject({
      outcome: "failed",
      output: "Sure! The score is 7.",
      error: { kind: "invalid_output", retryable: true },
    });
    expect(run.run.header).toMatchObject({ status: "completed", output: { score: 7 } });
  });

  it('fails the run when every reply of a "json" step is text', () => {
    const run = new EngineDriver([{ name: "Score", outputFormat: "json", maxRetries: 1, retryDelay: 0 }]);
    run.drive(scripted({ Score: reply("no JSON here") }));
    expect(run.run.header.error).toBe(
      'step "Score" failed after 2 attempts: the step requires JSON output, but the reply is not JSON',
    );
  });
});

describe("timeouts", () => {
  const slow: StepInput[] = [
    { name: "Slow", timeout: 1000, maxRetries: 1, retryDelay: 500 },
    { name: "After" },
  ];

  it("times out an attempt at its deadline, aborts it, retries, and fails the run when out of attempts", () => {
    const run = new EngineDriver(slow);
    expect(run.start().wakeAt).toBe(1000);
    expectNoChange(run, () => run.at(999).wake());

    const timedOut = run.at(1000).wake();
    expect(timedOut.commands).toEqual([{ type: "abort", instance: "0", attempt: 1, reason: "timeout" }]);
    expect(timedOut.wakeAt).toBe(1500);
    expect(run.instance("Slow").attempts[0]).toMatchObject({
      outcome: "timed_out",
      endedAt: 1000,
      error: { kind: "timeout", message: "attempt timed out after 1000 ms", retryable: true },
    });
    // The reply of the attempt that timed out is noted on it as late, once, and changes nothing else.
    const late = run.at(1200).finish("Slow", reply("too late"), 1);
    expect(late.commands).toEqual([]);
    expect(late.wakeAt).toBe(1500);
    expect(run.instance("Slow").attempts[0]).toMatchObject({
      outcome: "timed_out",
      lateResult: { at: 1200, ok: true },
    });
    expect(run.instance("Slow").status).toBe("waiting_retry");
    expectNoChange(run, () => run.at(1300).finish("Slow", reply("too late, again"), 1));

    expect(run.at(1500).wake().commands).toEqual([
      { type: "call_model", instance: "0", attempt: 2, input: { input: { topic: "test" } }, deadline: 2500 },
    ]);
    const failed = run.at(2500).wake();
    expect(failed.commands).toEqual([
      { type: "abort", instance: "0", attempt: 2, reason: "timeout" },
      { type: "status_changed", status: "failed" },
    ]);
    expect(run.run.header.error).toBe('step "Slow" failed after 2 attempts: attempt timed out after 1000 ms');
    expect(run.callsOf("After")).toEqual([]);
  });

  it("accepts a reply that arrives before the deadline", () => {
    const run = new EngineDriver(slow);
    run.start();
    run.at(999).finish("Slow", reply("just in time"));
    expect(run.instance("Slow").status).toBe("completed");
    expect(run.openCall("After")).toBeDefined();
  });

  it("wakes at the earliest deadline or retry among parallel steps", () => {
    const run = new EngineDriver([
      { name: "A", parallelGroup: "g", timeout: 5000 },
      { name: "B", parallelGroup: "g", timeout: 2000, maxRetries: 1, retryDelay: 100 },
      { name: "C", parallelGroup: "g", timeout: 3000 },
    ]);
    expect(run.start().wakeAt).toBe(2000);
    expect(run.at(10).finish("B", providerError()).wakeAt).toBe(110);
    expect(run.wakeWhenDue().wakeAt).toBe(2110);
    expect(run.at(120).finish("B", reply("b")).wakeAt).toBe(3000);
  });
});

describe("a failing step", () => {
  const group: StepInput[] = [
    { name: "A", parallelGroup: "g" },
    { name: "B", parallelGroup: "g" },
    { name: "C", parallelGroup: "g", maxRetries: 1, retryDelay: 10_000 },
    { name: "D" },
  ];

  it("fails the execution, aborts running siblings, cancels waiting ones and starts nothing later", () => {
    const run = new EngineDriver(group);
    run.start();
    run.at(5).finish("C", providerError());
    const failed = run.at(10).finish("A", providerError("model overloaded", false));
    const reason = 'execution failed: step "A" failed';
    expect(failed.commands).toEqual([
      { type: "abort", instance: "1", attempt: 1, reason },
      { type: "status_changed", status: "failed" },
    ]);
    expect(failed.wakeAt).toBeUndefined();
    expect(run.run.header).toMatchObject({
      status: "failed",
      finishedAt: 10,
      error: 'step "A" failed after 1 attempt: model overloaded',
    });
    expect(run.list().map((step) => [step.name, step.status])).toEqual([
      ["A", "failed"],
      ["B", "cancelled"],
      ["C", "cancelled"],
    ]);
    expect(run.instance("B").attempts[0]).toMatchObject({ outcome: "cancelled", endedAt: 10 });
    expect(run.instance("C")).toMatchObject({ reason });
    expect(run.instance("C").retryAt).toBeUndefined();
    expect(run.find("D")).toBeUndefined();

    expectNoChange(run, () => run.at(20).finish("B", reply("late"), 1));
    expectNoChange(run, () => run.at(10_005).wake());
    expect(run.callsOf("D")).toEqual([]);
    expect(run.callsOf("C")).toHaveLength(1);
  });

  it("aborts siblings when a timeout is what fails the run", () => {
    const run = new EngineDriver([
      { name: "Quick", parallelGroup: "g", timeout: 1000 },
      { name: "Long", parallelGroup: "g", timeout: 60_000 },
    ]);
    run.start();
    const failed = run.at(1000).wake();
    expect(failed.commands).toEqual([
      { type: "abort", instance: "0", attempt: 1, reason: "timeout" },
      { type: "abort", instance: "1", attempt: 1, reason: 'execution failed: step "Quick" failed' },
      { type: "status_changed", status: "failed" },
    ]);
  });
});
