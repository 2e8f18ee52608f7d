// Lays a flow out for React Flow: stages left to right (the engine's own `stagesOf`), the steps of a
// parallel stage side by side in one column inside a labelled group, edges from each stage to the next.
import type { Edge, Node } from "@xyflow/react";
import { stagesOf } from "../../../durable-objects/engine/plan";
import type { StepDefinition } from "../../../worker/schemas/orchestration";
import type { GraphStep } from "./flow-steps";

export const NODE_WIDTH = 230;
export const NODE_HEIGHT = 118;
const GAP_X = 70;
const GAP_Y = 26;
const GROUP_PAD = 14;
const GROUP_LABEL = 22;
/** Above this many edges between two stages, one labelled edge stands for all of them. */
const MAX_EDGES_BETWEEN_STAGES = 64;

export interface StepLive {
  status: string;
  attempts: number;
  durationMs: number | null;
  waitingForRetry: boolean;
}

export interface StepNodeData extends Record<string, unknown> {
  step: GraphStep;
  index: number;
  stage: number;
  /** Stages run top to bottom: handles go on the top and bottom edges. */
  across: boolean;
  live?: StepLive;
  issueCount: number;
  selected: boolean;
}

export interface GroupNodeData extends Record<string, unknown> {
  label: string;
}

export type FlowNode = Node<StepNodeData, "step"> | Node<GroupNodeData, "group-frame">;

export function stageColumns(steps: readonly GraphStep[]): number[][] {
  // stagesOf reads only `order` and `parallelGroup`, which GraphStep carries with the same meaning.
  return stagesOf(steps as unknown as StepDefinition[]);
}

/** "LR": stages left to right (laptops); "TB": stages top to bottom (phones). */
export type FlowDirection = "LR" | "TB";

export function layoutFlow(
  steps: readonly GraphStep[],
  options: {
    live?: Map<string, StepLive>;
    issueCounts?: Map<number, number>;
    selected?: string | null;
    direction?: FlowDirection;
  } = {},
): { nodes: FlowNode[]; edges: Edge[]; width: number; height: number } {
  const across = options.direction === "TB";
  const stages = stageColumns(steps);
  const tallest = Math.max(1, ...stages.map((members) => members.length));
  // "Main" runs along the stages, "cross" along the members of one stage.
  const nodeMain = across ? NODE_HEIGHT : NODE_WIDTH;
  const nodeCross = across ? NODE_WIDTH : NODE_HEIGHT;
  const mainStep = nodeMain + GAP_X + GROUP_PAD * 2 + (across ? GROUP_LABEL : 0);
  const crossLength = (count: number) => count * nodeCross + (count - 1) * GAP_Y;
  const fullCross = crossLength(tallest) + 2 * (GROUP_PAD + GROUP_LABEL);
  const at = (main: number, cross: number) => (across ? { x: cross, y: main } : { x: main, y: cross });
  const nodes: FlowNode[] = [];
  const edges: Edge[] = [];
  stages.forEach((members, stage) => {
    const main = stage * mainStep;
    const start = (fullCross - crossLength(members.length)) / 2;
    const group = members.map((i) => steps[i]?.parallelGroup).find((g) => g !== undefined);
    if (group !== undefined || members.length > 1) {
      const length = crossLength(members.length) + GROUP_PAD * 2;
      nodes.push({
        id: `group-${stage}`,
        type: "group-frame",
        position: across
          ? { x: start - GROUP_PAD, y: main - GROUP_PAD - GROUP_LABEL }
          : { x: main - GROUP_PAD, y: start - GROUP_PAD - GROUP_LABEL },
        data: { label: group === undefined ? "same order" : `parallel · ${group}` },
        style: across
          ? { width: length, height: NODE_HEIGHT + GROUP_PAD * 2 + GROUP_LABEL }
          : { width: NODE_WIDTH + GROUP_PAD * 2, height: length + GROUP_LABEL },
        selectable: false,
        focusable: false,
        zIndex: -1,
      });
    }
    members.forEach((index, row) => {
      const step = steps[index];
      if (!step) return;
      const live = options.live?.get(step.name);
      nodes.push({
        id: `step-${index}`,
        type: "step",
        position: at(main, start + row * (nodeCross + GAP_Y)),
        data: {
          step,
          index,
          stage,
          across,
          ...(live ? { live } : {}),
          issueCount: options.issueCounts?.get(index) ?? 0,
          selected: options.selected === step.name,
        },
        style: { width: NODE_WIDTH, height: NODE_HEIGHT },
        ariaLabel: `Step ${step.name}${live ? `, ${live.status}` : ""}`,
      });
    });
    const next = stages[stage + 1];
    if (!next) return;
    const pairs = members.flatMap((from) => next.map((to) => [from, to] as const));
    const shown = pairs.length > MAX_EDGES_BETWEEN_STAGES ? pairs.slice(0, 1) : pairs;
    for (const [from, to] of shown) {
      const target = steps[to];
      const running = target ? options.live?.get(target.name)?.status === "running" : false;
      edges.push({
        id: `edge-${from}-${to}`,
        source: `step-${from}`,
        target: `step-${to}`,
        animated: running,
        ...(shown.length < pairs.length ? { label: `all ${members.length} → all ${next.length}` } : {}),
      });
    }
  });
  const mainLength = stages.length * mainStep;
  return across
    ? { nodes, edges, width: fullCross, height: mainLength }
    : { nodes, edges, width: mainLength, height: fullCross };
}
