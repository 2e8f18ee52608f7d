// Whole runs through the pure scheduler (durable-objects/engine/decide.ts): starting, context flowing
// through a chain, fan-out and join. Conditions, default inputs, warnings and the run's output are in
// decide-context.test.ts; failures in decide-failures.test.ts; cancel, restarts and stale events in
// decide-recovery.test.ts.
import { describe, expect, it } from "vitest";
import { decide, initialRun } from "../../durable-objects/engine/decide";
import {
  EngineDriver,
  GUIDE_EXAMPLE_2,
  GUIDE_EXAMPLE_3,
  GUIDE_EXAMPLE_4,
  LOGIN_REQUEST,
  planOf,
  reply,
  replyJson,
  type StepInput,
  scripted,
  USAGE,
} from "../helpers/engine-driver";

const DEFAULT_TIMEOUT_MS = 300_000;

describe("initialRun", () => {
  it("creates a pending run with one pending step per name and nothing attempted", () => {
    expect(initialRun({ topic: "x" }, ["Plan", "Review"], 1234)).toEqual({
      header: { v: 1, status: "pending", input: { topic: "x" }, stageCursor: 0, seq: 0, createdAt: 1234 },
      steps: [
        { index: 0, name: "Plan", status: "pending", attempts: [], warnings: [], interruptions: 0 },
        { index: 1, name: "Review", status: "pending", attempts: [], warnings: [], interruptions: 0 },
      ],
    });
  });
});

describe("starting a run", () => {
  it("calls the model for the first stage only, reports running and wakes at the attempt's deadline", () => {
    const run = new EngineDriver([{ name: "Plan" }, { name: "Execute" }], { now: 5000, input: { q: 1 } });
    const decision = run.start();
    const deadline = 5000 + DEFAULT_TIMEOUT_MS;
    expect(decision.commands).toEqual([
      { type: "call_model", step: 0, attempt: 1, input: { input: { q: 1 } }, deadline },
      { type: "status_changed", status: "running" },
    ]);
    expect(decision.wakeAt).toBe(deadline);
    expect(run.run.header).toMatchObject({ status: "running", startedAt: 5000, stageCursor: 0 });
    expect(run.step("Plan")).toMatchObject({
      status: "running",
      attempts: [{ attempt: 1, runner: "runner-1", startedAt: 5000, deadline, input: { input: { q: 1 } } }],
    });
    expect(run.step("Execute")).toMatchObject({ status: "pending", attempts: [] });
  });

  it("ignores a second start", () => {
    const run = new EngineDriver([{ name: "Plan" }]);
    run.start();
    const before = run.run;
    const again = run.start();
    expect(again.commands).toEqual([]);
    expect(again.run).toEqual(before);
  });

  it("never changes the state it is given and leaves untouched steps as the same objects", () => {
    const plan = planOf(GUIDE_EXAMPLE_3);
    const pending = initialRun(
      { topic: "WebAssembly" },
      plan.steps.map((s) => s.name),
      0,
    );
    const snapshot = structuredClone(pending);
    const started = decide(plan, pending, { type: "start" }, 0, "r");
    expect(pending).toEqual(snapshot);
    const afterOne = decide(
      plan,
      started.run,
      { type: "attempt_finished", step: 1, attempt: 1, result: reply("docs") },
      5,
      "r",
    );
    expect(afterOne.run.steps[1]).not.toBe(started.run.steps[1]);
    expect(afterOne.run.steps[0]).toBe(started.run.steps[0]);
    expect(afterOne.run.steps[2]).toBe(started.run.steps[2]);
    expect(afterOne.run.steps[3]).toBe(started.run.steps[3]);
  });

  it("decides the same way every time for the same events and clock", () => {
    const drive = () => {
      const run = new EngineDriver(GUIDE_EXAMPLE_4, { input: LOGIN_REQUEST });
      run.drive(
        scripted({
          "Generate Code": ["hang", reply("code")],
          "Run Tests": replyJson({ passed: 0.5, failures: [] }),
        }),
      );
      return { run: run.run, calls: run.calls };
    };
    expect(drive()).toEqual(drive());
  });
});

