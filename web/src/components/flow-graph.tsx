// The flow as a graph (React Flow): stages left to right, parallel steps side by side in a group, and on
// each step its role, condition, retry/timeout settings and, during a run, its live status.
import {
  Background,
  Controls,
  Handle,
  type NodeProps,
  type NodeTypes,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { useEffect, useMemo, useRef, useState } from "react";
import {
  type FlowNode,
  type GroupNodeData,
  layoutFlow,
  type StepLive,
  type StepNodeData,
} from "../lib/flow-layout";
import { conditionText, type GraphStep, retryText } from "../lib/flow-steps";
import { formatDuration, plural } from "../lib/format";
import { StatusBadge } from "./ui";

function StepNode({ data }: NodeProps<Extract<FlowNode, { type: "step" }>>) {
  const { step, live, issueCount, selected, across } = data as StepNodeData;
  const condition = conditionText(step);
  const outputs = Object.keys(step.outputMapping ?? {});
  return (
    <div
      className={`flow-step ${live ? `flow-status-${live.waitingForRetry ? "waiting_retry" : live.status}` : ""} ${issueCount ? "has-issues" : ""} ${selected ? "is-selected" : ""}`}
      data-step={step.name}
      data-status={live?.status}
    >
      <Handle type="target" position={across ? Position.Top : Position.Left} isConnectable={false} />
      <div className="flow-step-head">
        <strong title={step.name}>{step.name}</strong>
        {live ? <StatusBadge status={live.waitingForRetry ? "waiting_retry" : live.status} /> : null}
      </div>
      <div className="flow-step-line" title={step.roleName ?? "no role: the default system prompt"}>
        {step.roleName ? `role ${step.roleName}` : "no role"}
      </div>
      {condition ? (
        <div className="flow-step-line condition" title={condition}>
          {condition}
        </div>
      ) : null}
      <div className="flow-step-line muted" title={retryText(step)}>
        {retryText(step)}
      </div>
      {live ? (
        <div className="flow-step-line muted">
          {plural(live.attempts, "attempt")} · {formatDuration(live.durationMs)}
        </div>
      ) : outputs.length ? (
        <div className="flow-step-line muted" title={outputs.join(", ")}>
          → {outputs.join(", ")}
        </div>
      ) : null}
      {issueCount ? <div className="flow-step-issues">{plural(issueCount, "problem")}</div> : null}
      <Handle type="source" position={across ? Position.Bottom : Position.Right} isConnectable={false} />
    </div>
  );
}

function GroupFrame({ data }: NodeProps<Extract<FlowNode, { type: "group-frame" }>>) {
  return <div className="flow-group">{(data as GroupNodeData).label}</div>;
}

const NODE_TYPES: NodeTypes = { step: StepNode, "group-frame": GroupFrame };

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
  live?: Map<string, StepLive>;
  issueCounts?: Map<number, number>;
  selected?: string | null;
  onSelect?: (stepName: string) => void;
  label: string;
}

/** Below this width the flow is drawn top to bottom, so a phone shows it at a readable size. */
const NARROW_PX = 640;

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

export function FlowGraph({ steps, live, issueCounts, selected, onSelect, label }: FlowGraphProps) {
  const { ref, width } = useWidth();
  const direction = width < NARROW_PX ? "TB" : "LR";
  const layout = useMemo(
    () =>
      layoutFlow(steps, {
        ...(live ? { live } : {}),
        ...(issueCounts ? { issueCounts } : {}),
        selected: selected ?? null,
        direction,
      }),
    [steps, live, issueCounts, selected, direction],
  );
  // Tall enough for the fitted flow: its height at the zoom that fits its width, within bounds.
  const scale = Math.min(1, (width - 40) / Math.max(1, layout.width));
  const height =
    direction === "TB"
      ? Math.min(900, Math.max(260, layout.height * scale + 60))
      : Math.min(560, Math.max(260, layout.height + 40));
  const signature = `${steps.map((s) => `${s.name}|${s.order ?? ""}|${s.parallelGroup ?? ""}`).join(";")}`;
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
        <ReactFlowProvider key={direction}>
          <ReactFlow
            nodes={layout.nodes}
            edges={layout.edges}
            nodeTypes={NODE_TYPES}
            nodesDraggable={false}
            nodesConnectable={false}
            elementsSelectable={Boolean(onSelect)}
            onNodeClick={(_, node) =>
              node.type === "step" && onSelect?.((node.data as StepNodeData).step.name)
            }
            onSelectionChange={({ nodes: chosen }) => {
              const node = chosen.find((n) => n.type === "step");
              if (node) onSelect?.((node.data as StepNodeData).step.name);
            }}
            fitView
            fitViewOptions={{ padding: 0.12, maxZoom: 1 }}
            minZoom={0.2}
            zoomOnScroll={false}
            preventScrolling={false}
          >
            <Background gap={20} />
            <Controls showInteractive={false} />
            <FitOnChange signature={signature} />
          </ReactFlow>
        </ReactFlowProvider>
      )}
    </section>
  );
}
