// A run's budget through the pure scheduler: each call reserves its worst case before it starts (the
// role's maxTokens plus its input, at the pinned model's prices), so parallel calls cannot overshoot; a
// call that would cross the budget is not started, the calls in flight are awaited, and the run fails
// with error kind budget_exceeded. A reply replaces its reservation by what it used; a child execution
// gets what is left.
import { describe, expect, it } from "vitest";
import type { Budget, PinnedModel, Plan, RoleSnapshot } from "../../durable-objects/engine/types";
import { childCompleted, EngineDriver, planOf, reply, type StepInput, USAGE } from "../helpers/engine-driver";

const PRICED: PinnedModel = {
  source: "platform",
  providerName: "test",
  kind: "openai-compatible",
  id: "priced",
  contextWindow: 128_000,
  priceIn: 10,
  priceOut: 10,
  structuredOutput: false,
  streaming: false,
};

function role(model?: PinnedModel): RoleSnapshot {
  return {
    id: "rol_writer",
    name: "Writer",
    basePrompt: "Write.",
    capabilities: { needsCoding: false, needsTools: false, needsReasoning: false },
    contextLimits: { minContext: 0, maxContext: 100_000 },
    hyperparameters: { temperature: 0.2, maxTokens: 100 },
    tools: [],
    ...(model ? { model } : {}),
  };
}

function budgeted(steps: StepInput[], budget: Budget | undefined, model?: PinnedModel): Plan {
  return { ...planOf(steps), roles: { Writer: role(model) }, ...(budget ? { budget } : {}) };
}

const fanOut = (count: number): StepInput[] =>
  Array.from({ length: count }, (_, i) => ({ name: `W${i}`, roleName: "Writer", parallelGroup: "fan" }));
const chain = (count: number): StepInput[] =>
  Array.from({ length: count }, (_, i) => ({ name: `S${i}`, roleName: "Writer" }));

/** What one call of these tests reserves: maxTokens 100 + "Write." (2) + its input's JSON / 4. */
function reservedBy(run: EngineDriver, name: string): number {
  return run.instance(name).attempts[0]?.reserved?.tokens ?? 0;
}

