// An execution's step instances matched to the definition tree: which instance a graph node shows (a loop
// or forEach body is drawn once, for the iteration or item the user picked, else the most telling one),
// and the rows the step picker and the timeline list. Pure: no React, no network.
import type { GraphStep } from "./flow-steps";
import type { ExecutionStatus, StepLog } from "./trpc";

export interface StepLive {
  status: string;
  attempts: number;
  durationMs: number | null;
  waitingForRetry: boolean;
  /** The full log, for waits, child executions and container progress. */
  log?: StepLog;
}

export interface RunView {
  /** Per step instance id ("2", "2.0.1"). */
  live: ReadonlyMap<string, StepLive>;
  /** The iteration or item the user picked, per loop or forEach step key ("2", "2.*.0"). */
  slots: ReadonlyMap<string, number>;
  /** The run has ended: body steps it never reached will not run now. */
  finished: boolean;
}

export function liveOf(execution: ExecutionStatus, now: number): Map<string, StepLive> {
  const live = new Map<string, StepLive>();
  for (const log of execution.stepLogs) {
    const first = log.attempts[0]?.startedAt;
    const last = log.attempts.at(-1);
    const end = last?.endedAt ? Date.parse(last.endedAt) : now;
    live.set(log.id, {
      status: log.status,
      attempts: log.attempts.length,
      durationMs: first ? end - Date.parse(first) : null,
      waitingForRetry: log.waitingForRetry,
      log,
    });
  }
  return live;
}

/**
 * The reply so far of a step whose model is streaming, while it runs; null otherwise. The stored output
 * replaces it once the attempt ends (the status then carries no streaming text).
 */
export function streamingTextOf(log: StepLog | undefined): string | null {
  return log?.status === "running" && log.streamingText ? log.streamingText : null;
}

/** Iterations a loop has started, or a forEach's item count; 0 before it starts. */
export function slotCount(log: StepLog | undefined): number {
  if (log?.loop) return log.loop.iteration === null ? 0 : log.loop.iteration + 1;
  if (log?.forEach) return log.forEach.total ?? 0;
  return 0;
}

/** Status per iteration (earlier ones completed, the latest as the loop is) or per forEach item. */
export function slotStatuses(log: StepLog | undefined): string[] {
  if (log?.forEach) return [...log.forEach.items];
  const count = slotCount(log);
  return Array.from({ length: count }, (_, k) =>
    k < count - 1 ? "completed" : log?.status === "completed" ? "completed" : (log?.status ?? "pending"),
  );
}

/** Without a choice: the latest iteration; the first failed item, else the first running, else the last started. */
export function defaultSlot(log: StepLog | undefined): number {
  if (log?.forEach) {
    const items: readonly string[] = log.forEach.items;
    for (const wanted of ["failed", "running"]) {
      const at = items.indexOf(wanted);
      if (at >= 0) return at;
    }
    return Math.max(
      0,
      items.findLastIndex((status) => status !== "pending"),
    );
  }
  return Math.max(0, slotCount(log) - 1);
}

export function shownSlot(key: string, log: StepLog | undefined, run: RunView): number {
  const chosen = run.slots.get(key);
  return chosen !== undefined && chosen >= 0 && chosen < slotCount(log) ? chosen : defaultSlot(log);
}

export interface Body {
  /** Key prefix of the body's steps: `${key}.*` for loop and forEach bodies, `${key}.${arm}` for arms. */
  keyPrefix: string;
  /** Instance id prefix of the body's steps, when the container has started this body. */
  idPrefix: string | undefined;
  steps: GraphStep[];
  arm?: { index: number; label: string; status: string };
}

/** The bodies a container draws, each tied to the instances shown (the picked slot, or each arm). */
export function bodiesOf(step: GraphStep, key: string, id: string | undefined, run?: RunView): Body[] {
  const log = id === undefined ? undefined : run?.live.get(id)?.log;
  if (step.steps) {
    const started = log !== undefined && slotCount(log) > 0;
    const idPrefix = started && run ? `${id}.${shownSlot(key, log, run)}` : undefined;
    return [{ keyPrefix: `${key}.*`, idPrefix, steps: step.steps }];
  }
  return (step.arms ?? []).map((arm, index) => ({
    keyPrefix: `${key}.${index}`,
    idPrefix: log ? `${id}.${index}` : undefined,
    steps: arm.steps,
    arm: {
      index,
      label: arm.label,
      status: log?.branch?.arms.find((a) => a.index === index)?.status ?? "pending",
    },
  }));
}

/** What a body step shows when it has no instance: skipped with its arm, not run once the run ended. */
export function liveOrPlaceholder(id: string | undefined, body: Body | undefined, run: RunView): StepLive {
  const found = id === undefined ? undefined : run.live.get(id);
  if (found) return found;
  const status = body?.arm?.status === "skipped" ? "skipped" : run.finished ? "not_started" : "pending";
  return { status, attempts: 0, durationMs: null, waitingForRetry: false };
}

export interface Row {
  key: string;
  id: string | undefined;
  depth: number;
  step: GraphStep;
  live: StepLive;
}

