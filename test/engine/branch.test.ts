// Branches through the pure scheduler: the first arm whose `when` holds runs (else `otherwise`, else
// nothing, with output null); the branch's output is its arm's last output; the arm's outputs stay in
// the context afterwards. Pure: the engine decides, the driver feeds it.
import { describe, expect, it } from "vitest";
import { EngineDriver, providerError, replyJson, type StepInput, scripted } from "../helpers/engine-driver";

const routed = (withOtherwise = true): StepInput[] => [
  { name: "Score" },
  {
    name: "Route",
    stepType: "branch",
    branches: [
      { when: { field: "Score.value", operator: ">=", value: 0.8 }, steps: [{ name: "Publish" }] },
      {
        when: { field: "Score.value", operator: ">=", value: 0.5 },
        steps: [{ name: "Revise" }, { name: "Recheck" }],
      },
    ],
    ...(withOtherwise ? { otherwise: [{ name: "Rewrite" }] } : {}),
  },
  { name: "After", inputMapping: { route: "{{context.Route}}" } },
];
const scored = (value: number, withOtherwise = true) => {
  const run = new EngineDriver(routed(withOtherwise));
  run.drive(scripted({ Score: replyJson({ value }) }));
  return run;
};

describe("a branch", () => {
  it("runs the first arm whose condition holds, even when a later one holds too", () => {
    const run = scored(0.9);
    expect(run.calls.map((call) => call.name)).toEqual(["Score", "Publish", "After"]);
    expect(run.instance("Route")).toMatchObject({
      status: "completed",
      branch: 0,
      output: "Publish done",
      reason: "branch 0 taken: condition Score.value (0.9) >= 0.8 is true",
    });
    expect(run.instance("Publish").id).toBe("1.0.0");
    expect(run.callsOf("After")[0]?.input).toEqual({ route: "Publish done" });
  });

  it("runs a later arm when only it holds, its last step's output being the branch's", () => {
    const run = scored(0.6);
    expect(run.calls.map((call) => call.name)).toEqual(["Score", "Revise", "Recheck", "After"]);
    expect(run.instance("Route")).toMatchObject({ branch: 1, output: "Recheck done" });
    expect(run.statusesById()).toEqual([
      ["0", "completed"],
      ["1", "completed"],
      ["1.1.0", "completed"],
      ["1.1.1", "completed"],
      ["2", "completed"],
    ]);
  });

  it("runs otherwise when no arm holds, as slot branches.length, saying why", () => {
    const run = scored(0.1);
    expect(run.calls.map((call) => call.name)).toEqual(["Score", "Rewrite", "After"]);
    expect(run.instance("Route")).toMatchObject({
      branch: 2,
      output: "Rewrite done",
      reason:
        "otherwise taken: condition Score.value (0.1) >= 0.8 is false; condition Score.value (0.1) >= 0.5 is false",
    });
    expect(run.instance("Rewrite").id).toBe("1.2.0");
  });

  it("completes with output null when nothing holds and there is no otherwise, and the run goes on", () => {
    const run = scored(0.1, false);
    expect(run.instance("Route")).toMatchObject({
      status: "completed",
      branch: null,
      output: null,
      reason:
        "no branch taken and there is no otherwise: condition Score.value (0.1) >= 0.8 is false; condition Score.value (0.1) >= 0.5 is false",
    });
    expect(run.callsOf("After")[0]?.input).toEqual({ route: null });
    expect(run.run.header.status).toBe("completed");
  });

  it("warns and takes no arm whose condition cannot be compared", () => {
    const run = new EngineDriver(routed());
    run.drive(scripted({ Score: replyJson({ value: "high" }) }));
    expect(run.instance("Route").branch).toBe(2);
    expect(run.instance("Route").warnings).toEqual([
      'condition Score.value ("high") >= 0.8: type mismatch, treated as false',
      'condition Score.value ("high") >= 0.5: type mismatch, treated as false',
    ]);
  });

  it("leaves the arm's outputs in the context after the branch", () => {
    const run = new EngineDriver([
      {
        name: "Route",
        stepType: "branch",
        branches: [{ when: { field: "input.go", operator: "==", value: true }, steps: [{ name: "Go" }] }],
      },
      { name: "Next", inputMapping: { went: "{{context.Go}}" } },
    ]);
    run.drive(scripted({}));
    expect(run.callsOf("Next")[0]?.input).toEqual({ went: "" });
    const go = new EngineDriver(run.plan, { input: { go: true } });
    go.drive(scripted({}));
    expect(go.callsOf("Next")[0]?.input).toEqual({ went: "Go done" });
  });

  it("fails, and fails the run, when a step of the arm fails", () => {
    const run = new EngineDriver(routed());
    run.drive(scripted({ Score: replyJson({ value: 1 }), Publish: providerError("refused", false) }));
    expect(run.instance("Route")).toMatchObject({
      status: "failed",
      branch: 0,
      reason: 'step "Publish" failed inside it',
    });
    expect(run.run.header).toMatchObject({
      status: "failed",
      error: 'step "Publish" failed after 1 attempt: refused',
    });
  });
});
