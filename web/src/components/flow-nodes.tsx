// The graph's node kinds: a step (agent, sub-orchestration, approval, sleep) with its settings and live
// state, a container frame (loop, forEach, branch) with its progress and an iteration / item picker, a
// branch arm's frame, and a parallel group's frame.
import { Handle, type NodeProps, Position } from "@xyflow/react";
import { createContext, type MouseEvent, type ReactNode, useContext } from "react";
import type {
  ArmNodeData,
  ContainerNodeData,
  FlowNode,
  GroupNodeData,
  StepLive,
  StepNodeData,
} from "../lib/flow-layout";
import {
  conditionText,
  describeCondition,
  type GraphStep,
  KIND_LABELS,
  kindOf,
  kindText,
  retryText,
} from "../lib/flow-steps";
import { formatDuration, formatShortDateTime, plural } from "../lib/format";
import { Link } from "../lib/router";
import { slotLabel, streamingTextOf } from "../lib/run-view";
import { StatusBadge } from "./ui";

/** What a node can ask of the page: show another iteration or item of a loop or forEach. */
export const FlowActions = createContext<{ pickSlot?: (key: string, slot: number) => void }>({});

const statusOf = (live: StepLive | undefined) =>
  live ? (live.waitingForRetry ? "waiting_retry" : live.status) : undefined;

function Handles({ across, children }: { across: boolean; children: ReactNode }) {
  return (
    <>
      <Handle type="target" position={across ? Position.Top : Position.Left} isConnectable={false} />
      {children}
      <Handle type="source" position={across ? Position.Bottom : Position.Right} isConnectable={false} />
    </>
  );
}

function Line({ text, className = "" }: { text: string; className?: string }) {
  return (
    <div className={`flow-step-line ${className}`} title={text}>
      {text}
    </div>
  );
}

/** A node has room for one line: the end of the reply, where the new words arrive. */
const STREAM_TAIL_CHARS = 40;

function StreamingLine({ text }: { text: string }) {
  const flat = text.replace(/\s+/g, " ").trim();
  const tail = flat.length > STREAM_TAIL_CHARS ? `…${flat.slice(-STREAM_TAIL_CHARS)}` : flat;
  return (
    <div className="flow-step-line streaming" title={flat} data-streaming="true">
      <span className="streaming-dot" aria-hidden="true" />
      <span className="visually-hidden">streaming: </span>
      {tail}
    </div>
  );
}

/** The live line of a leaf step: attempts and time, what it waits for, its child, or why it did not run. */
function LiveLine({ step, live }: { step: GraphStep; live: StepLive }) {
  const log = live.log;
  const wait = log?.wait;
  const child = log?.childExecutionId;
  if (wait?.kind === "approval")
    return <Line className="waiting" text={`waiting since ${formatShortDateTime(wait.since)}`} />;
  if (wait?.kind === "timer")
    return <Line className="waiting" text={`sleeping until ${formatShortDateTime(wait.until)}`} />;
  if (child) {
    return (
      <div className="flow-step-line">
        {wait?.kind === "child" ? "waiting for " : "child "}
        <Link to={`/executions/${child}`} className="nodrag nopan mono" onClick={(e) => e.stopPropagation()}>
          {child.slice(0, 14)}…
        </Link>
      </div>
    );
  }
  switch (live.status) {
    case "not_started":
      return <Line className="muted" text="not reached in this run" />;
    case "skipped":
      return <Line className="muted" text={log?.reason ?? "its arm was not taken"} />;
    case "pending":
      return <Line className="muted" text="not started yet" />;
  }
  if (step.stepType === "approval" || step.stepType === "sleep")
    return <Line className="muted" text={log?.error ?? log?.reason ?? live.status} />;
  const streaming = streamingTextOf(log);
  if (streaming) return <StreamingLine text={streaming} />;
  return (
    <Line
      className="muted"
      text={`${plural(live.attempts, "attempt")} · ${formatDuration(live.durationMs)}`}
    />
  );
}

function settingsText(step: GraphStep, live: StepLive | undefined): string | null {
  switch (kindOf(step)) {
    case "agent":
    case "orchestration":
      return retryText(step);
    case "approval": {
      const wait = live?.log?.wait;
      return (wait?.kind === "approval" ? wait.message : step.message) ?? "no message";
    }
    default:
      return null;
  }
}

export function StepNode({ data }: NodeProps<Extract<FlowNode, { type: "step" }>>) {
  const { step, live, issueCount, selected, across } = data as StepNodeData;
  const condition = conditionText(step);
  const settings = settingsText(step, live);
  const outputs = Object.keys(step.outputMapping ?? {});
  const status = statusOf(live);
  const kind = kindOf(step);
  return (
    <div
      className={`flow-step flow-kind-${kind} ${status ? `flow-status-${status}` : ""} ${issueCount ? "has-issues" : ""} ${selected ? "is-selected" : ""}`}
      data-step={step.name}
      data-status={live?.status}
    >
      <Handles across={across}>
        <div className="flow-step-head">
          <strong title={step.name}>
            {kind === "agent" ? null : <span className="kind-tag">{KIND_LABELS[kind]}</span>}
            {step.name}
          </strong>
          {status ? <StatusBadge status={status} /> : null}
        </div>
        <Line text={kindText(step)} />
        {condition ? <Line className="condition" text={condition} /> : null}
        {settings ? <Line className="muted" text={settings} /> : null}
        {live ? (
          <LiveLine step={step} live={live} />
        ) : outputs.length ? (
          <Line className="muted" text={`→ ${outputs.join(", ")}`} />
        ) : null}
        {issueCount ? <div className="flow-step-issues">{plural(issueCount, "problem")}</div> : null}
      </Handles>
    </div>
  );
}