/** The instances on show, in tree order: top-level steps, then each container's shown body (the taken arm only). */
export function visibleRows(steps: readonly GraphStep[], run: RunView): Row[] {
  const rows: Row[] = [];
  const walk = (
    body: readonly GraphStep[],
    keyPrefix: string,
    idPrefix: string | undefined,
    depth: number,
    from?: Body,
  ) => {
    for (const [j, step] of body.entries()) {
      const key = keyPrefix ? `${keyPrefix}.${j}` : String(j);
      const id = keyPrefix ? (idPrefix === undefined ? undefined : `${idPrefix}.${j}`) : String(j);
      rows.push({ key, id, depth, step, live: liveOrPlaceholder(id, from, run) });
      for (const inner of bodiesOf(step, key, id, run)) {
        if (inner.arm && inner.arm.status !== "taken") continue;
        walk(inner.steps, inner.keyPrefix, inner.idPrefix, depth + 1, inner);
      }
    }
  };
  walk(steps, "", undefined, 0);
  return rows;
}

/** The step key of an instance id: loop and forEach slots become "*", branch arms stay. */
export function keyOf(id: string, steps: readonly GraphStep[]): string | undefined {
  return walkId(id, steps)?.key;
}

/** The slot each loop or forEach around `id` must show for `id` to be on screen. */
export function slotsFor(id: string, steps: readonly GraphStep[]): Map<string, number> {
  return walkId(id, steps)?.slots ?? new Map();
}

function walkId(id: string, steps: readonly GraphStep[]) {
  const parts = id.split(".").map(Number);
  let step = steps[parts[0] ?? -1];
  let key = String(parts[0]);
  const slots = new Map<string, number>();
  for (let i = 1; step && i + 1 < parts.length; i += 2) {
    const slot = parts[i] ?? 0;
    const j = parts[i + 1] ?? 0;
    if (step.steps) {
      slots.set(key, slot);
      key = `${key}.*.${j}`;
      step = step.steps[j];
    } else {
      key = `${key}.${slot}.${j}`;
      step = step.arms?.[slot]?.steps[j];
    }
  }
  return step ? { key, slots } : undefined;
}

/** The instance a step key stands for under the shown slots (undefined: not started there). */
export function instanceOf(key: string, steps: readonly GraphStep[], run: RunView): string | undefined {
  const parts = key.split(".");
  let id = parts[0] ?? "";
  let containerKey = id;
  let step = steps[Number(id)];
  for (let i = 1; step && i + 1 < parts.length; i += 2) {
    const part = parts[i] ?? "";
    const j = Number(parts[i + 1]);
    const log = run.live.get(id)?.log;
    if (part === "*") {
      if (slotCount(log) === 0) return undefined;
      id = `${id}.${shownSlot(containerKey, log, run)}.${j}`;
      step = step.steps?.[j];
    } else {
      id = `${id}.${part}.${j}`;
      step = step.arms?.[Number(part)]?.steps[j];
    }
    containerKey = `${containerKey}.${part}.${j}`;
  }
  return step && run.live.has(id) ? id : undefined;
}

/** "iteration 2 of 5" / "item 3 of 100": 1-based for people ({{iteration}} and {{index}} count from 0). */
export function slotLabel(step: GraphStep, slot: number, count: number): string {
  return step.stepType === "loop" ? `iteration ${slot + 1} of ${count}` : `item ${slot + 1} of ${count}`;
}

/** Where an instance runs, for people: "Refinement iteration 2 · Tasks item 3"; "" at top level. */
export function whereText(id: string, steps: readonly GraphStep[]): string {
  const parts = id.split(".").map(Number);
  let step = steps[parts[0] ?? -1];
  const places: string[] = [];
  for (let i = 1; step && i + 1 < parts.length; i += 2) {
    const slot = parts[i] ?? 0;
    const j = parts[i + 1] ?? 0;
    if (step.steps) {
      places.push(`${step.name} ${step.stepType === "loop" ? "iteration" : "item"} ${slot + 1}`);
      step = step.steps[j];
    } else {
      places.push(`${step.name} ${step.arms?.[slot]?.label ?? `arm ${slot}`}`);
      step = step.arms?.[slot]?.steps[j];
    }
  }
  return places.join(" · ");
}

/** The tree as far as the status shows it, for when the pinned definition cannot be read. */
export function stepsFromLogs(
  logs: readonly StepLog[],
  parentId: string | null = null,
  slot?: number,
): GraphStep[] {
  const byIndex = new Map<number, StepLog>();
  for (const log of logs) {
    if (log.parentId !== parentId || (slot !== undefined && log.slot !== slot)) continue;
    if (!byIndex.has(log.index)) byIndex.set(log.index, log);
  }
  return [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, log]) => {
      const step: GraphStep = { name: log.name, order: log.stage };
      if (log.stepType !== "agent") step.stepType = log.stepType;
      if (log.roleName) step.roleName = log.roleName;
      if (log.parallelGroup) step.parallelGroup = log.parallelGroup;
      if (log.loop) step.maxIterations = log.loop.maxIterations;
      if (log.loop || log.forEach) step.steps = stepsFromLogs(logs, log.id);
      if (log.branch) {
        step.arms = log.branch.arms.map((arm) => ({
          label: arm.label,
          when: arm.when,
          steps: stepsFromLogs(logs, log.id, arm.index),
        }));
      }
      return step;
    });
}
