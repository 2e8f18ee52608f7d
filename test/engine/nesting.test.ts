// Step kinds inside each other through the pure scheduler: a forEach inside a loop, a branch inside a
// forEach, a loop inside a forEach, a child execution per item; instance ids extend their container's,
// scopes nest (an item sees the enclosing context), and the run's instance count is bounded.
import { describe, expect, it } from "vitest";
import { INSTANCES_MAX } from "../../durable-objects/engine/limits";
import { childCompleted, EngineDriver, type ModelCall, reply, scripted } from "../helpers/engine-driver";

describe("nesting", () => {
  it("runs a forEach inside a loop: every item of every iteration, with {{item}} and {{iteration}}", () => {
    const run = new EngineDriver([
      {
        name: "Rounds",
        stepType: "loop",
        maxIterations: 2,
        steps: [
          {
            name: "Each",
            stepType: "forEach",
            items: ["x", "y"],
            steps: [
              { name: "Do", inputMapping: { item: "{{item}}", index: "{{index}}", round: "{{iteration}}" } },
            ],
          },
        ],
      },
    ]);
    const label = (call: ModelCall) => {
      const { item, round } = call.input as { item: string; round: number };
      return reply(`${item}@${round}`);
    };
    run.drive(scripted({ Do: label }));
    expect(run.callsOf("Do").map((call) => [call.instance, call.input])).toEqual([
      ["0.0.0.0.0", { item: "x", index: 0, round: 0 }],
      ["0.0.0.1.0", { item: "y", index: 1, round: 0 }],
      ["0.1.0.0.0", { item: "x", index: 0, round: 1 }],
      ["0.1.0.1.0", { item: "y", index: 1, round: 1 }],
    ]);
    expect(run.instance("Rounds").output).toEqual({
      iterations: 2,
      outputs: [
        ["x@0", "y@0"],
        ["x@1", "y@1"],
      ],
    });
    expect(run.context("0.1.0.1")).toMatchObject({ Do: "y@1" });
    expect(run.context()).toMatchObject({ Each: ["x@1", "y@1"] });
  });

  it("ends a loop on its forEach's output", () => {
    const run = new EngineDriver([
      {
        name: "Rounds",
        stepType: "loop",
        maxIterations: 5,
        until: { field: "Each", operator: "contains", value: "stop" },
        steps: [{ name: "Each", stepType: "forEach", items: [0, 1], steps: [{ name: "Do" }] }],
      },
    ]);
    run.drive(scripted({ Do: (call) => reply(call.instance === "0.2.0.1.0" ? "stop" : "go") }));
    expect(run.instance("Rounds").output).toMatchObject({ iterations: 3 });
  });

  it("runs a branch inside a forEach: each item takes its own arm", () => {
    const run = new EngineDriver([
      {
        name: "Triage",
        stepType: "forEach",
        items: [{ kind: "bug" }, { kind: "feature" }, { kind: "chore" }],
        steps: [
          {
            name: "Route",
            stepType: "branch",
            branches: [
              {
                when: { field: "item.kind", operator: "==", value: "bug" },
                steps: [{ name: "Fix", inputMapping: { what: "{{item.kind}} #{{index}}" } }],
              },
              { when: { field: "item.kind", operator: "==", value: "feature" }, steps: [{ name: "Build" }] },
            ],
            otherwise: [{ name: "Ignore", stepType: "sleep", duration: 0 }],
          },
        ],
      },
    ]);
    run.drive(
      scripted({ Build: (call) => reply(`built ${(call.input as { item: { kind: string } }).item.kind}`) }),
    );
    expect(run.instancesOf("Route").map((route) => [route.id, route.branch])).toEqual([
      ["0.0.0", 0],
      ["0.1.0", 1],
      ["0.2.0", 2],
    ]);
    expect(run.callsOf("Fix").map((call) => [call.instance, call.input])).toEqual([
      ["0.0.0.0.0", { what: "bug #0" }],
    ]);
    expect(run.callsOf("Build")[0]?.input).toEqual({
      input: { topic: "test" },
      item: { kind: "feature" },
      index: 1,
    });
    expect(run.instance("Triage").output).toEqual([
      "Fix done",
      "built feature",
      { sleptUntil: new Date(0).toISOString() },
    ]);
  });

  it("runs a loop inside a forEach, each item iterating on its own", () => {
    const run = new EngineDriver([
      {
        name: "Each",
        stepType: "forEach",
        items: [1, 3],
        steps: [
          {
            name: "Count",
            stepType: "loop",
            maxIterations: 5,
            until: { field: "Tick", operator: ">=", value: 2 },
            steps: [{ name: "Tick", inputMapping: { n: "{{iteration}}" } }],
          },
        ],
      },
    ]);
    run.drive(scripted({ Tick: (call) => reply(String((call.input as { n: number }).n)) }));
    expect(run.instancesOf("Count").map((count) => count.output)).toEqual([
      { iterations: 3, outputs: [0, 1, 2] },
      { iterations: 3, outputs: [0, 1, 2] },
    ]);
  });

  it("reads the enclosing context inside an item, and items from an outer item", () => {
    const run = new EngineDriver([
      { name: "Plan", outputMapping: { tone: "{{output.tone}}" } },
      {
        name: "Groups",
        stepType: "forEach",
        items: "{{context.Plan.groups}}",
        steps: [
          {
            name: "Members",
            stepType: "forEach",
            items: "{{item.members}}",
            steps: [{ name: "Greet", inputMapping: { who: "{{item}}", tone: "{{context.tone}}" } }],
          },
        ],
      },
    ]);
    run.drive(
      scripted({
        Plan: reply('{"tone": "warm", "groups": [{"members": ["ada", "bob"]}, {"members": ["cy"]}]}'),
      }),
    );
    expect(run.callsOf("Greet").map((call) => [call.instance, call.input])).toEqual([
      ["1.0.0.0.0", { who: "ada", tone: "warm" }],
      ["1.0.0.1.0", { who: "bob", tone: "warm" }],
      ["1.1.0.0.0", { who: "cy", tone: "warm" }],
    ]);
    expect(run.instance("Groups").output).toEqual([["Greet done", "Greet done"], ["Greet done"]]);
  });

  it("starts a child execution per item, each with a fresh id", () => {
    const run = new EngineDriver([
      {
        name: "Each",
        stepType: "forEach",
        items: ["a", "b", "c"],
        concurrency: 2,
        steps: [
          {
            name: "Sub",
            stepType: "orchestration",
            orchestrationId: "orc_x",
            inputMapping: { item: "{{item}}" },
          },
        ],
      },
    ]);
    run.drive(scripted({}), (child) => childCompleted(`child of ${(child.input as { item: string }).item}`));
    expect(run.children.map((child) => [child.instance, child.executionId, child.input])).toEqual([
      ["0.0.0", "child-1", { item: "a" }],
      ["0.1.0", "child-2", { item: "b" }],
      ["0.2.0", "child-3", { item: "c" }],
    ]);
    expect(run.instance("Each").output).toEqual(["child of a", "child of b", "child of c"]);
  });

  it(`fails a run that would create more than ${INSTANCES_MAX} step instances`, () => {
    const run = new EngineDriver([
      {
        name: "Rounds",
        stepType: "loop",
        maxIterations: 100,
        steps: [
          {
            name: "Each",
            stepType: "forEach",
            items: Array.from({ length: 300 }, (_, i) => i),
            concurrency: 100,
            steps: [{ name: "Nothing", condition: { field: "input.never", operator: "exists" } }],
          },
        ],
      },
    ]);
    run.start();
    expect(run.run.header).toMatchObject({
      status: "failed",
      error: `the run would create more than ${INSTANCES_MAX} step instances`,
    });
    expect(run.run.instances.size).toBeLessThanOrEqual(INSTANCES_MAX);
  });
});
