// The graph of nested step kinds: a loop or forEach as a frame around its body (drawn once, for the
// iteration or item picked), a branch as a frame of arms with the taken one marked, frames that hold their
// bodies without overlapping at any depth; and the same during real runs of each kind.
import { describe, expect, it } from "vitest";
import { stepKeyOf } from "../../web/src/lib/definition-check";
import { chooseDirection } from "../../web/src/lib/flow-fit";
import { type ContainerNodeData, type FlowNode, layoutFlow } from "../../web/src/lib/flow-layout";
import { graphStepsOf } from "../../web/src/lib/flow-steps";
import {
  defaultSlot,
  keyOf,
  liveOf,
  type RunView,
  slotsFor,
  visibleRows,
  whereText,
} from "../../web/src/lib/run-view";
import type { ExecutionStatus, StepLog } from "../../web/src/lib/trpc";
import { newTenant } from "../helpers/client";
import { flowWith, runToEnd } from "../helpers/control-flow";
import { pingPongLoop } from "../helpers/guide";
import type { StepInput } from "../helpers/runs";

type Rect = { x: number; y: number; width: number; height: number };
const rectOf = (node: FlowNode): Rect => ({
  ...node.position,
  width: Number(node.width),
  height: Number(node.height),
});
const inside = (a: Rect, b: Rect) =>
  a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;
const overlap = (a: Rect, b: Rect) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const byId = (nodes: FlowNode[], id: string) => {
  const node = nodes.find((n) => n.id === id);
  if (!node) throw new Error(`no node ${id} among ${nodes.map((n) => n.id).join(", ")}`);
  return node;
};

/** A forEach holding a loop (with a parallel pair) and a branch with an otherwise arm, after a plan. */
const nested = {
  steps: [
    { name: "Plan" },
    {
      name: "Each",
      stepType: "forEach",
      items: "{{context.Plan.tasks}}",
      steps: [
        {
          name: "Polish",
          stepType: "loop",
          maxIterations: 3,
          steps: [
            { name: "Draft A", parallelGroup: "drafts" },
            { name: "Draft B", parallelGroup: "drafts" },
            { name: "Pick" },
          ],
        },
        {
          name: "Route",
          stepType: "branch",
          branches: [
            { when: { field: "item.kind", operator: "==", value: "bug" }, steps: [{ name: "Fix" }] },
          ],
          otherwise: [{ name: "Build" }, { name: "Test", stepType: "approval" }],
        },
      ],
    },
    { name: "Report" },
  ],
};