describe("a run's budget", () => {
  it("starts only the calls of a fan-out of 10 whose worst case fits, awaits them, then fails budget_exceeded", () => {
    const probe = new EngineDriver(budgeted(fanOut(1), { maxTokens: 1_000_000 }));
    probe.start();
    const perCall = reservedBy(probe, "W0");
    expect(perCall).toBeGreaterThan(100);

    const run = new EngineDriver(budgeted(fanOut(10), { maxTokens: perCall * 3 + perCall / 2 }));
    run.start();
    expect(run.calls.map((call) => call.name)).toEqual(["W0", "W1", "W2"]);
    expect(run.run.header.status).toBe("running");
    expect(run.run.header.budgetStop).toMatch(/step "W3" was not started/);

    run.finish("W0", reply("a"));
    run.finish("W1", reply("b"));
    expect(run.run.header.status).toBe("running");
    run.finish("W2", reply("c"));

    const { header } = run.run;
    expect(header.status).toBe("failed");
    expect(header.errorKind).toBe("budget_exceeded");
    expect(header.error).toMatch(/^budget exceeded: step "W3" was not started; its worst case/);
    expect(header.budgetStop).toBeUndefined();
    expect(run.calls).toHaveLength(3);
    expect(["W0", "W1", "W2"].map((name) => run.instance(name).status)).toEqual([
      "completed",
      "completed",
      "completed",
    ]);
    expect(run.instance("W3")).toMatchObject({ status: "cancelled", attempts: [] });
    expect(run.instance("W9").reason).toMatch(/budget was exceeded/);
    expect(header.usage).toMatchObject({
      tokensIn: 3 * USAGE.tokensIn,
      tokensOut: 3 * USAGE.tokensOut,
      calls: 3,
      byModel: { [USAGE.model]: { calls: 3 } },
    });
  });

  it("fails at once when nothing is in flight", () => {
    const run = new EngineDriver(budgeted(chain(2), { maxTokens: 50 }));
    run.start();
    expect(run.calls).toHaveLength(0);
    expect(run.run.header).toMatchObject({ status: "failed", errorKind: "budget_exceeded" });
    expect(run.instance("S0").status).toBe("cancelled");
  });

  it("replaces a call's reservation by what it used, so a chain runs past the sum of its worst cases", () => {
    const probe = new EngineDriver(budgeted(chain(1), { maxTokens: 1_000_000 }));
    probe.start();
    const perCall = reservedBy(probe, "S0");
    // Three worst cases would not fit; one worst case plus two actual usages (30 tokens each) does.
    const run = new EngineDriver(budgeted(chain(3), { maxTokens: perCall + 2 * 30 + 20 }));
    run.drive(() => reply("done"));
    expect(run.run.header.status).toBe("completed");
    expect(run.calls).toHaveLength(3);
    expect(run.run.header.usage?.tokensIn).toBe(30);
  });

  it("reserves the worst case's cost at the pinned model's prices", () => {
    // (100 out + ~9 in) tokens x $10 per million: about $0.0011 per call.
    const run = new EngineDriver(budgeted(fanOut(3), { maxCostUsd: 0.0025 }, PRICED));
    run.start();
    expect(run.calls.map((call) => call.name)).toEqual(["W0", "W1"]);
    expect(run.instance("W0").attempts[0]?.reserved?.costUsd).toBeCloseTo(0.00109, 5);
    run.finish("W0", reply("a"));
    run.finish("W1", reply("b"));
    expect(run.run.header).toMatchObject({ status: "failed", errorKind: "budget_exceeded" });
    expect(run.run.header.usage?.costUsd).toBeCloseTo(2 * USAGE.costUsd, 9);
  });

  it("counts a failed attempt's usage and frees its reservation for the retry", () => {
    const run = new EngineDriver(budgeted([{ name: "S0", roleName: "Writer", maxRetries: 2 }], {}));
    run.start();
    run.finish("S0", {
      ok: false,
      error: { kind: "provider", message: "502", retryable: true },
      usage: USAGE,
    });
    run.wakeWhenDue();
    expect(run.instance("S0").attempts).toHaveLength(2);
    run.finish("S0", reply("ok"));
    expect(run.run.header.usage?.calls).toBe(2);
  });

  it("runs without limits when the plan has no budget (a run started before budgets)", () => {
    const run = new EngineDriver(budgeted(fanOut(10), undefined));
    run.start();
    expect(run.calls).toHaveLength(10);
    expect(run.instance("W0").attempts[0]?.reserved).toBeUndefined();
  });

  it("gives a child execution what is left and counts what it spent when it ends", () => {
    const steps: StepInput[] = [
      { name: "Sub", stepType: "orchestration", orchestrationId: "orc_child" },
      { name: "After", roleName: "Writer" },
    ];
    const run = new EngineDriver(budgeted(steps, { maxTokens: 1000, maxCostUsd: 1 }));
    run.start();
    expect(run.children[0]?.budget).toEqual({ maxTokens: 1000, maxCostUsd: 1 });
    expect(run.instance("Sub").attempts[0]?.reserved).toEqual({ tokens: 1000, costUsd: 1 });
    run.finishChild("Sub", { ...childCompleted("done"), spent: { tokens: 950, costUsd: 0.5 } });
    expect(run.instance("Sub").attempts[0]?.childSpent).toEqual({ tokens: 950, costUsd: 0.5 });
    expect(run.calls).toHaveLength(0);
    expect(run.run.header).toMatchObject({ status: "failed", errorKind: "budget_exceeded" });
    expect(run.run.header.usage?.children).toEqual({ tokens: 950, costUsd: 0.5 });
  });

  it("refuses a child when the run has nothing left", () => {
    const steps: StepInput[] = [
      { name: "First", roleName: "Writer" },
      { name: "Sub", stepType: "orchestration", orchestrationId: "orc_child" },
    ];
    const run = new EngineDriver(budgeted(steps, { maxCostUsd: 0.002 }, PRICED));
    run.start();
    run.finish("First", { ok: true, text: "spent it all", usage: { ...USAGE, costUsd: 0.002 } });
    expect(run.children).toHaveLength(0);
    expect(run.run.header.error).toMatch(/nothing is left for a child execution/);
  });

  it("a resumed run goes on with what its budget has left", () => {
    const run = new EngineDriver(budgeted(fanOut(2), { maxTokens: 150 }));
    run.start();
    expect(run.calls).toHaveLength(1);
    run.finish("W0", reply("a"));
    expect(run.run.header.errorKind).toBe("budget_exceeded");
    run.resume();
    // W0 used 30 tokens of the 109 it held: W1's worst case fits now.
    expect(run.calls.map((call) => call.name)).toEqual(["W0", "W1"]);
    expect(run.run.header.errorKind).toBeUndefined();
    run.finish("W1", reply("b"));
    expect(run.run.header.status).toBe("completed");
  });

  it("does not wake for a retry while the budget has stopped the run, and cancels it at the end", () => {
    const steps: StepInput[] = [
      { name: "A", roleName: "Writer", parallelGroup: "fan", maxRetries: 2, retryDelay: 1000 },
      { name: "B", roleName: "Writer", parallelGroup: "fan", timeout: 60_000 },
      { name: "C", roleName: "Writer", parallelGroup: "fan" },
    ];
    const probe = new EngineDriver(budgeted(fanOut(1), { maxTokens: 1_000_000 }));
    probe.start();
    const run = new EngineDriver(budgeted(steps, { maxTokens: reservedBy(probe, "W0") * 2 + 50 }));
    run.start();
    expect(run.calls.map((call) => call.name)).toEqual(["A", "B"]);
    const failed = run.finish("A", {
      ok: false,
      error: { kind: "provider", message: "502", retryable: true },
    });
    expect(run.instance("A").status).toBe("waiting_retry");
    expect(failed.wakeAt).toBe(60_000);
    run.finish("B", reply("b"));
    expect(run.run.header).toMatchObject({ status: "failed", errorKind: "budget_exceeded" });
    expect(run.instance("A")).toMatchObject({ status: "cancelled" });
  });

  it("counts a late reply's usage (the call was paid for) against the budget", () => {
    const steps: StepInput[] = [{ name: "S0", roleName: "Writer", maxRetries: 1, timeout: 1000 }];
    const run = new EngineDriver(budgeted(steps, { maxTokens: 1_000_000 }));
    run.start();
    run.wakeWhenDue(); // the first attempt times out
    run.finish("S0", reply("late"), 1);
    expect(run.instance("S0").attempts[0]?.lateResult?.usage).toEqual(USAGE);
    run.wakeWhenDue();
    run.finish("S0", reply("on time"));
    expect(run.run.header.usage).toMatchObject({ calls: 2, tokensIn: 2 * USAGE.tokensIn });
  });
});
