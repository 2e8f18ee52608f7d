// What each kind of graph node carries (React Flow `data`): a step, a container frame, a branch arm's
// frame, a parallel group's frame. Types only; flow-layout.ts fills them, flow-nodes.tsx draws them.
import type { Node } from "@xyflow/react";
import type { GraphStep } from "./flow-steps";
import type { StepLive } from "./run-view";

export interface NodeCommon extends Record<string, unknown> {
  step: GraphStep;
  /** The step's place in the definition: "2", "2.*.0" (loop/forEach body), "2.1.0" (branch arm 1). */
  key: string;
  /** The step instance shown, during a run. */
  instanceId?: string;
  /** Stages run top to bottom: handles go on the top and bottom edges. */
  across: boolean;
  live?: StepLive;
  issueCount: number;
  selected: boolean;
}

export interface StepNodeData extends NodeCommon {
  stage: number;
}

export interface ContainerNodeData extends NodeCommon {
  /** Loop iterations or forEach items so far, and the one whose body is drawn. */
  slots?: { count: number; shown: number };
}

export interface GroupNodeData extends Record<string, unknown> {
  label: string;
}

export interface ArmNodeData extends Record<string, unknown> {
  label: string;
  when: GraphStep["condition"] | null;
  /** taken / skipped / pending during a run. */
  status?: string;
}

export type FlowNode =
  | Node<StepNodeData, "step">
  | Node<ContainerNodeData, "container">
  | Node<ArmNodeData, "arm">
  | Node<GroupNodeData, "group-frame">;