describe("the graph of nested kinds", () => {
  it("draws the Ping-Pong loop as a frame around Critic then Refine, after the Creator", () => {
    const { nodes, edges } = layoutFlow(graphStepsOf(pingPongLoop));
    const loop = byId(nodes, "step-1");
    expect(loop.type).toBe("container");
    const [critic, refine] = [byId(nodes, "step-1.*.0"), byId(nodes, "step-1.*.1")];
    expect(inside(rectOf(critic), rectOf(loop)) && inside(rectOf(refine), rectOf(loop))).toBe(true);
    expect(critic.position.x).toBeLessThan(refine.position.x);
    expect(rectOf(loop).x).toBeGreaterThan(rectOf(byId(nodes, "step-0")).x);
    expect(edges.map((e) => `${e.source}>${e.target}`).sort()).toEqual([
      "step-0>step-1",
      "step-1.*.0>step-1.*.1",
    ]);
  });

  for (const direction of ["LR", "TB"] as const) {
    it(`keeps every body inside its frame and no two frames or steps overlapping (${direction})`, () => {
      const { nodes, width, height } = layoutFlow(graphStepsOf(nested), { direction });
      // A step's frame: its loop or forEach ("1.*" → step-1) or its branch arm ("1.0" → arm-1.0); an
      // arm's frame: its branch.
      const frameOf = (node: FlowNode) => {
        const key = node.type === "arm" ? node.id.slice(4) : String(node.data.key);
        const prefix = key.slice(0, Math.max(0, key.lastIndexOf(".")));
        if (!prefix) return undefined;
        if (node.type === "arm") return byId(nodes, `step-${prefix}`);
        return prefix.endsWith(".*")
          ? byId(nodes, `step-${prefix.slice(0, -2)}`)
          : byId(nodes, `arm-${prefix}`);
      };
      const placed = nodes.filter((n) => n.type === "step" || n.type === "container" || n.type === "arm");
      for (const node of placed) {
        const frame = frameOf(node);
        if (frame) expect(inside(rectOf(node), rectOf(frame)), `${node.id} inside ${frame.id}`).toBe(true);
        expect(inside(rectOf(node), { x: 0, y: 0, width, height }), `${node.id} inside the flow`).toBe(true);
      }
      const leaves = nodes.filter((n) => n.type === "step");
      for (const a of leaves)
        for (const b of leaves)
          if (a !== b) expect(overlap(rectOf(a), rectOf(b)), `${a.id} / ${b.id}`).toBe(false);
      const arms = nodes.filter((n) => n.type === "arm");
      expect(arms.map((n) => n.data)).toEqual([
        { label: "branches[0]", when: { field: "item.kind", operator: "==", value: "bug" } },
        { label: "otherwise", when: null },
      ]);
      // Arms sit one under another either way, so a phone keeps one column.
      const [when, otherwise] = arms.map(rectOf) as [Rect, Rect];
      expect(otherwise.y).toBeGreaterThanOrEqual(when.y + when.height);
      expect(otherwise.x).toBe(when.x);
      // The parallel pair inside the loop inside the forEach keeps its labelled frame.
      expect(nodes.filter((n) => n.type === "group-frame").map((n) => n.data)).toEqual([
        { label: "parallel · drafts" },
      ]);
    });
  }

  it("turns a wide flow top to bottom in the editor's half-screen pane, not on a laptop-wide page", () => {
    const steps = graphStepsOf(nested);
    const layouts = { LR: layoutFlow(steps), TB: layoutFlow(steps, { direction: "TB" }) };
    expect(chooseDirection(layouts, 640)).toBe("TB");
    expect(chooseDirection(layouts, 2400)).toBe("LR");
    expect(chooseDirection(layouts, 390)).toBe("TB");
  });

  it("finds the step an editor issue is about, at any depth", () => {
    const steps = graphStepsOf(nested);
    expect(stepKeyOf("steps[1].steps[0].steps[2].roleName", steps)).toBe("1.*.0.*.2");
    expect(stepKeyOf("steps[1].steps[1].branches[0].steps[0].condition", steps)).toBe("1.*.1.0.0");
    expect(stepKeyOf("steps[1].steps[1].otherwise[1].timeout", steps)).toBe("1.*.1.1.1");
    expect(stepKeyOf("steps[1].steps[9].name", steps)).toBe("1");
    expect(stepKeyOf("name", steps)).toBeUndefined();
  });

  it("names an instance's place for people and finds its step from its id", () => {
    const steps = graphStepsOf(nested);
    expect(keyOf("1.4.1.1.0", steps)).toBe("1.*.1.1.0");
    expect(whereText("1.4.0.2.2", steps)).toBe("Each item 5 · Polish iteration 3");
    expect([...slotsFor("1.4.0.2.2", steps)]).toEqual([
      ["1", 4],
      ["1.*.0", 2],
    ]);
  });
});

const view = (status: unknown, slots: [string, number][] = []): RunView => {
  const execution = status as ExecutionStatus;
  return { live: liveOf(execution, Date.now()), slots: new Map(slots), finished: true };
};

describe("the iteration or item shown before the user picks one", () => {
  const forEachLog = (items: string[]) => ({ forEach: { total: items.length, items } }) as unknown as StepLog;
  it("is a forEach's first failed item, else its first running one, else the last started", () => {
    expect(defaultSlot(forEachLog(["completed", "running", "failed", "pending"]))).toBe(2);
    expect(defaultSlot(forEachLog(["completed", "completed", "running", "running"]))).toBe(2);
    expect(defaultSlot(forEachLog(["completed", "completed", "pending"]))).toBe(1);
  });

  it("is a loop's latest iteration", () => {
    expect(defaultSlot({ loop: { iteration: 3, maxIterations: 5 } } as unknown as StepLog)).toBe(3);
  });
});

