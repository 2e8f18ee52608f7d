// Whole runs through the pure scheduler (durable-objects/engine/decide.ts): conditions (guide Example 4),
// the default input of a step without inputMapping, warnings for missing paths, and the run's output.
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../durable-objects/engine/types";
import {
  EngineDriver,
  GUIDE_EXAMPLE_4,
  LOGIN_REQUEST,
  reply,
  replyJson,
  scripted,
} from "../helpers/engine-driver";

describe("conditions (guide Example 4)", () => {
  const testsWith = (results: JsonValue) => {
    const run = new EngineDriver(GUIDE_EXAMPLE_4, { input: LOGIN_REQUEST });
    run.drive(scripted({ "Generate Code": reply("function login() {}"), "Run Tests": replyJson(results) }));
    return run;
  };

  it("skips Fix Failures when testResults.passed is 1.0, logging why", () => {
    const run = testsWith({ passed: 1.0, failures: [] });
    expect(run.callsOf("Fix Failures")).toEqual([]);
    expect(run.instance("Fix Failures")).toMatchObject({
      status: "skipped",
      reason: "condition testResults.passed (1) < 1 is false",
      attempts: [],
      warnings: [],
    });
    expect(run.run.header).toMatchObject({ status: "completed", output: { passed: 1, failures: [] } });
  });

  it("runs Fix Failures with the code and the failures when testResults.passed is 0.5", () => {
    const run = testsWith({ passed: 0.5, failures: ["rejects a valid email"] });
    expect(run.callsOf("Run Tests")[0]?.input).toEqual({ code: "function login() {}" });
    expect(run.callsOf("Fix Failures").map((call) => call.input)).toEqual([
      { code: "function login() {}", failures: ["rejects a valid email"] },
    ]);
    expect(run.run.header).toMatchObject({ status: "completed", output: "Fix Failures done" });
  });

  it("skips Fix Failures with a warning when the test results are text, so passed cannot be compared", () => {
    const run = new EngineDriver(GUIDE_EXAMPLE_4);
    run.drive(scripted({ "Run Tests": reply("All 12 tests passed") }));
    expect(run.instance("Fix Failures")).toMatchObject({
      status: "skipped",
      reason: "condition testResults.passed (nothing) < 1 is false: the types cannot be compared",
      warnings: ["condition testResults.passed (nothing) < 1: type mismatch, treated as false"],
    });
    expect(run.run.header.status).toBe("completed");
  });

  it("moves past a stage whose steps are all skipped in the same decision", () => {
    const run = new EngineDriver([
      { name: "A" },
      { name: "B1", parallelGroup: "b", condition: { field: "missing", operator: "exists" } },
      { name: "B2", parallelGroup: "b", condition: { field: "A", operator: "==", value: "no" } },
      { name: "C" },
    ]);
    run.start();
    const decision = run.finish("A", reply("yes"));
    expect(decision.commands.map((command) => command.type)).toEqual(["call_model"]);
    expect(run.openCall("C")?.input).toEqual({ input: { topic: "test" }, previous: { A: "yes" } });
    expect([run.instance("B1").status, run.instance("B2").status]).toEqual(["skipped", "skipped"]);
  });

  it("completes at start when every step is skipped, with no output", () => {
    const run = new EngineDriver(
      [{ name: "Only", condition: { field: "input.go", operator: "==", value: true } }],
      {
        input: { go: false },
      },
    );
    const decision = run.start();
    expect(decision.commands).toEqual([{ type: "status_changed", status: "completed" }]);
    expect(run.run.header).toMatchObject({ status: "completed", output: null });
  });

  it("evaluates a condition when its stage starts, against the context at that moment", () => {
    const run = new EngineDriver([
      { name: "Gate", outputMapping: { decision: "{{output.go}}" } },
      { name: "Guarded", condition: { field: "decision", operator: "==", value: "yes" } },
    ]);
    run.drive(scripted({ Gate: replyJson({ go: "yes" }) }));
    expect(run.instance("Guarded").status).toBe("completed");
  });
});

describe("default input", () => {
  it("gives {input} to the first stage and {input, previous} to later ones, previous keyed by step name", () => {
    const run = new EngineDriver(
      [
        { name: "First" },
        { name: "Left", parallelGroup: "g" },
        { name: "Right", parallelGroup: "g" },
        { name: "Last" },
      ],
      { input: { topic: "t" } },
    );
    run.drive(scripted({ First: replyJson({ n: 1 }), Left: reply("l"), Right: replyJson([2]) }));
    expect(run.calls.map((call) => [call.name, call.input])).toEqual([
      ["First", { input: { topic: "t" } }],
      ["Left", { input: { topic: "t" }, previous: { First: { n: 1 } } }],
      ["Right", { input: { topic: "t" }, previous: { First: { n: 1 } } }],
      ["Last", { input: { topic: "t" }, previous: { Left: "l", Right: [2] } }],
    ]);
  });

  it("takes previous from the last stage that completed something, past skipped stages", () => {
    const run = new EngineDriver([
      { name: "A" },
      { name: "Skipped", condition: { field: "nope", operator: "exists" } },
      { name: "C" },
    ]);
    run.drive(scripted({}));
    expect(run.callsOf("C")[0]?.input).toEqual({ input: { topic: "test" }, previous: { A: "A done" } });
  });

  it("gives only {input} when every earlier stage was skipped", () => {
    const run = new EngineDriver([
      { name: "Skipped", condition: { field: "nope", operator: "exists" } },
      { name: "B" },
    ]);
    run.drive(scripted({}));
    expect(run.callsOf("B")[0]?.input).toEqual({ input: { topic: "test" } });
  });

  it("uses an inputMapping instead whenever there is one, even an empty one", () => {
    const run = new EngineDriver([{ name: "A" }, { name: "B", inputMapping: {} }]);
    run.drive(scripted({}));
    expect(run.callsOf("B")[0]?.input).toEqual({});
  });
});

