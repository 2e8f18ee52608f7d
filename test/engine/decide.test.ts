// Whole runs through the pure scheduler (durable-objects/engine/decide.ts): starting, context flowing
// through a chain, fan-out and join. Conditions, default inputs, warnings and the run's output are in
// decide-context.test.ts; failures in decide-failures.test.ts; cancel, restarts and stale events in
// decide-recovery.test.ts.
import { describe, expect, it } from "vitest";
import { decide, initialRun } from "../../durable-objects/engine/decide";
import { applyDecision } from "../../durable-objects/engine/transition";
import {
  EngineDriver,
  expectNoChange,
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
  it("creates a pending run with no instances and nothing attempted", () => {
    expect(initialRun({ topic: "x" }, 1234)).toEqual({
      header: { v: 2, status: "pending", input: { topic: "x" }, seq: 0, createdAt: 1234 },
      instances: new Map(),
    });
  });
});

describe("starting a run", () => {
  it("calls the model for the first stage only, reports running and wakes at the attempt's deadline", () => {
    const run = new EngineDriver([{ name: "Plan" }, { name: "Execute" }], { now: 5000, input: { q: 1 } });
    const decision = run.start();
    const deadline = 5000 + DEFAULT_TIMEOUT_MS;
    expect(decision.commands).toEqual([
      { type: "call_model", instance: "0", attempt: 1, input: { input: { q: 1 } }, deadline },
      { type: "status_changed", status: "running" },
    ]);
    expect(decision.wakeAt).toBe(deadline);
    expect(run.run.header).toMatchObject({ status: "running", startedAt: 5000 });
    expect(run.instance("Plan")).toMatchObject({
      id: "0",
      status: "running",
      wait: { kind: "call", attempt: 1 },
      attempts: [{ attempt: 1, runner: "runner-1", startedAt: 5000, deadline, input: { input: { q: 1 } } }],
    });
    // A later stage has no instance until its stage comes up.
    expect(run.find("Execute")).toBeUndefined();
    expect(decision.changed.map((instance) => instance.id)).toEqual(["0"]);
  });

  it("ignores a second start", () => {
    const run = new EngineDriver([{ name: "Plan" }]);
    run.start();
    expectNoChange(run, () => run.start());
  });

  it("never changes the state it is given and lists only the records it replaced", () => {
    const plan = planOf(GUIDE_EXAMPLE_3);
    const pending = initialRun({ topic: "WebAssembly" }, 0);
    const snapshot = structuredClone(pending);
    const inputs = { now: 0, runner: "r", newExecutionId: () => "unused" };
    const startDecision = decide(plan, pending, [{ type: "start" }], inputs);
    expect(pending).toEqual(snapshot);
    const started = applyDecision(pending, startDecision);
    const startedSnapshot = structuredClone(started);
    const afterOne = decide(
      plan,
      started,
      [{ type: "attempt_finished", instance: "1", attempt: 1, result: reply("docs") }],
      { ...inputs, now: 5 },
    );
    expect(started).toEqual(startedSnapshot);
    expect(afterOne.changed.map((instance) => instance.id)).toEqual(["1"]);
    const next = applyDecision(started, afterOne);
    expect(next.instances.get("1")).not.toBe(started.instances.get("1"));
    expect(next.instances.get("0")).toBe(started.instances.get("0"));
    expect(next.instances.get("2")).toBe(started.instances.get("2"));
    expect(next.instances.get("3")).toBe(started.instances.get("3"));
  });

  it("throws rather than write into a frozen state, which is how the driver proves decide never does", () => {
    const run = new EngineDriver([{ name: "Plan" }]);
    run.start();
    const instance = run.instance("Plan");
    expect(() => {
      (instance as { status: string }).status = "completed";
    }).toThrow(TypeError);
    expect(() => (run.run.instances as Map<string, unknown>).set("9", instance)).toThrow(TypeError);
    expect(() => (run.run.instances as Map<string, unknown>).delete("0")).toThrow(TypeError);
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
      return { header: run.run.header, instances: run.list(), calls: run.calls };
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
    expect(run.instance("Plan").attempts[0]).toMatchObject({
      outcome: "succeeded",
      output: plan,
      usage: USAGE,
    });
    expect(run.list().map((step) => [step.name, step.completedSeq, step.mapped])).toEqual([
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
    expect(run.instance("Review")).toMatchObject({
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
        instance: String(i),
        attempt: 1,
        input: { query: `wasm #${i}` },
        deadline: 7 + DEFAULT_TIMEOUT_MS,
      })),
    );
    expect(decision.commands.at(-1)).toEqual({ type: "status_changed", status: "running" });
    expect(run.find("Synthesize")).toBeUndefined();
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
    // The ready set moved on: every search completed, the synthesis is the one instance running.
    expect(run.list().filter((instance) => instance.status !== "completed")).toEqual([
      expect.objectContaining({ id: "100", name: "Synthesize", status: "running" }),
    ]);
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
        // Naming the sibling step itself is refused at save time; a key it maps is only a warning.
        inputMapping: { peer: "{{context.peer}}" },
      },
      { name: "B", parallelGroup: "g", outputMapping: { peer: "{{output}}" } },
    ]);
    run.start();
    run.finish("B", reply("from B"));
    expect(run.context().peer).toBe("from B");
    run.finish("A", { ok: false, error: { kind: "provider", message: "502", retryable: true } });
    expect(run.callsOf("A").map((call) => call.input)).toEqual([{ peer: "" }, { peer: "" }]);
    expect(run.instance("A").warnings).toEqual(["{{context.peer}} resolved to nothing; rendered empty"]);
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