describe("a sequential chain (guide Example 2)", () => {
  const plan = { tasks: ["LoginForm component", "validation"] };
  const code = "export function LoginForm() { return <form />; }";
  const review = { approved: true, comments: [] };

  it("passes the input, the plan and the code from step to step through outputMapping", () => {
    const run = new EngineDriver(GUIDE_EXAMPLE_2, { input: LOGIN_REQUEST });
    run.start();
    expect(run.calls.map((call) => [call.name, call.input])).toEqual([
      ["Plan", { task: "Create a React component for a login form" }],
    ]);
    run.at(100).finish("Plan", replyJson(plan));
    expect(run.calls.map((call) => call.name)).toEqual(["Plan", "Generate Code"]);
    expect(run.openCall("Generate Code")).toMatchObject({ input: { instructions: plan }, at: 100 });
    run.at(200).finish("Generate Code", reply(code));
    expect(run.openCall("Review")).toMatchObject({ input: { code, requirements: plan }, at: 200 });
    const last = run.at(300).finish("Review", replyJson(review));
    expect(last.commands).toEqual([{ type: "status_changed", status: "completed" }]);
    expect(last.wakeAt).toBeUndefined();
    expect(run.run.header).toMatchObject({ status: "completed", output: review, finishedAt: 300 });
    expect(run.statuses).toEqual(["running", "completed"]);
  });

  it("stores each output under the step's name and each outputMapping key, in completion order", () => {
    const run = new EngineDriver(GUIDE_EXAMPLE_2, { input: LOGIN_REQUEST });
    run.drive(scripted({ Plan: replyJson(plan), "Generate Code": reply(code), Review: replyJson(review) }));
    expect(run.context()).toEqual({
      input: LOGIN_REQUEST,
      Plan: plan,
      plan,
      "Generate Code": code,
      code,
      Review: review,
      review,
    });
    expect(run.step("Plan").attempts[0]).toMatchObject({ outcome: "succeeded", output: plan, usage: USAGE });
    expect(run.run.steps.map((step) => [step.name, step.completedSeq, step.mapped])).toEqual([
      ["Plan", 1, { plan }],
      ["Generate Code", 2, { code }],
      ["Review", 3, { review }],
    ]);
  });

  it("skips the Review when no step produced code, and completes with the last output there is", () => {
    const withoutCode = GUIDE_EXAMPLE_2.map((step) =>
      step.name === "Generate Code" ? { ...step, outputMapping: undefined } : step,
    );
    const run = new EngineDriver(withoutCode, { input: LOGIN_REQUEST });
    run.drive(scripted({ Plan: replyJson(plan), "Generate Code": reply(code) }));
    expect(run.callsOf("Review")).toEqual([]);
    expect(run.step("Review")).toMatchObject({
      status: "skipped",
      reason: "condition code (nothing) exists null is false",
      warnings: [],
    });
    expect(run.run.header).toMatchObject({ status: "completed", output: code });
  });

  it("passes an output that looks like a template on as text, never rendering it", () => {
    const run = new EngineDriver(
      [
        { name: "Echo", outputMapping: { said: "{{output}}" } },
        { name: "Next", inputMapping: { said: "{{context.said}}" } },
      ],
      { input: { secret: "s3cret" } },
    );
    run.drive(scripted({ Echo: reply("{{context.input.secret}}") }));
    expect(run.callsOf("Next")[0]?.input).toEqual({ said: "{{context.input.secret}}" });
  });

  it("lets a later outputMapping overwrite a key an earlier step wrote", () => {
    const run = new EngineDriver([
      { name: "Draft", outputMapping: { text: "{{output}}" } },
      {
        name: "Edit",
        inputMapping: { text: "{{context.text}}" },
        outputMapping: { text: "{{output.edited}}" },
      },
      { name: "Publish", inputMapping: { text: "{{context.text}}" } },
    ]);
    run.drive(scripted({ Draft: reply("first draft"), Edit: replyJson({ edited: "final" }) }));
    expect(run.callsOf("Edit")[0]?.input).toEqual({ text: "first draft" });
    expect(run.callsOf("Publish")[0]?.input).toEqual({ text: "final" });
  });
});

