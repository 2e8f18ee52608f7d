// The dashboard's flow graph layout: the engine's stages left to right (top to bottom on phones), a
// parallel group's steps side by side in one labelled frame, and edges from each stage to the next.
import { describe, expect, it } from "vitest";
import { layoutFlow } from "../../web/src/lib/flow-layout";
import { conditionText, graphStepsOf, kindText, retryText } from "../../web/src/lib/flow-steps";
import type { RunView } from "../../web/src/lib/run-view";
import type { StepLog } from "../../web/src/lib/trpc";
import { example3, example4, pingPongLoop } from "../helpers/guide";

const positionOf = (nodes: ReturnType<typeof layoutFlow>["nodes"], id: string) =>
  nodes.find((node) => node.id === id)?.position;

describe("layoutFlow", () => {
  it("puts a parallel group in one column, framed, with the reduce step after it", () => {
    const { nodes, edges } = layoutFlow(graphStepsOf(example3));
    const searches = [0, 1, 2].map((i) => positionOf(nodes, `step-${i}`));
    expect(new Set(searches.map((p) => p?.x)).size).toBe(1);
    expect(new Set(searches.map((p) => p?.y)).size).toBe(3);
    expect(positionOf(nodes, "step-3")?.x).toBeGreaterThan(searches[0]?.x ?? 0);
    expect(nodes.filter((n) => n.type === "group-frame").map((n) => n.data)).toEqual([
      { label: "parallel · search" },
    ]);
    expect(edges.map((e) => `${e.source}>${e.target}`)).toEqual([
      "step-0>step-3",
      "step-1>step-3",
      "step-2>step-3",
    ]);
  });

  it("runs stages top to bottom on a narrow screen", () => {
    const { nodes } = layoutFlow(graphStepsOf(example4), { direction: "TB" });
    const [a, b, c] = [0, 1, 2].map((i) => positionOf(nodes, `step-${i}`));
    expect(a?.x).toBe(b?.x);
    expect((a?.y ?? 0) < (b?.y ?? 0) && (b?.y ?? 0) < (c?.y ?? 0)).toBe(true);
  });

  it("marks live status and edges into a running step", () => {
    const running = {
      id: "1",
      status: "running",
      waitingForRetry: false,
      attempts: [],
    } as unknown as StepLog;
    const run: RunView = {
      live: new Map([
        ["1", { status: "running", attempts: 1, durationMs: 5, waitingForRetry: false, log: running }],
      ]),
      slots: new Map(),
      finished: false,
    };
    const { nodes, edges } = layoutFlow(graphStepsOf(example4), { run });
    const node = nodes.find((n) => n.id === "step-1");
    expect(node?.data).toMatchObject({ live: { status: "running" }, instanceId: "1" });
    expect(edges.find((e) => e.target === "step-1")?.animated).toBe(true);
  });
});

describe("step summaries", () => {
  it("say the condition, retries and timeout in words", () => {
    const [generate, , fix] = graphStepsOf(example4);
    expect(generate && retryText(generate)).toBe("retry ×2 (1 s) · timeout 1 min");
    expect(fix && conditionText(fix)).toBe("only if testResults.passed < 1");
  });

  it("say what a loop repeats and until when", () => {
    const [, refinement] = graphStepsOf(pingPongLoop);
    expect(refinement && kindText(refinement)).toBe("until Critic.score >= 0.8 · max 5×");
  });

  it("draws a half-typed definition instead of failing", () => {
    expect(
      graphStepsOf({
        steps: [
          { order: "x" },
          null,
          { name: "B", parallelGroup: 3 },
          { name: "L", stepType: "loop", steps: "not yet" },
          { name: "C", stepType: "lo" },
        ],
      }),
    ).toEqual([
      { name: "(step 1 has no name)" },
      { name: "B" },
      { name: "L", stepType: "loop", steps: [] },
      { name: "C" },
    ]);
  });
});
