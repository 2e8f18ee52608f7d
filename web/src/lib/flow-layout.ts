// Lays a flow out for React Flow: stages left to right (the engine's own `stagesOf`), the steps of a
// parallel stage side by side in a labelled group, edges from each stage to the next. A loop or forEach
// is a frame holding its body once (during a run: the iteration or item picked); a branch is a frame
// holding one frame per arm. Sizes are measured bottom-up, so frames never overlap.
import type { Edge } from "@xyflow/react";
import { stagesOf } from "../../../durable-objects/engine/plan";
import type { StepDefinition } from "../../../worker/schemas/orchestration";
import { frame, type Item, NODE_HEIGHT, NODE_WIDTH, type Placed, shift, stackArms } from "./flow-frames";
import type { ContainerNodeData, FlowNode, StepNodeData } from "./flow-node-data";
import { type GraphStep, isContainer } from "./flow-steps";
import {
  type Body,
  bodiesOf,
  liveOrPlaceholder,
  type RunView,
  type StepLive,
  shownSlot,
  slotCount,
} from "./run-view";

export type { ArmNodeData, ContainerNodeData, FlowNode, GroupNodeData, StepNodeData } from "./flow-node-data";
export type { StepLive };
export { NODE_HEIGHT, NODE_WIDTH };

const GAP_MAIN = 70;
const GAP_CROSS = 26;
const GROUP_PAD = 14;
const GROUP_LABEL = 22;
const FRAME_PAD = 16;
/** A container's header: kind and name, then what it repeats or chooses; during a run its progress too. */
const HEAD_DEFINITION = 54;
const HEAD_LIVE = { loop: 86, forEach: 100, branch: 66 } as const;
const ARM_LABEL = 26;
/** Above this many edges between two stages, one labelled edge stands for all of them. */
const MAX_EDGES_BETWEEN_STAGES = 64;

export function stageColumns(steps: readonly GraphStep[]): number[][] {
  // stagesOf reads only `order` and `parallelGroup`, which GraphStep carries with the same meaning.
  return stagesOf(steps as unknown as StepDefinition[]);
}

/** "LR": stages left to right (laptops); "TB": stages top to bottom (phones). */
export type FlowDirection = "LR" | "TB";

export interface LayoutOptions {
  run?: RunView;
  /** Problems per step key. */
  issueCounts?: Map<string, number>;
  /** The selected step's key. */
  selected?: string | null;
  direction?: FlowDirection;
}

interface Ctx extends LayoutOptions {
  across: boolean;
}

function common(ctx: Ctx, step: GraphStep, key: string, id: string | undefined, body: Body | undefined) {
  const live = ctx.run ? liveOrPlaceholder(id, body, ctx.run) : undefined;
  return {
    step,
    key,
    across: ctx.across,
    ...(id !== undefined && ctx.run?.live.has(id) ? { instanceId: id } : {}),
    ...(live ? { live } : {}),
    issueCount: ctx.issueCounts?.get(key) ?? 0,
    selected: ctx.selected === key,
  };
}

const zOf = (depth: number) => -100 + 4 * depth;
/** Frames let the pane pan through them (React Flow reads this over its own inline pointer-events). */
const FRAME_STYLE = { pointerEvents: "none" } as const;

function placeContainer(
  ctx: Ctx,
  step: GraphStep,
  key: string,
  id: string | undefined,
  depth: number,
  outer?: Body,
): Placed {
  const data: ContainerNodeData = common(ctx, step, key, id, outer);
  const log = data.live?.log;
  if (ctx.run && step.steps) data.slots = { count: slotCount(log), shown: shownSlot(key, log, ctx.run) };
  const node = {
    id: `step-${key}`,
    type: "container" as const,
    data,
    zIndex: zOf(depth),
    style: FRAME_STYLE,
    ariaLabel: `${step.stepType} ${step.name}${data.live ? `, ${data.live.status}` : ""}`,
  };
  const kind = step.stepType === "loop" || step.stepType === "forEach" ? step.stepType : "branch";
  const head = ctx.run ? HEAD_LIVE[kind] : HEAD_DEFINITION;
  const bodies = bodiesOf(step, key, id, ctx.run);
  if (step.steps) {
    const [body] = bodies;
    const inner = placeBody(ctx, body?.steps ?? [], body?.keyPrefix ?? key, body?.idPrefix, depth + 1, body);
    return frame(ctx.across, inner, node, head, FRAME_PAD);
  }
  // A branch: its arms one under another (in either direction, so a phone keeps one column), each in
  // its own labelled frame, all as wide (LR: as long) as the widest.
  const arms = bodies.map((body) => {
    const inner = placeBody(ctx, body.steps, body.keyPrefix, body.idPrefix, depth + 1, body);
    const arm = step.arms?.[body.arm?.index ?? 0];
    const armNode = {
      id: `arm-${body.keyPrefix}`,
      type: "arm" as const,
      data: {
        label: arm?.label ?? "",
        when: arm?.when ?? null,
        ...(ctx.run && body.arm ? { status: body.arm.status } : {}),
      },
      zIndex: zOf(depth) + 1,
      style: FRAME_STYLE,
      selectable: false,
      focusable: false,
    };
    return frame(ctx.across, inner, armNode, ARM_LABEL, 10);
  });
  return frame(ctx.across, stackArms(ctx.across, arms), node, head, FRAME_PAD);
}

