// The flow as a graph (React Flow): stages left to right, parallel steps side by side in a group, loops,
// forEach and branches as frames around their bodies, and on each step its settings and, during a run,
// its live status (node kinds in flow-nodes.tsx).
import {
  Background,
  Controls,
  type NodeTypes,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { useEffect, useMemo, useRef, useState } from "react";
import { boxHeight, chooseDirection } from "../lib/flow-fit";
import { type ContainerNodeData, type FlowNode, layoutFlow } from "../lib/flow-layout";
import { type GraphStep, stepsWithKeys } from "../lib/flow-steps";
import type { RunView } from "../lib/run-view";
import { ArmNode, ContainerNode, FlowActions, GroupFrame, StepNode } from "./flow-nodes";

const NODE_TYPES: NodeTypes = {
  step: StepNode,
  container: ContainerNode,
  arm: ArmNode,
  "group-frame": GroupFrame,
};

function FitOnChange({ signature }: { signature: string }) {
  const flow = useReactFlow();
  // biome-ignore lint/correctness/useExhaustiveDependencies: `signature` is the trigger: re-fit when the flow's shape changes.
  useEffect(() => {
    // Re-fit when the shape of the flow changes (steps added, removed or regrouped), not on status ticks.
    const frame = window.requestAnimationFrame(() => void flow.fitView({ padding: 0.12, maxZoom: 1 }));
    return () => window.cancelAnimationFrame(frame);
  }, [flow, signature]);
  return null;
}

interface FlowGraphProps {
  steps: readonly GraphStep[];
  run?: RunView;
  /** Problems per step key ("2", "2.*.0"). */
  issueCounts?: Map<string, number>;
  /** The selected step's key. */
  selected?: string | null;
  onSelect?: (key: string) => void;
  /** Show another iteration or item of the loop or forEach at `key`. */
  onPickSlot?: (key: string, slot: number) => void;
  label: string;
}

function useWidth() {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(1024);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => setWidth(entry?.contentRect.width ?? 1024));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

const keyOfNode = (node: FlowNode) =>
  node.type === "step" || node.type === "container" ? (node.data as ContainerNodeData).key : undefined;

export function FlowGraph({
  steps,
  run,
  issueCounts,
  selected,
  onSelect,
  onPickSlot,
  label,
}: FlowGraphProps) {
  const { ref, width } = useWidth();
  const layouts = useMemo(() => {
    const options = {
      ...(run ? { run } : {}),
      ...(issueCounts ? { issueCounts } : {}),
      selected: selected ?? null,
    };
    return {
      LR: layoutFlow(steps, { ...options, direction: "LR" }),
      TB: layoutFlow(steps, { ...options, direction: "TB" }),
    };
  }, [steps, run, issueCounts, selected]);
  const direction = chooseDirection(layouts, width);
  const layout = layouts[direction];
  const height = boxHeight(layout, width, direction);
  const actions = useMemo(() => (onPickSlot ? { pickSlot: onPickSlot } : {}), [onPickSlot]);
  const signature = [...stepsWithKeys(steps)]
    .map(({ step, key }) => `${key}|${step.name}|${step.order ?? ""}|${step.parallelGroup ?? ""}`)
    .join(";");
  return (
    <section
      ref={ref}
      className="flow"
      style={{ height: steps.length ? height : undefined }}
      aria-label={label}
    >
      {steps.length === 0 ? (
        <p className="flow-empty">The graph appears here once the definition has steps.</p>
      ) : (
        <FlowActions.Provider value={actions}>
          <ReactFlowProvider key={direction}>
            <ReactFlow
              nodes={layout.nodes}
              edges={layout.edges}
              nodeTypes={NODE_TYPES}
              nodesDraggable={false}
              nodesConnectable={false}
              elevateNodesOnSelect={false}
              elementsSelectable={Boolean(onSelect)}
              onNodeClick={(_, node) => {
                const key = keyOfNode(node);
                if (key !== undefined) onSelect?.(key);
              }}
              onSelectionChange={({ nodes: chosen }) => {
                const key = chosen.map(keyOfNode).find((k) => k !== undefined);
                if (key !== undefined) onSelect?.(key);
              }}
              fitView
              fitViewOptions={{ padding: 0.12, maxZoom: 1 }}
              minZoom={0.1}
              zoomOnScroll={false}
              preventScrolling={false}
            >
              <Background gap={20} />
              <Controls showInteractive={false} />
              <FitOnChange signature={signature} />
            </ReactFlow>
          </ReactFlowProvider>
        </FlowActions.Provider>
      )}
    </section>
  );
}
