// Stages of a definition (durable-objects/engine/plan.ts): steps run in `order` (array position when
// omitted); a parallelGroup is one stage at the lowest order among its members.
import { describe, expect, it } from "vitest";
import { stagesOf } from "../../durable-objects/engine/plan";
import { planOf, type StepInput } from "../helpers/engine-driver";

/** Stages as step names, from guide-shaped steps parsed by the real schema. */
function stageNames(steps: StepInput[]): string[][] {
  const plan = planOf(steps);
  return stagesOf(plan.steps).map((stage) => stage.map((index) => plan.steps[index]?.name ?? "?"));
}

describe("stagesOf", () => {
  it("runs steps without order or group one after another, in array order", () => {
    expect(stageNames([{ name: "Plan" }, { name: "Execute" }, { name: "Review" }])).toEqual([
      ["Plan"],
      ["Execute"],
      ["Review"],
    ]);
  });

  it("runs the guide's Example 2 (orders 0, 1, 2) as three sequential stages", () => {
    expect(
      stageNames([
        { name: "Plan", order: 0, roleName: "Architect" },
        { name: "Generate Code", order: 1, roleName: "Coder" },
        { name: "Review", order: 2, roleName: "Code Reviewer" },
      ]),
    ).toEqual([["Plan"], ["Generate Code"], ["Review"]]);
  });

  it("puts Example 3's three searches (orders 0, 1, 2, one group) in one stage before the synthesis", () => {
    const steps: StepInput[] = [
      { name: "Search Academic Papers", order: 0, parallelGroup: "search" },
      { name: "Search Technical Docs", order: 1, parallelGroup: "search" },
      { name: "Search GitHub", order: 2, parallelGroup: "search" },
      { name: "Synthesize Findings", order: 3 },
    ];
    expect(stagesOf(planOf(steps).steps)).toEqual([[0, 1, 2], [3]]);
  });

  it("fans out the Map-Reduce pattern whose group members have no order", () => {
    expect(
      stageNames([
        { name: "Search A", parallelGroup: "map" },
        { name: "Search B", parallelGroup: "map" },
        { name: "Search C", parallelGroup: "map" },
        { name: "Synthesize", order: 3 },
      ]),
    ).toEqual([["Search A", "Search B", "Search C"], ["Synthesize"]]);
  });

  it("stages the Tree of Thoughts pattern as one fan-out then two sequential steps", () => {
    expect(
      stageNames([
        { name: "Generate Options", parallelGroup: "generate" },
        { name: "Generate Options 2", parallelGroup: "generate" },
        { name: "Generate Options 3", parallelGroup: "generate" },
        { name: "Evaluate", order: 3 },
        { name: "Select Best", order: 4 },
      ]),
    ).toEqual([
      ["Generate Options", "Generate Options 2", "Generate Options 3"],
      ["Evaluate"],
      ["Select Best"],
    ]);
  });

  it("sorts by order, not by array position", () => {
    expect(
      stageNames([
        { name: "Last", order: 20 },
        { name: "First", order: 0 },
        { name: "Middle", order: 10 },
      ]),
    ).toEqual([["First"], ["Middle"], ["Last"]]);
  });

  it("gives a step without order its array position as order", () => {
    // "Second" sits at index 1 (order 1), between order 0 and order 5.
    expect(
      stageNames([
        { name: "Fifth", order: 5 },
        { name: "Second" },
        { name: "Zeroth", order: 0 },
        { name: "Third" },
      ]),
    ).toEqual([["Zeroth"], ["Second"], ["Third"], ["Fifth"]]);
  });

  it("keeps array order for steps that share an order without sharing a group, and never runs them together", () => {
    expect(
      stageNames([
        { name: "B", order: 1 },
        { name: "A", order: 1 },
        { name: "C", order: 0 },
      ]),
    ).toEqual([["C"], ["B"], ["A"]]);
  });

  it("gathers a group whose members are not next to each other in the array", () => {
    expect(
      stageNames([
        { name: "Search A", order: 0, parallelGroup: "search" },
        { name: "Between", order: 1 },
        { name: "Search B", order: 2, parallelGroup: "search" },
        { name: "After", order: 3 },
      ]),
    ).toEqual([["Search A", "Search B"], ["Between"], ["After"]]);
  });

  it("places a group at the lowest order among its members, even when that member is listed last", () => {
    expect(
      stageNames([
        { name: "One", order: 1 },
        { name: "Member late", order: 9, parallelGroup: "g" },
        { name: "Three", order: 3 },
        { name: "Member early", order: 0, parallelGroup: "g" },
      ]),
    ).toEqual([["Member late", "Member early"], ["One"], ["Three"]]);
  });

  it("keeps several groups apart, each at its own lowest order, members in array order", () => {
    expect(
      stageNames([
        { name: "b1", order: 4, parallelGroup: "second" },
        { name: "a1", order: 1, parallelGroup: "first" },
        { name: "b2", order: 2, parallelGroup: "second" },
        { name: "a2", order: 7, parallelGroup: "first" },
        { name: "solo", order: 3 },
      ]),
    ).toEqual([["a1", "a2"], ["b1", "b2"], ["solo"]]);
  });

  it("treats a one-member group as an ordinary stage", () => {
    expect(stageNames([{ name: "Alone", parallelGroup: "g" }, { name: "Next" }])).toEqual([
      ["Alone"],
      ["Next"],
    ]);
  });

  it("orders a group and a step of equal order by their first position in the array", () => {
    expect(
      stageNames([
        { name: "Solo", order: 0 },
        { name: "G1", order: 0, parallelGroup: "g" },
        { name: "G2", order: 0, parallelGroup: "g" },
      ]),
    ).toEqual([["Solo"], ["G1", "G2"]]);
    expect(
      stageNames([
        { name: "G1", order: 0, parallelGroup: "g" },
        { name: "Solo", order: 0 },
        { name: "G2", order: 0, parallelGroup: "g" },
      ]),
    ).toEqual([["G1", "G2"], ["Solo"]]);
  });

  it("fans out a 100-wide group as one stage", () => {
    const steps: StepInput[] = Array.from({ length: 100 }, (_, i) => ({
      name: `Worker ${i}`,
      parallelGroup: "wide",
    }));
    const stages = stagesOf(planOf([...steps, { name: "Join" }]).steps);
    expect(stages).toEqual([Array.from({ length: 100 }, (_, i) => i), [100]]);
  });

  it("places every step in exactly one stage", () => {
    const steps: StepInput[] = Array.from({ length: 40 }, (_, i) => ({
      name: `S${i}`,
      ...(i % 3 === 0 ? {} : { order: (i * 7) % 13 }),
      ...(i % 4 === 0 ? { parallelGroup: `g${i % 3}` } : {}),
    }));
    const flat = stagesOf(planOf(steps).steps).flat();
    expect(flat.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it("is a pure function of the steps: the same steps give the same stages, and the input is untouched", () => {
    const steps = planOf([
      { name: "B", order: 2 },
      { name: "A", order: 1, parallelGroup: "g" },
      { name: "C", order: 0, parallelGroup: "g" },
    ]).steps;
    const copy = structuredClone(steps);
    expect(stagesOf(steps)).toEqual(stagesOf(copy));
    expect(steps).toEqual(copy);
    expect(stagesOf([])).toEqual([]);
  });
});