/** Each item's status as one strip: press it to show the item under the pointer. */
function ItemStrip({
  statuses,
  onPick,
  label,
}: {
  statuses: string[];
  onPick?: (slot: number) => void;
  label: string;
}) {
  const runs: { status: string; from: number; length: number }[] = [];
  statuses.forEach((status, i) => {
    const last = runs.at(-1);
    if (last && last.status === status) last.length += 1;
    else runs.push({ status, from: i, length: 1 });
  });
  return (
    <button
      type="button"
      className="item-strip nodrag nopan"
      aria-label={label}
      title={label}
      onClick={(event) => {
        event.stopPropagation(); // picking an item is not picking the forEach step itself
        const box = event.currentTarget.getBoundingClientRect();
        const slot = Math.floor(((event.clientX - box.left) / Math.max(1, box.width)) * statuses.length);
        onPick?.(Math.min(statuses.length - 1, Math.max(0, slot)));
      }}
    >
      {runs.map((run) => (
        <span key={run.from} className={`status-${run.status}`} style={{ flexGrow: run.length }} />
      ))}
    </button>
  );
}

function progressText(data: ContainerNodeData): string {
  const log = data.live?.log;
  if (log?.forEach) {
    const { total, done, failed, running } = log.forEach;
    if (total === null) return log.status === "completed" ? "no items" : "items not resolved yet";
    return [
      `${done} / ${total} items done`,
      failed ? `${failed} failed` : "",
      running ? `${running} running` : "",
    ]
      .filter(Boolean)
      .join(" · ");
  }
  if (log?.loop) {
    const ran = data.slots?.count ?? 0;
    return ran === 0 ? "not started" : `${plural(ran, "iteration")} of at most ${log.loop.maxIterations}`;
  }
  if (log?.branch) {
    const taken = log.branch.arms.find((arm) => arm.status === "taken");
    const when = taken ? data.step.arms?.[taken.index]?.when : undefined;
    return taken
      ? `took ${when ? `“when ${describeCondition(when)}”` : taken.label}`
      : log.branch.taken === null && log.status === "completed"
        ? "no arm held; nothing ran"
        : "not decided yet";
  }
  return data.live?.status === "skipped" ? "skipped" : "not started";
}

function SlotPicker({ data }: { data: ContainerNodeData }) {
  const { pickSlot } = useContext(FlowActions);
  const slots = data.slots;
  if (!slots || slots.count === 0) return null;
  const what = data.step.stepType === "loop" ? "iteration" : "item";
  const go = (event: MouseEvent, slot: number) => {
    event.stopPropagation(); // paging through iterations is not picking the container step itself
    pickSlot?.(data.key, slot);
  };
  return (
    <div className="slot-picker nodrag nopan">
      <button
        type="button"
        aria-label={`Previous ${what}`}
        disabled={slots.shown === 0}
        onClick={(event) => go(event, slots.shown - 1)}
      >
        ‹
      </button>
      <span>showing {slotLabel(data.step, slots.shown, slots.count)}</span>
      <button
        type="button"
        aria-label={`Next ${what}`}
        disabled={slots.shown >= slots.count - 1}
        onClick={(event) => go(event, slots.shown + 1)}
      >
        ›
      </button>
    </div>
  );
}

export function ContainerNode({ data }: NodeProps<Extract<FlowNode, { type: "container" }>>) {
  const { step, live, issueCount, selected, across, key } = data as ContainerNodeData;
  const { pickSlot } = useContext(FlowActions);
  const status = statusOf(live);
  const condition = conditionText(step);
  const items = live?.log?.forEach?.items;
  return (
    <div
      className={`flow-container flow-kind-${kindOf(step)} ${status ? `flow-status-${status}` : ""} ${issueCount ? "has-issues" : ""} ${selected ? "is-selected" : ""}`}
      data-step={step.name}
      data-status={live?.status}
    >
      <Handles across={across}>
        <div className="flow-container-head">
          <div className="flow-step-head">
            <strong title={step.name}>
              <span className="kind-tag">{KIND_LABELS[kindOf(step)]}</span> {step.name}
            </strong>
            {status ? <StatusBadge status={status} /> : null}
          </div>
          <Line text={[kindText(step), condition].filter(Boolean).join(" · ")} />
          {issueCount ? <div className="flow-step-issues">{plural(issueCount, "problem")}</div> : null}
          {live ? <Line className="progress" text={progressText(data as ContainerNodeData)} /> : null}
          {items?.length ? (
            <ItemStrip
              statuses={items}
              label={`Status of each of the ${items.length} items; press to show one`}
              onPick={(slot) => pickSlot?.(key, slot)}
            />
          ) : null}
          <SlotPicker data={data as ContainerNodeData} />
        </div>
      </Handles>
    </div>
  );
}

export function ArmNode({ data }: NodeProps<Extract<FlowNode, { type: "arm" }>>) {
  const { label, when, status } = data as ArmNodeData;
  const text = when ? `when ${describeCondition(when)}` : "otherwise";
  return (
    <div className={`flow-arm ${status ? `arm-${status}` : ""}`} data-arm={label} data-status={status}>
      <span title={`${label}: ${text}`}>{text}</span>
      {status && status !== "pending" ? <span className={`badge status-${status}`}>{status}</span> : null}
    </div>
  );
}

export function GroupFrame({ data }: NodeProps<Extract<FlowNode, { type: "group-frame" }>>) {
  return <div className="flow-group">{(data as GroupNodeData).label}</div>;
}