function placeStep(
  ctx: Ctx,
  step: GraphStep,
  key: string,
  id: string | undefined,
  depth: number,
  stage: number,
  body?: Body,
): Placed {
  if (isContainer(step)) return placeContainer(ctx, step, key, id, depth, body);
  const data: StepNodeData = { ...common(ctx, step, key, id, body), stage };
  const node = {
    id: `step-${key}`,
    type: "step" as const,
    data,
    ariaLabel: `Step ${step.name}${data.live ? `, ${data.live.status}` : ""}`,
  };
  const [main, cross] = ctx.across ? [NODE_HEIGHT, NODE_WIDTH] : [NODE_WIDTH, NODE_HEIGHT];
  return {
    items: [{ node, main: 0, cross: 0, mainLength: main, crossLength: cross }],
    edges: [],
    main,
    cross,
    rootId: node.id,
  };
}

function stageFrame(ctx: Ctx, members: Placed[], label: string, id: string, depth: number): Placed {
  const cross = members.reduce((sum, m) => sum + m.cross, 0) + GAP_CROSS * (members.length - 1);
  const main = Math.max(...members.map((m) => m.main));
  const items: Item[] = [];
  let at = 0;
  for (const member of members) {
    items.push(...shift(member, 0, at));
    at += member.cross + GAP_CROSS;
  }
  const inner = { items, edges: members.flatMap((m) => m.edges), main, cross };
  if (!label) return inner;
  const node = {
    id,
    type: "group-frame" as const,
    data: { label },
    selectable: false,
    focusable: false,
    zIndex: zOf(depth) - 2,
    style: FRAME_STYLE,
  };
  const framed = frame(ctx.across, inner, node, GROUP_PAD + GROUP_LABEL, GROUP_PAD);
  return { ...framed, rootId: undefined };
}

function placeBody(
  ctx: Ctx,
  steps: readonly GraphStep[],
  keyPrefix: string,
  idPrefix: string | undefined,
  depth: number,
  body?: Body,
): Placed {
  const keyOf = (j: number) => (keyPrefix ? `${keyPrefix}.${j}` : String(j));
  const idOf = (j: number) =>
    keyPrefix ? (idPrefix === undefined ? undefined : `${idPrefix}.${j}`) : String(j);
  const stages = stageColumns(steps).map((members, stage) => {
    const placed = members.map((j) => {
      const step = steps[j] as GraphStep;
      return placeStep(ctx, step, keyOf(j), idOf(j), depth, stage, body);
    });
    const group = members.map((j) => steps[j]?.parallelGroup).find((g) => g !== undefined);
    const label = group !== undefined ? `parallel · ${group}` : members.length > 1 ? "same order" : "";
    const id = keyPrefix ? `group-${keyPrefix}:${stage}` : `group-${stage}`;
    return { placed, frame: stageFrame(ctx, placed, label, id, depth) };
  });
  if (stages.length === 0) {
    const [main, cross] = ctx.across ? [40, NODE_WIDTH] : [NODE_WIDTH, 40];
    return { items: [], edges: [], main, cross };
  }
  const cross = Math.max(...stages.map((s) => s.frame.cross));
  const items: Item[] = [];
  const edges: Edge[] = [];
  let main = 0;
  stages.forEach(({ placed, frame: stage }, s) => {
    items.push(...shift(stage, main, (cross - stage.cross) / 2));
    edges.push(...stage.edges);
    main += stage.main + GAP_MAIN;
    const next = stages[s + 1]?.placed;
    if (next) edges.push(...stageEdges(ctx, placed, next));
  });
  return { items, edges, main: main - GAP_MAIN, cross };
}

function stageEdges(ctx: Ctx, from: Placed[], to: Placed[]): Edge[] {
  const pairs = from.flatMap((a) => to.map((b) => [a, b] as const));
  const shown = pairs.length > MAX_EDGES_BETWEEN_STAGES ? pairs.slice(0, 1) : pairs;
  return shown.flatMap(([a, b]) => {
    if (!a.rootId || !b.rootId) return [];
    const target = b.items[0]?.node.data as ContainerNodeData | undefined;
    return [
      {
        id: `edge-${a.rootId.slice(5)}-${b.rootId.slice(5)}`,
        source: a.rootId,
        target: b.rootId,
        animated: ctx.run !== undefined && target?.live?.status === "running",
        ...(shown.length < pairs.length ? { label: `all ${from.length} → all ${to.length}` } : {}),
      },
    ];
  });
}

export function layoutFlow(
  steps: readonly GraphStep[],
  options: LayoutOptions = {},
): { nodes: FlowNode[]; edges: Edge[]; width: number; height: number } {
  const ctx: Ctx = { ...options, across: options.direction === "TB" };
  const placed = placeBody(ctx, steps, "", undefined, 0);
  const nodes = placed.items.map(
    ({ node, main, cross, mainLength, crossLength }) =>
      ({
        ...node,
        position: ctx.across ? { x: cross, y: main } : { x: main, y: cross },
        // Fixed sizes (not only a style): React Flow then never hides a node while it re-measures it.
        ...(ctx.across
          ? { width: crossLength, height: mainLength }
          : { width: mainLength, height: crossLength }),
      }) as FlowNode,
  );
  return ctx.across
    ? { nodes, edges: placed.edges, width: placed.cross, height: placed.main }
    : { nodes, edges: placed.edges, width: placed.main, height: placed.cross };
}
