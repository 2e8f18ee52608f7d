// Loops through the pure scheduler: the body runs in order, then `until` is checked (do-while); the loop
// ends when it holds or after maxIterations, with `{ iterations, outputs }`. Inside, {{iteration}} counts
// from 0 and the context holds the latest iteration's outputs. The guide's Ping-Pong runs as one.
import { describe, expect, it } from "vitest";
import {
  EngineDriver,
  type ModelCall,
  PING_PONG_LOOP,
  providerError,
  reply,
  replyJson,
  type StepInput,
  scripted,
} from "../helpers/engine-driver";

/** The iteration a body instance ("<loop>.<iteration>.<step>") belongs to. */
const iterationOf = (call: ModelCall) => Number(call.instance.split(".").at(-2));

const checkUntilOk = (maxIterations: number): StepInput[] => [
  {
    name: "Loop",
    stepType: "loop",
    maxIterations,
    until: { field: "Check.ok", operator: "==", value: true },
    steps: [{ name: "Check" }],
  },
];

describe("a loop", () => {
  it("runs the body once when until holds after the first iteration", () => {
    const run = new EngineDriver(checkUntilOk(3));
    run.drive(scripted({ Check: replyJson({ ok: true }) }));
    expect(run.callsOf("Check")).toHaveLength(1);
    expect(run.instance("Loop")).toMatchObject({
      id: "0",
      status: "completed",
      iteration: 0,
      output: { iterations: 1, outputs: [{ ok: true }] },
      reason: "ended after iteration 0: condition Check.ok (true) == true is true",
    });
    expect(run.statusesById()).toEqual([
      ["0", "completed"],
      ["0.0.0", "completed"],
    ]);
    expect(run.run.header).toMatchObject({
      status: "completed",
      output: { iterations: 1, outputs: [{ ok: true }] },
    });
  });

  it("stops after maxIterations when until never holds, and completes (not fails)", () => {
    const run = new EngineDriver(checkUntilOk(3));
    run.drive(scripted({ Check: (call) => replyJson({ ok: false, round: iterationOf(call) }) }));
    expect(run.callsOf("Check").map((call) => call.instance)).toEqual(["0.0.0", "0.1.0", "0.2.0"]);
    expect(run.instance("Loop")).toMatchObject({
      status: "completed",
      output: {
        iterations: 3,
        outputs: [
          { ok: false, round: 0 },
          { ok: false, round: 1 },
          { ok: false, round: 2 },
        ],
      },
      reason: "ended after 3 iterations (maxIterations); condition Check.ok (false) == true is false",
    });
    expect(run.run.header.status).toBe("completed");
  });

  it("runs exactly maxIterations times without until", () => {
    const run = new EngineDriver([
      { name: "Loop", stepType: "loop", maxIterations: 4, steps: [{ name: "Tick" }] },
    ]);
    run.drive(scripted({}));
    expect(run.callsOf("Tick")).toHaveLength(4);
    expect(run.instance("Loop").reason).toBe("ended after 4 iterations (maxIterations)");
    expect(run.instance("Loop").output).toEqual({ iterations: 4, outputs: Array(4).fill("Tick done") });
  });

  it("runs one iteration after another, the body's stages in order within each", () => {
    const run = new EngineDriver([
      {
        name: "Loop",
        stepType: "loop",
        maxIterations: 2,
        steps: [{ name: "First" }, { name: "Second" }],
      },
    ]);
    run.start();
    expect(run.calls.map((call) => call.instance)).toEqual(["0.0.0"]);
    run.finish("0.0.0", reply("a"));
    expect(run.calls.map((call) => call.instance)).toEqual(["0.0.0", "0.0.1"]);
    run.finish("0.0.1", reply("b"));
    expect(run.instance("Loop").iteration).toBe(1);
    expect(run.calls.map((call) => call.instance)).toEqual(["0.0.0", "0.0.1", "0.1.0"]);
    run.drive(scripted({}));
    expect(run.instance("Loop").output).toEqual({ iterations: 2, outputs: ["b", "Second done"] });
  });

  it("renders {{iteration}} in templates and gives it to a body step's default input", () => {
    const run = new EngineDriver([
      {
        name: "Loop",
        stepType: "loop",
        maxIterations: 3,
        steps: [
          { name: "Mapped", inputMapping: { round: "{{iteration}}", label: "round {{iteration}}" } },
          { name: "Default" },
        ],
      },
    ]);
    run.drive(scripted({ Mapped: (call) => reply(`mapped ${iterationOf(call)}`) }));
    expect(run.callsOf("Mapped").map((call) => call.input)).toEqual([
      { round: 0, label: "round 0" },
      { round: 1, label: "round 1" },
      { round: 2, label: "round 2" },
    ]);
    expect(run.callsOf("Default").map((call) => call.input)).toEqual(
      [0, 1, 2].map((iteration) => ({
        input: { topic: "test" },
        previous: { Mapped: `mapped ${iteration}` },
        iteration,
      })),
    );
  });

  it("evaluates a body step's condition on {{iteration}}", () => {
    const run = new EngineDriver([
      {
        name: "Loop",
        stepType: "loop",
        maxIterations: 3,
        steps: [{ name: "Later", condition: { field: "iteration", operator: ">=", value: 1 } }],
      },
    ]);
    run.drive(scripted({}));
    expect(run.statusesById()).toEqual([
      ["0", "completed"],
      ["0.0.0", "skipped"],
      ["0.1.0", "completed"],
      ["0.2.0", "completed"],
    ]);
    expect(run.instance("Loop").output).toEqual({
      iterations: 3,
      outputs: [null, "Later done", "Later done"],
    });
  });

  it("shows each iteration the latest outputs, and the last iteration's after the loop", () => {
    const run = new EngineDriver([
      {
        name: "Loop",
        stepType: "loop",
        maxIterations: 5,
        until: { field: "Draft", operator: "==", value: "draft 2" },
        steps: [{ name: "Draft" }, { name: "Use", inputMapping: { seen: "{{context.Draft}}" } }],
      },
      { name: "After", inputMapping: { last: "{{context.Draft}}", loop: "{{context.Loop.iterations}}" } },
    ]);
    run.drive(scripted({ Draft: (call) => reply(`draft ${iterationOf(call)}`) }));
    expect(run.callsOf("Use").map((call) => call.input)).toEqual([
      { seen: "draft 0" },
      { seen: "draft 1" },
      { seen: "draft 2" },
    ]);
    expect(run.callsOf("After")[0]?.input).toEqual({ last: "draft 2", loop: 3 });
    expect(run.context()).toMatchObject({ Draft: "draft 2", Use: "Use done" });
  });

  it("gives an iteration whose body is a parallel group an output by step name", () => {
    const run = new EngineDriver([
      {
        name: "Loop",
        stepType: "loop",
        maxIterations: 2,
        steps: [
          { name: "Left", parallelGroup: "g" },
          { name: "Right", parallelGroup: "g" },
        ],
      },
    ]);
    run.drive(scripted({}));
    expect(run.instance("Loop").output).toEqual({
      iterations: 2,
      outputs: [
        { Left: "Left done", Right: "Right done" },
        { Left: "Left done", Right: "Right done" },
      ],
    });
  });

  it("fails, and fails the run, when a body step fails for good", () => {
    const run = new EngineDriver([
      { name: "Loop", stepType: "loop", maxIterations: 3, steps: [{ name: "Work" }] },
      { name: "After" },
    ]);
    run.drive(
      scripted({ Work: (call) => (iterationOf(call) === 1 ? providerError("down", false) : reply("ok")) }),
    );
    expect(run.instance("Loop")).toMatchObject({
      status: "failed",
      iteration: 1,
      error: 'step "Work" failed after 1 attempt: down',
      reason: 'step "Work" failed inside it',
    });
    expect(run.run.header).toMatchObject({
      status: "failed",
      error: 'step "Work" failed after 1 attempt: down',
    });
    expect(run.find("After")).toBeUndefined();
  });

  it("is skipped, body and all, when its own condition is false", () => {
    const run = new EngineDriver([
      {
        name: "Loop",
        stepType: "loop",
        maxIterations: 3,
        condition: { field: "input.retry", operator: "==", value: true },
        steps: [{ name: "Work" }],
      },
      { name: "After" },
    ]);
    run.drive(scripted({}));
    expect(run.statusesById()).toEqual([
      ["0", "skipped"],
      ["1", "completed"],
    ]);
  });

  it("writes its output through its outputMapping when it ends", () => {
    const run = new EngineDriver([
      {
        name: "Loop",
        stepType: "loop",
        maxIterations: 2,
        outputMapping: { rounds: "{{output.iterations}}", last: "{{context.Work}}" },
        steps: [{ name: "Work" }],
      },
      { name: "After", inputMapping: { rounds: "{{context.rounds}}", last: "{{context.last}}" } },
    ]);
    run.drive(scripted({ Work: (call) => reply(`work ${iterationOf(call)}`) }));
    expect(run.callsOf("After")[0]?.input).toEqual({ rounds: 2, last: "work 1" });
  });

  it("runs a loop whose every body step is skipped to its end in one decision", () => {
    const run = new EngineDriver([
      {
        name: "Loop",
        stepType: "loop",
        maxIterations: 100,
        steps: [{ name: "Never", condition: { field: "input.go", operator: "exists" } }],
      },
    ]);
    const decision = run.start();
    expect(decision.commands).toEqual([{ type: "status_changed", status: "completed" }]);
    expect(run.instance("Loop").output).toEqual({ iterations: 100, outputs: Array(100).fill(null) });
    expect(run.run.instances.size).toBe(101);
  });
});