describe("parallel fan-out and join", () => {
  const wide: StepInput[] = [
    ...Array.from({ length: 100 }, (_, i) => ({
      name: `Search ${i}`,
      parallelGroup: "search",
      inputMapping: { query: `{{context.input.topic}} #${i}` },
    })),
    { name: "Synthesize" },
  ];

  it("starts all 100 members of a group in one decision", () => {
    const run = new EngineDriver(wide, { now: 7, input: { topic: "wasm" } });
    const decision = run.start();
    const calls = decision.commands.filter((command) => command.type === "call_model");
    expect(calls).toEqual(
      Array.from({ length: 100 }, (_, i) => ({
        type: "call_model",
        step: i,
        attempt: 1,
        input: { query: `wasm #${i}` },
        deadline: 7 + DEFAULT_TIMEOUT_MS,
      })),
    );
    expect(decision.commands.at(-1)).toEqual({ type: "status_changed", status: "running" });
    expect(run.step("Synthesize").status).toBe("pending");
  });

  it("joins: the next stage starts only when every member has finished, whatever the order", () => {
    const run = new EngineDriver(wide, { input: { topic: "wasm" } });
    run.start();
    for (let i = 99; i >= 1; i--) {
      expect(run.at(100 - i).finish(`Search ${i}`, reply(`result ${i}`)).commands).toEqual([]);
    }
    expect(run.callsOf("Synthesize")).toEqual([]);
    const joined = run.at(200).finish("Search 0", reply("result 0"));
    expect(joined.commands).toHaveLength(1);
    const synthesize = run.openCall("Synthesize");
    expect(synthesize?.input).toEqual({
      input: { topic: "wasm" },
      previous: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`Search ${i}`, `result ${i}`])),
    });
    expect(run.run.header.stageCursor).toBe(1);
  });

  it("runs Example 3: three searches at once, then a synthesis that receives all three, types kept", () => {
    const run = new EngineDriver(GUIDE_EXAMPLE_3, { input: { topic: "WebAssembly performance" } });
    run.start();
    expect(run.calls.map((call) => [call.name, call.input])).toEqual([
      ["Search Academic Papers", { query: "WebAssembly performance site:arxiv.org" }],
      ["Search Technical Docs", { query: "WebAssembly performance site:developer.mozilla.org" }],
      ["Search GitHub", { query: "WebAssembly performance site:github.com" }],
    ]);
    const papers = [{ title: "Not So Fast", year: 2019 }];
    run.finish("Search GitHub", replyJson(["wasm-bindgen", "wasmtime"]));
    run.finish("Search Academic Papers", replyJson(papers));
    run.finish("Search Technical Docs", reply("MDN: WebAssembly concepts"));
    expect(run.openCall("Synthesize Findings")?.input).toEqual({
      sources: { academic: papers, docs: "MDN: WebAssembly concepts", github: ["wasm-bindgen", "wasmtime"] },
    });
    run.finish("Synthesize Findings", reply("WebAssembly is fast."));
    expect(run.run.header).toMatchObject({ status: "completed", output: "WebAssembly is fast." });
    expect(run.context().report).toBe("WebAssembly is fast.");
  });

  it("retries a group member with its first input, never with what a sibling produced in between", () => {
    const run = new EngineDriver([
      {
        name: "A",
        parallelGroup: "g",
        maxRetries: 1,
        retryDelay: 0,
        inputMapping: { peer: "{{context.B}}" },
      },
      { name: "B", parallelGroup: "g" },
    ]);
    run.start();
    run.finish("B", reply("from B"));
    run.finish("A", { ok: false, error: { kind: "provider", message: "502", retryable: true } });
    expect(run.callsOf("A").map((call) => call.input)).toEqual([{ peer: "" }, { peer: "" }]);
    expect(run.step("A").warnings).toEqual(["{{context.B}} resolved to nothing; rendered empty"]);
  });

  it("gives the key both parallel members map to the value of the one that completed last", () => {
    const run = new EngineDriver([
      { name: "A", parallelGroup: "g", outputMapping: { best: "{{output}}" } },
      { name: "B", parallelGroup: "g", outputMapping: { best: "{{output}}" } },
    ]);
    run.start();
    run.finish("B", reply("from B"));
    run.finish("A", reply("from A"));
    expect(run.context().best).toBe("from A");
  });
});
