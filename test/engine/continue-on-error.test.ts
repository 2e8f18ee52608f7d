// continueOnError through the pure scheduler, for every kind: the failure is recorded (status failed,
// `continued`, the error on the instance, `context[name] = { error }`) and the run goes on.
import { describe, expect, it } from "vitest";
import {
  childFailed,
  EngineDriver,
  providerError,
  reply,
  replyJson,
  type StepInput,
  scripted,
} from "../helpers/engine-driver";

/** `step` with continueOnError, then a step that reads what it left in the context. */
const thenRead = (step: StepInput): StepInput[] => [
  { ...step, continueOnError: true },
  { name: "Next", inputMapping: { seen: `{{context['${step.name}']}}` } },
];

describe("continueOnError", () => {
  it("records an agent step's failure after its retries and runs the next step with { error }", () => {
    const run = new EngineDriver(thenRead({ name: "Flaky", maxRetries: 1, retryDelay: 0 }));
    run.drive(scripted({ Flaky: providerError("down") }));
    const error = 'step "Flaky" failed after 2 attempts: down';
    expect(run.instance("Flaky")).toMatchObject({
      status: "failed",
      continued: true,
      error,
      output: { error },
    });
    expect(run.callsOf("Flaky")).toHaveLength(2);
    expect(run.callsOf("Next")[0]?.input).toEqual({ seen: { error } });
    expect(run.context().Flaky).toEqual({ error });
    expect(run.run.header).toMatchObject({ status: "completed", output: "Next done" });
  });

  it("counts a continued failure in the run's output as { error }, as in the context", () => {
    const run = new EngineDriver([{ name: "First" }, { name: "Last", continueOnError: true }]);
    run.drive(scripted({ First: replyJson({ kept: true }), Last: providerError("down", false) }));
    const error = 'step "Last" failed after 1 attempt: down';
    expect(run.run.header).toMatchObject({ status: "completed", output: { error } });
  });

  it("lets the rest of a parallel group and the next stage run", () => {
    const run = new EngineDriver([
      { name: "A", parallelGroup: "g", continueOnError: true },
      { name: "B", parallelGroup: "g" },
      { name: "Join" },
    ]);
    run.drive(scripted({ A: providerError("nope", false) }));
    expect(run.statusesById()).toEqual([
      ["0", "failed"],
      ["1", "completed"],
      ["2", "completed"],
    ]);
    expect(run.callsOf("Join")[0]?.input).toEqual({ input: { topic: "test" }, previous: { B: "B done" } });
  });

  it("records a loop that failed because its body did, and goes on", () => {
    const run = new EngineDriver(
      thenRead({ name: "Rounds", stepType: "loop", maxIterations: 3, steps: [{ name: "Work" }] }),
    );
    run.drive(scripted({ Work: [providerError("broke", false)] }));
    const error = 'step "Work" failed after 1 attempt: broke';
    expect(run.instance("Rounds")).toMatchObject({
      status: "failed",
      continued: true,
      error,
      output: { error },
    });
    expect(run.instance("Work").status).toBe("failed");
    expect(run.instance("Work").continued).toBeUndefined();
    expect(run.callsOf("Next")[0]?.input).toEqual({ seen: { error } });
    expect(run.run.header.status).toBe("completed");
  });

  it("lets a loop go on past a body step that continues on error", () => {
    const run = new EngineDriver([
      {
        name: "Rounds",
        stepType: "loop",
        maxIterations: 2,
        steps: [{ name: "Try", continueOnError: true }, { name: "Note" }],
      },
    ]);
    run.drive(scripted({ Try: providerError("x", false) }));
    expect(run.callsOf("Note")).toHaveLength(2);
    expect(run.instance("Rounds")).toMatchObject({ status: "completed", output: { iterations: 2 } });
  });

  it("records a forEach whose items are not an array, and goes on", () => {
    const run = new EngineDriver(
      thenRead({
        name: "Each",
        stepType: "forEach",
        items: "{{context.input.list}}",
        steps: [{ name: "Do" }],
      }),
      { input: { list: "not a list" } },
    );
    run.drive(scripted({}));
    expect(run.instance("Each")).toMatchObject({ status: "failed", continued: true });
    expect(run.instance("Each").error).toMatch(/must resolve to an array, got "not a list"$/);
    expect(run.callsOf("Next")).toHaveLength(1);
  });

  it("records a failed item inside a forEach and completes the others, its output being { error }", () => {
    const run = new EngineDriver([
      {
        name: "Each",
        stepType: "forEach",
        items: [0, 1, 2],
        steps: [{ name: "Do", continueOnError: true }],
      },
    ]);
    run.drive(
      scripted({ Do: (call) => (call.instance === "0.1.0" ? providerError("bad", false) : reply("ok")) }),
    );
    const error = 'step "Do" failed after 1 attempt: bad';
    expect(run.instance("Each")).toMatchObject({ status: "completed", output: ["ok", { error }, "ok"] });
    expect(run.context("0.1").Do).toEqual({ error });
  });

  it("records a branch whose arm failed, and goes on", () => {
    const run = new EngineDriver(
      thenRead({
        name: "Route",
        stepType: "branch",
        branches: [{ when: { field: "input.topic", operator: "exists" }, steps: [{ name: "Go" }] }],
      }),
    );
    run.drive(scripted({ Go: providerError("no", false) }));
    expect(run.instance("Route")).toMatchObject({ status: "failed", continued: true, branch: 0 });
    expect(run.run.header.status).toBe("completed");
  });

  it("records a child execution that failed, and goes on", () => {
    const run = new EngineDriver(
      thenRead({ name: "Sub", stepType: "orchestration", orchestrationId: "orc_x" }),
    );
    run.drive(scripted({}), () => childFailed("child broke"));
    expect(run.instance("Sub")).toMatchObject({
      status: "failed",
      continued: true,
      error: 'step "Sub" failed after 1 attempt: child broke',
    });
    expect(run.run.header.status).toBe("completed");
  });

  it("records an approval that timed out with onTimeout fail, and goes on", () => {
    const run = new EngineDriver(thenRead({ name: "Gate", stepType: "approval", timeout: 1000 }));
    run.drive(scripted({}));
    expect(run.instance("Gate")).toMatchObject({
      status: "failed",
      continued: true,
      error: 'step "Gate" failed: no approval within 1000 ms',
    });
    expect(run.callsOf("Next")[0]?.input).toEqual({
      seen: { error: 'step "Gate" failed: no approval within 1000 ms' },
    });
  });

  it("records a sleep whose until is not a time, and goes on", () => {
    const run = new EngineDriver(
      thenRead({ name: "Nap", stepType: "sleep", until: "{{context.input.when}}" }),
      {
        input: { when: "soon" },
      },
    );
    run.drive(scripted({}));
    expect(run.instance("Nap")).toMatchObject({ status: "failed", continued: true });
    expect(run.run.header.status).toBe("completed");
  });
});