describe("the graph during a run", () => {
  it("shows the loop's latest iteration, and an earlier one when picked", async () => {
    const { trpc } = await newTenant();
    const scores = [0.3, 0.9];
    let critic = 0;
    const steps = pingPongLoop.steps as StepInput[];
    // Creator drafts, the Critic (asked for a score) scores 0.3 then 0.9, Refine (told the round) redrafts.
    const orchestration = await flowWith(trpc, steps, (input) =>
      "round" in input
        ? "better draft"
        : "instructions" in input
          ? JSON.stringify({ score: scores[critic++] })
          : "draft",
    );
    const status = await runToEnd(trpc, orchestration.id, { task: "a poem" });
    expect(status.status).toBe("completed");
    const graph = graphStepsOf(pingPongLoop);

    const latest = layoutFlow(graph, { run: view(status) }).nodes;
    expect(byId(latest, "step-1").data).toMatchObject({ slots: { count: 2, shown: 1 } });
    expect(byId(latest, "step-1.*.0").data).toMatchObject({
      instanceId: "1.1.0",
      live: { status: "completed" },
    });
    expect(byId(latest, "step-1.*.1").data).toMatchObject({
      instanceId: "1.1.1",
      live: { status: "skipped" },
    });

    const first = layoutFlow(graph, { run: view(status, [["1", 0]]) }).nodes;
    expect(byId(first, "step-1.*.1").data).toMatchObject({
      instanceId: "1.0.1",
      live: { status: "completed" },
    });
    expect(visibleRows(graph, view(status, [["1", 0]])).map((row) => row.id)).toEqual([
      "0",
      "1",
      "1.0.0",
      "1.0.1",
    ]);
  });

  it("draws a forEach of 100 items once, with every item's status and one item's steps", async () => {
    const { trpc } = await newTenant();
    const items = Array.from({ length: 100 }, (_, i) => i);
    const definition: StepInput[] = [
      {
        name: "Each",
        stepType: "forEach",
        items,
        steps: [{ name: "Work", inputMapping: { n: "{{item}}" } }],
      },
    ];
    const orchestration = await flowWith(trpc, definition, (input) => `done ${input.n}`);
    const status = await runToEnd(trpc, orchestration.id);
    const graph = graphStepsOf({ steps: definition });

    const { nodes } = layoutFlow(graph, { run: view(status, [["0", 41]]) });
    expect(nodes.map((n) => n.id)).toEqual(["step-0", "step-0.*.0"]);
    expect(byId(nodes, "step-0").data).toMatchObject({ slots: { count: 100, shown: 41 } });
    const each = byId(nodes, "step-0").data as ContainerNodeData;
    expect(each.live?.log?.forEach?.items).toEqual(items.map(() => "completed"));
    expect(byId(nodes, "step-0.*.0").data).toMatchObject({ instanceId: "0.41.0" });
  });

  it("marks the arm a branch took and shows the others' steps skipped", async () => {
    const { trpc } = await newTenant();
    const definition: StepInput[] = [
      {
        name: "Route",
        stepType: "branch",
        branches: [{ when: { field: "input.kind", operator: "==", value: "bug" }, steps: [{ name: "Fix" }] }],
        otherwise: [{ name: "Build" }],
      },
    ];
    const orchestration = await flowWith(trpc, definition, () => "ok");
    const status = await runToEnd(trpc, orchestration.id, { kind: "feature" });
    const graph = graphStepsOf({ steps: definition });

    const { nodes } = layoutFlow(graph, { run: view(status) });
    expect(byId(nodes, "arm-0.0").data).toMatchObject({ label: "branches[0]", status: "skipped" });
    expect(byId(nodes, "arm-0.1").data).toMatchObject({ label: "otherwise", status: "taken" });
    expect(byId(nodes, "step-0.0.0").data).toMatchObject({ live: { status: "skipped" } });
    expect(byId(nodes, "step-0.1.0").data).toMatchObject({
      instanceId: "0.1.0",
      live: { status: "completed" },
    });
    expect(visibleRows(graph, view(status)).map((row) => row.step.name)).toEqual(["Route", "Build"]);
  });
});