describe("warnings", () => {
  it("records a missing inputMapping path on the step, renders it empty and carries on", () => {
    const run = new EngineDriver([
      { name: "Plan" },
      { name: "Use", inputMapping: { plan: "{{context.plan}}", note: "see {{context.Plan.summary}}" } },
    ]);
    run.drive(scripted({}));
    expect(run.callsOf("Use")[0]?.input).toEqual({ plan: "", note: "see " });
    expect(run.instance("Use").warnings).toEqual([
      "{{context.plan}} resolved to nothing; rendered empty",
      "{{context.Plan.summary}} resolved to nothing; rendered empty",
    ]);
    expect(run.run.header.status).toBe("completed");
  });

  it("records a missing outputMapping path on the step that produced the output", () => {
    const run = new EngineDriver([{ name: "Critic", outputMapping: { score: "{{output.score}}" } }]);
    run.drive(scripted({ Critic: reply("looks good to me") }));
    expect(run.instance("Critic")).toMatchObject({
      status: "completed",
      mapped: { score: "" },
      warnings: ["{{output.score}} resolved to nothing; rendered empty"],
    });
  });

  it("records each warning once, however many attempts render it", () => {
    const run = new EngineDriver([
      { name: "Flaky", maxRetries: 2, retryDelay: 0, inputMapping: { x: "{{context.gone}}" } },
    ]);
    run.drive(
      scripted({ Flaky: [{ ok: false, error: { kind: "provider", message: "502", retryable: true } }] }),
    );
    expect(run.instance("Flaky").attempts).toHaveLength(3);
    expect(run.instance("Flaky").warnings).toEqual(["{{context.gone}} resolved to nothing; rendered empty"]);
  });
});

describe("the run's output", () => {
  it("is the output of a single-step last stage", () => {
    const run = new EngineDriver([{ name: "A" }, { name: "B" }]);
    run.drive(scripted({ B: replyJson({ answer: 42 }) }));
    expect(run.run.header.output).toEqual({ answer: 42 });
  });

  it("is an object by step name when the last stage has several steps", () => {
    const run = new EngineDriver([
      { name: "A" },
      { name: "X", parallelGroup: "g" },
      { name: "Y", parallelGroup: "g" },
    ]);
    run.drive(scripted({ X: reply("x"), Y: replyJson([1, 2]) }));
    expect(run.run.header.output).toEqual({ X: "x", Y: [1, 2] });
  });

  it("leaves skipped members out of the last stage's object", () => {
    const run = new EngineDriver([
      { name: "X", parallelGroup: "g" },
      { name: "Y", parallelGroup: "g" },
      { name: "Z", parallelGroup: "g", condition: { field: "input.z", operator: "exists" } },
    ]);
    run.drive(scripted({}));
    expect(run.run.header.output).toEqual({ X: "X done", Y: "Y done" });
  });

  it("keeps the by-name shape for a group even when only one member ran", () => {
    const skipped = { field: "input.never", operator: "exists" } as const;
    const run = new EngineDriver([
      { name: "X", parallelGroup: "g" },
      { name: "Y", parallelGroup: "g", condition: skipped },
      { name: "Z", parallelGroup: "g", condition: skipped },
    ]);
    run.drive(scripted({ X: replyJson({ x: 1 }) }));
    expect(run.run.header.output).toEqual({ X: { x: 1 } });
  });

  it("falls back to the latest stage that completed something when the last stage was skipped", () => {
    const run = new EngineDriver([
      { name: "A" },
      { name: "B", condition: { field: "input.b", operator: "exists" } },
    ]);
    run.drive(scripted({ A: replyJson({ from: "A" }) }));
    expect(run.run.header.output).toEqual({ from: "A" });
  });

  it("keeps a text reply as text and parses a fenced json block", () => {
    const text = new EngineDriver([{ name: "A" }]);
    text.drive(scripted({ A: reply("plain words") }));
    expect(text.run.header.output).toBe("plain words");
    const fenced = new EngineDriver([{ name: "A" }]);
    fenced.drive(scripted({ A: reply('Result:\n```json\n{"passed": 0.5}\n```') }));
    expect(fenced.run.header.output).toEqual({ passed: 0.5 });
  });
});