describe("the guide's Ping-Pong as a loop", () => {
  /** The Critic scores each draft from a list, one per iteration. */
  const critic = (scores: number[]) => (call: ModelCall) =>
    replyJson({ score: scores[iterationOf(call)] ?? 0 });
  const refine = (call: ModelCall) => reply(`draft v${iterationOf(call) + 1}`);

  it("refines until the Critic's score reaches 0.8, then stops without refining again", () => {
    const run = new EngineDriver(PING_PONG_LOOP, { input: { topic: "haiku" } });
    run.drive(scripted({ Creator: reply("draft v0"), Critic: critic([0.5, 0.6, 0.9]), Refine: refine }));
    expect(run.calls.map((call) => call.name)).toEqual([
      "Creator",
      "Critic",
      "Refine",
      "Critic",
      "Refine",
      "Critic",
    ]);
    expect(run.callsOf("Critic").map((call) => call.input)).toEqual([
      { draft: "draft v0" },
      { draft: "draft v1" },
      { draft: "draft v2" },
    ]);
    expect(run.callsOf("Refine")[1]?.input).toEqual({ draft: "draft v1", critique: { score: 0.6 } });
    expect(run.instance("1.2.1")).toMatchObject({
      name: "Refine",
      status: "skipped",
      reason: "condition Critic.score (0.9) < 0.8 is false",
    });
    const output = { iterations: 3, outputs: ["draft v1", "draft v2", { score: 0.9 }] };
    expect(run.instance("Refinement")).toMatchObject({ status: "completed", output });
    expect(run.run.header).toMatchObject({ status: "completed", output });
    expect(run.context()).toMatchObject({ draft: "draft v2", Critic: { score: 0.9 }, Refine: "draft v2" });
  });

  it("stops after five rounds when the score never holds, having refined five times", () => {
    const run = new EngineDriver(PING_PONG_LOOP);
    run.drive(scripted({ Critic: critic([0.1, 0.2, 0.3, 0.4, 0.5]), Refine: refine }));
    expect(run.callsOf("Critic")).toHaveLength(5);
    expect(run.callsOf("Refine")).toHaveLength(5);
    expect(run.instance("Refinement").output).toMatchObject({ iterations: 5 });
    expect(run.context().draft).toBe("draft v5");
  });

  it("does not refine at all when the first draft already scores 0.8", () => {
    const run = new EngineDriver(PING_PONG_LOOP);
    run.drive(scripted({ Critic: critic([0.8]) }));
    expect(run.callsOf("Refine")).toEqual([]);
    expect(run.instance("Refinement").output).toEqual({ iterations: 1, outputs: [{ score: 0.8 }] });
  });
});
