// Sizes inside a run through the pure scheduler: a render held to a limit stops as soon as it passes it
// (before it builds the text that would), and a step whose rendered input, reply, child output, mapped
// value or context would pass its limit fails for good with error kind `limit`; a plan pins the limits,
// one without them runs under the defaults. The `fail` event ends a run whose state cannot be stored.
import { describe, expect, it } from "vitest";
import { DEFAULT_RUN_LIMITS, runLimitsOf } from "../../durable-objects/engine/limits";
import {
  budgetFor,
  contextChars,
  jsonChars,
  renderString,
  renderValue,
  SizeLimitExceeded,
} from "../../durable-objects/engine/render";
import type { Plan } from "../../durable-objects/engine/types";
import {
  childCompleted,
  EngineDriver,
  planOf,
  reply,
  replyJson,
  type StepInput,
  scripted,
} from "../helpers/engine-driver";

const limit = (max: number) => ({ max, name: "maxTest", what: "the value" });
const four = (ref: string) => `{{${ref}}}{{${ref}}}{{${ref}}}{{${ref}}}`;

/** A plan of `steps` with `limits` pinned (the schema would refuse some of these steps; a plan is data). */
function planWith(steps: StepInput[], limits: Plan["limits"] = {}): Plan {
  return { ...planOf(steps), limits };
}

describe("a render held to a limit", () => {
  it("throws SizeLimitExceeded naming the limit as soon as the running size passes it", () => {
    const context = { a: "x".repeat(300) };
    const budget = budgetFor(limit(1000));
    expect(() => renderString(four("context.a"), { context }, [], budget)).toThrow(
      new SizeLimitExceeded(limit(1000)),
    );
    expect(new SizeLimitExceeded(limit(1000)).message).toBe("the value is over 1000 characters (maxTest)");
    // The fourth copy is what passes: three were counted.
    expect(budget.used).toBe(1200);
  });

  it("never turns a value into text when its size alone would pass the limit", () => {
    // JSON.stringify would call toJSON; measuring walks the value's own fields up to the limit and stops.
    const huge = {
      toJSON: () => {
        throw new Error("stringified");
      },
      rows: Array.from({ length: 10_000 }, (_, i) => ({ i, text: "row" })),
    };
    expect(() =>
      renderString("all: {{context.huge}}", { context: { huge } }, [], budgetFor(limit(500))),
    ).toThrow(SizeLimitExceeded);
  });

  it("counts a whole-template value without copying it, and an object's keys and nesting", () => {
    const context = { list: ["a", "b"], n: 12 };
    const budget = budgetFor(limit(100));
    const value = renderValue({ items: "{{context.list}}", count: "{{context.n}}" }, { context }, [], budget);
    expect(value).toEqual({ items: ["a", "b"], count: 12 });
    expect(budget.used).toBe(JSON.stringify(value).length);
  });

  it("renders the same as before without a budget", () => {
    expect(renderString("{{context.a}}-{{context.b}}", { context: { a: 1, b: { c: 2 } } }, [])).toBe(
      '1-{"c":2}',
    );
  });

  it("gives {{context}} as a copy, never the live context object that later steps change", () => {
    const context = { input: { q: 1 } };
    const value = renderString("{{context}}", { context }, []);
    expect(value).toEqual(context);
    expect(value).not.toBe(context);
  });

  it("measures JSON sizes up to a limit, and a context entry by entry", () => {
    const value = { a: "xy", b: [1, true, null] };
    expect(jsonChars(value)).toBe(JSON.stringify(value).length);
    expect(jsonChars({ long: "z".repeat(10_000) }, 100)).toBeGreaterThan(100);
    expect(contextChars({ input: value, Step: "done" })).toBe(
      JSON.stringify({ input: value, Step: "done" }).length,
    );
  });
});

