// forEach through the pure scheduler: the body runs once per item, at most `concurrency` items at a
// time and started in item order; {{item}} and {{index}} in the body; each item its own context scope;
// the output is an array in item order; items that are not an array fail the step with a clear error.
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../durable-objects/engine/types";
import {
  EngineDriver,
  type ModelCall,
  planOf,
  providerError,
  reply,
  replyJson,
  type StepInput,
  scripted,
} from "../helpers/engine-driver";

/** The item index a body instance ("<forEach>.<item>.<step>") belongs to. */
const itemOf = (id: string) => Number(id.split(".").at(-2));

/** A Planner whose reply is the task list, a forEach "Work" over it, and a step reading its output. */
const plannedWork = (concurrency?: number): StepInput[] => [
  { name: "Planner" },
  {
    name: "Work",
    stepType: "forEach",
    items: "{{context.Planner.tasks}}",
    ...(concurrency ? { concurrency } : {}),
    steps: [{ name: "Do", inputMapping: { task: "{{item}}", n: "{{index}}" } }],
  },
  { name: "Summarize", inputMapping: { all: "{{context.Work}}" } },
];
const tasks = (list: JsonValue) => replyJson({ tasks: list });

describe("forEach", () => {
  it("runs the body once per item with {{item}} and {{index}}, then the next step gets the outputs in item order", () => {
    const run = new EngineDriver(plannedWork());
    run.drive(
      scripted({
        Planner: tasks(["a", "b", "c"]),
        Do: (call) => reply(`did ${call.input && (call.input as { task: string }).task}`),
      }),
    );
    expect(run.callsOf("Do").map((call) => [call.instance, call.input])).toEqual([
      ["1.0.0", { task: "a", n: 0 }],
      ["1.1.0", { task: "b", n: 1 }],
      ["1.2.0", { task: "c", n: 2 }],
    ]);
    expect(run.instance("Work")).toMatchObject({
      status: "completed",
      items: ["a", "b", "c"],
      output: ["did a", "did b", "did c"],
    });
    expect(run.callsOf("Summarize")[0]?.input).toEqual({ all: ["did a", "did b", "did c"] });
  });

  it("never has more than `concurrency` items in flight, and starts them in item order", () => {
    const run = new EngineDriver(plannedWork(2));
    run.start();
    run.finish("Planner", tasks(["a", "b", "c", "d", "e", "f"]));
    let most = 0;
    // Answer the newest open call first, so items finish out of order.
    for (let open = [...run.open.values()]; open.length > 0; open = [...run.open.values()]) {
      most = Math.max(most, open.filter((call) => call.name === "Do").length);
      const newest = open.at(-1) as ModelCall;
      run.finish(newest.instance, reply(`out ${newest.instance}`));
    }
    expect(most).toBe(2);
    expect(run.callsOf("Do").map((call) => itemOf(call.instance))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(run.instance("Work").output).toEqual([0, 1, 2, 3, 4, 5].map((i) => `out 1.${i}.0`));
    expect(run.run.header.status).toBe("completed");
  });

  it("keeps the output in item order when items finish in reverse", () => {
    const run = new EngineDriver(plannedWork());
    run.start();
    run.finish("Planner", tasks(["x", "y", "z"]));
    for (const id of ["1.2.0", "1.0.0", "1.1.0"]) run.finish(id, reply(`done ${id}`));
    expect(run.instance("Work").output).toEqual(["done 1.0.0", "done 1.1.0", "done 1.2.0"]);
    // Each item's output settled as it finished; the forEach itself settled after the last.
    const seq = (id: string) => run.instance(id).completedSeq ?? 0;
    expect(seq("1.2.0")).toBeLessThan(seq("1.0.0"));
    expect(seq("1.1.0")).toBeLessThan(seq("1"));
  });

  it("starts all items at once up to the default concurrency of 10", () => {
    const run = new EngineDriver([
      {
        name: "Work",
        stepType: "forEach",
        items: Array.from({ length: 12 }, (_, i) => i),
        steps: [{ name: "Do" }],
      },
    ]);
    run.start();
    expect(run.open.size).toBe(10);
    run.finish("0.3.0", reply("three"));
    expect([...run.open.values()].map((call) => itemOf(call.instance))).toEqual([
      0, 1, 2, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });

  it("fails the step with a clear error when items do not resolve to an array", () => {
    const run = new EngineDriver(plannedWork());
    run.drive(scripted({ Planner: replyJson({ tasks: { first: "a" } }) }));
    const error =
      'step "Work" failed: items {{context.Planner.tasks}} must resolve to an array, got {"first":"a"}';
    expect(run.instance("Work")).toMatchObject({ status: "failed", error });
    expect(run.run.header).toMatchObject({ status: "failed", error });
    expect(run.callsOf("Do")).toEqual([]);
    expect(run.find("Summarize")).toBeUndefined();
  });

  it("says it got nothing when the items path resolves to nothing", () => {
    const run = new EngineDriver(plannedWork());
    run.drive(scripted({ Planner: reply("no list here") }));
    expect(run.run.header.error).toBe(
      'step "Work" failed: items {{context.Planner.tasks}} must resolve to an array, got nothing',
    );
  });

  it("gives [] for an empty list, at once, and carries on", () => {
    const run = new EngineDriver(plannedWork());
    run.drive(scripted({ Planner: tasks([]) }));
    expect(run.instance("Work")).toMatchObject({ status: "completed", output: [] });
    expect(run.callsOf("Summarize")[0]?.input).toEqual({ all: [] });
    expect(run.list().map((instance) => instance.id)).toEqual(["0", "1", "2"]);
  });

  it("fails a list of more than 1000 items", () => {
    const run = new EngineDriver(plannedWork());
    run.drive(scripted({ Planner: tasks(Array.from({ length: 1001 }, (_, i) => i)) }));
    expect(run.run.header.error).toBe('step "Work" failed: 1001 items; a forEach takes at most 1000');
  });

  it("fails items too large to keep in one record, before any item starts", () => {
    // A reply this long passes the default maxStepOutputChars; a tenant's plan may raise that one.
    const run = new EngineDriver({ ...planOf(plannedWork()), limits: { maxStepOutputChars: 2_000_000 } });
    const big = "x".repeat(2000);
    run.drive(scripted({ Planner: tasks(Array.from({ length: 600 }, () => big)) }));
    expect(run.run.header.error).toMatch(
      /^step "Work" failed: its items are \d+ characters of JSON; a forEach takes at most 1000000/,
    );
    expect(run.callsOf("Do")).toEqual([]);
  });

  it("takes a literal array, and reads object items by path", () => {
    const run = new EngineDriver([
      {
        name: "Work",
        stepType: "forEach",
        items: [{ title: "one" }, { title: "two" }],
        steps: [
          { name: "Do", inputMapping: { title: "{{item.title}}", text: "#{{index}}: {{item.title}}" } },
        ],
      },
    ]);
    run.drive(scripted({}));
    expect(run.callsOf("Do").map((call) => call.input)).toEqual([
      { title: "one", text: "#0: one" },
      { title: "two", text: "#1: two" },
    ]);
  });

  it("gives a body step without inputMapping the item, its index and what preceded the forEach", () => {
    const run = new EngineDriver([
      { name: "Plan" },
      { name: "Work", stepType: "forEach", items: ["p", "q"], steps: [{ name: "Do" }] },
    ]);
    run.drive(scripted({}));
    expect(run.callsOf("Do").map((call) => call.input)).toEqual([
      { input: { topic: "test" }, previous: { Plan: "Plan done" }, item: "p", index: 0 },
      { input: { topic: "test" }, previous: { Plan: "Plan done" }, item: "q", index: 1 },
    ]);
  });

  it("gives each item its own scope: a body step reads its own item's outputs, never another's", () => {
    const run = new EngineDriver([
      { name: "Plan", outputMapping: { style: "{{output}}" } },
      {
        name: "Work",
        stepType: "forEach",
        items: ["a", "b"],
        steps: [
          { name: "Draft", outputMapping: { latest: "{{output}}" } },
          {
            name: "Check",
            inputMapping: {
              draft: "{{context.Draft}}",
              latest: "{{context.latest}}",
              style: "{{context.style}}",
            },
          },
        ],
      },
      { name: "After", inputMapping: { work: "{{context.Work}}", latest: "{{context.latest}}" } },
    ]);
    run.start();
    run.finish("Plan", reply("terse"));
    // Item 1's draft settles first; item 0 must still see only its own.
    run.finish("1.1.0", reply("draft b"));
    run.finish("1.0.0", reply("draft a"));
    expect(run.openCall("1.0.1")?.input).toEqual({ draft: "draft a", latest: "draft a", style: "terse" });
    expect(run.openCall("1.1.1")?.input).toEqual({ draft: "draft b", latest: "draft b", style: "terse" });
    run.drive(scripted({ Check: (call) => reply(`checked ${itemOf(call.instance)}`) }));
    expect(run.context("1.0")).toMatchObject({ Draft: "draft a", latest: "draft a", Plan: "terse" });
    expect(run.context("1.1")).toMatchObject({ Draft: "draft b", latest: "draft b" });
    // Outside, only the forEach's output is in the context.
    expect(run.context()).not.toHaveProperty("Draft");
    expect(run.context()).not.toHaveProperty("latest");
    expect(run.callsOf("After")[0]?.input).toEqual({ work: ["checked 0", "checked 1"], latest: "" });
  });

  it("fails when an item's body fails, cancelling the items still running and starting no more", () => {
    const run = new EngineDriver([
      { name: "Work", stepType: "forEach", items: [0, 1, 2, 3], concurrency: 3, steps: [{ name: "Do" }] },
    ]);
    run.start();
    run.finish("0.0.0", reply("ok"));
    const failed = run.finish("0.1.0", providerError("bad item", false));
    const reason = 'step "Do" failed';
    expect(failed.commands).toEqual([
      { type: "abort", instance: "0.2.0", attempt: 1, reason },
      { type: "abort", instance: "0.3.0", attempt: 1, reason },
      { type: "status_changed", status: "failed" },
    ]);
    expect(run.statusesById()).toEqual([
      ["0", "failed"],
      ["0.0.0", "completed"],
      ["0.1.0", "failed"],
      ["0.2.0", "cancelled"],
      ["0.3.0", "cancelled"],
    ]);
    expect(run.instance("Work")).toMatchObject({
      error: 'step "Do" failed after 1 attempt: bad item',
      reason: 'step "Do" failed inside it',
    });
  });

  it("gives an item whose body was skipped the output null", () => {
    const run = new EngineDriver([
      {
        name: "Work",
        stepType: "forEach",
        items: [1, 2, 3],
        steps: [{ name: "Odd", condition: { field: "item", operator: "in", value: [1, 3] } }],
      },
    ]);
    run.drive(scripted({}));
    expect(run.instance("Work").output).toEqual(["Odd done", null, "Odd done"]);
  });
});