describe("limits a step runs under", () => {
  it("takes a plan's pinned limits over the defaults, and the defaults for a plan without them", () => {
    expect(runLimitsOf({})).toEqual(DEFAULT_RUN_LIMITS);
    expect(runLimitsOf({ limits: { maxStepInputChars: 10 } })).toEqual({
      ...DEFAULT_RUN_LIMITS,
      maxStepInputChars: 10,
    });
    expect(DEFAULT_RUN_LIMITS).toEqual({
      maxStepInputChars: 262_144,
      maxStepOutputChars: 262_144,
      maxMappedValueChars: 262_144,
      maxRunContextChars: 2_097_152,
    });
  });

  it("stops the {{context}} x4 growth (a plan saved before it was refused) at the step that would pass a limit", () => {
    const steps = Array.from({ length: 10 }, (_, i) => ({
      name: `Grow ${i}`,
      outputMapping: { a: i === 0 ? "{{context.input.seed}}" : four("context.a") },
    }));
    const plan = planWith(steps);
    // The schema refuses the whole context in a template now; a stored plan may still have it.
    const planted = {
      ...plan,
      steps: plan.steps.map((step, i) =>
        i === 0 ? step : { ...step, outputMapping: { a: four("context") } },
      ),
    };
    const run = new EngineDriver(planted, { input: { seed: "s" } });

    run.drive(scripted({}));

    expect(run.run.header.status).toBe("failed");
    const failed = run.list().find((instance) => instance.status === "failed");
    expect(failed?.attempts.at(-1)?.error).toEqual({
      kind: "limit",
      message: "outputMapping.a is over 262144 characters (maxMappedValueChars)",
      retryable: false,
    });
    expect(run.list().filter((instance) => instance.status === "completed").length).toBeLessThan(9);
  });

  it("fails a step whose rendered input passes maxStepInputChars on an attempt that never called the model", () => {
    const run = new EngineDriver(
      planWith([{ name: "Big", inputMapping: { t: four("context.input.text") } }], {
        maxStepInputChars: 100,
      }),
      { input: { text: "t".repeat(30) } },
    );

    run.start();

    expect(run.calls).toEqual([]);
    expect(run.instance("Big")).toMatchObject({
      status: "failed",
      error:
        'step "Big" failed after 1 attempt: the rendered input is over 100 characters (maxStepInputChars)',
    });
    expect(run.instance("Big").attempts[0]).toMatchObject({ outcome: "failed", input: null });
    expect(run.instance("Big").attempts[0]?.error?.kind).toBe("limit");
  });

  it("holds the default input ({ input, previous }) to the same limit", () => {
    const run = new EngineDriver(
      planWith([{ name: "First" }, { name: "Second" }], { maxStepInputChars: 200 }),
    );
    run.start();
    run.finish("First", reply("r".repeat(300)));
    expect(run.instance("Second").error).toContain("the rendered input is over 200 characters");
  });

  it("fails a reply over maxStepOutputChars without a retry and without keeping it", () => {
    const run = new EngineDriver(planWith([{ name: "Talk", maxRetries: 3 }], { maxStepOutputChars: 50 }));
    run.start();
    run.finish("Talk", reply("w".repeat(51)));
    const talk = run.instance("Talk");
    expect(talk.status).toBe("failed");
    expect(talk.attempts).toHaveLength(1);
    expect(talk.attempts[0]?.output).toBeUndefined();
    expect(talk.error).toBe(
      'step "Talk" failed after 1 attempt: the reply is over 50 characters (maxStepOutputChars)',
    );
  });

  it("fails a child execution's output over maxStepOutputChars", () => {
    const run = new EngineDriver(
      planWith([{ name: "Child", stepType: "orchestration", orchestrationId: "orc_x" }], {
        maxStepOutputChars: 20,
      }),
    );
    run.start();
    run.finishChild("Child", childCompleted({ text: "c".repeat(40) }));
    expect(run.instance("Child").error).toBe(
      `step "Child" failed after 1 attempt: the child execution's output is over 20 characters (maxStepOutputChars)`,
    );
  });

  it("fails the step whose output would take the context past maxRunContextChars, or continues on error", () => {
    const steps = [
      { name: "One" },
      { name: "Two", continueOnError: true },
      { name: "Three" },
    ] satisfies StepInput[];
    const run = new EngineDriver(planWith(steps, { maxRunContextChars: 450 }));
    run.drive(
      scripted({ One: replyJson({ text: "o".repeat(150) }), Two: replyJson({ text: "t".repeat(300) }) }),
    );
    expect(run.instance("Two")).toMatchObject({
      status: "failed",
      continued: true,
      error: `step "Two" failed after 1 attempt: the run's context would be over 450 characters (maxRunContextChars)`,
    });
    expect(run.instance("Three").status).toBe("completed");
    expect(run.run.header.status).toBe("completed");
  });

  it("fails an approval whose rendered message passes maxStepInputChars", () => {
    const run = new EngineDriver(
      planWith([{ name: "Ask", stepType: "approval", message: `Approve ${four("context.input.text")}?` }], {
        maxStepInputChars: 100,
      }),
      { input: { text: "m".repeat(30) } },
    );
    run.start();
    expect(run.instance("Ask").error).toBe(
      'step "Ask" failed: the rendered message is over 100 characters (maxStepInputChars)',
    );
    expect(run.run.header.status).toBe("failed");
  });
});

describe("the fail event (the shell could not store the run's next state)", () => {
  it("ends a running run failed with the reason, aborting the call in flight", () => {
    const run = new EngineDriver(planOf([{ name: "Slow" }]));
    run.start();
    run.send({ type: "fail", reason: "the run's state could not be stored: too large" });
    expect(run.run.header).toMatchObject({
      status: "failed",
      error: "the run's state could not be stored: too large",
    });
    expect(run.instance("Slow").status).toBe("cancelled");
    expect(run.aborts.map((abort) => abort.instance)).toEqual(["0"]);
  });

  it("changes nothing on a run that has ended", () => {
    const run = new EngineDriver(planOf([{ name: "Quick" }]));
    run.drive(scripted({}));
    const before = run.run.header;
    run.send({ type: "fail", reason: "late" });
    expect(run.run.header).toEqual(before);
  });
});
