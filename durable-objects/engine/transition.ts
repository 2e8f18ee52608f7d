// One transition's working copy of the run: copy-on-write step records (so the shell persists only the
// steps that changed, found by reference), the commands gathered so far, and context building.
// Pure: no storage, no clock, no network.
import { renderValue } from "./render";
import type { AttemptRecord, Command, JsonValue, Plan, RunHeader, RunState, StepRun } from "./types";

export interface Transition {
  readonly plan: Plan;
  readonly now: number;
  readonly runner: string;
  header: RunHeader;
  steps: StepRun[];
  commands: Command[];
  /** A mutable copy of step `index`, registered in `steps`. */
  edit(index: number): StepRun;
  settleAttempt(step: StepRun, fields: Omit<Partial<AttemptRecord>, "attempt" | "runner">): void;
  warn(step: StepRun, warnings: readonly string[]): void;
  /** `{ input, [stepName]: output, ...outputMapping values }`, applied in completion order. */
  context(): Record<string, JsonValue>;
  startAttempt(index: number): void;
}

export function contextOf(run: Pick<RunState, "header" | "steps">): Record<string, JsonValue> {
  const context: Record<string, JsonValue> = { input: run.header.input };
  const completed = run.steps
    .filter((s) => s.status === "completed" && s.completedSeq !== undefined)
    .sort((a, b) => (a.completedSeq ?? 0) - (b.completedSeq ?? 0));
  for (const step of completed) {
    context[step.name] = step.output ?? null;
    Object.assign(context, step.mapped);
  }
  // `context.input` is always the execution input, even when a step is named "input".
  context.input = run.header.input;
  return context;
}

/** Outputs of the latest stage before `stageIndex` that completed anything, by step name. */
function previousOutputs(tx: Transition, stageIndex: number): Record<string, JsonValue> | undefined {
  for (let s = stageIndex - 1; s >= 0; s--) {
    const completed = (tx.plan.stages[s] ?? [])
      .map((i) => tx.steps[i])
      .filter((step) => step?.status === "completed");
    if (completed.length > 0)
      return Object.fromEntries(completed.map((step) => [step?.name, step?.output ?? null]));
  }
  return undefined;
}

/** The rendered inputMapping, or `{ input, previous }` when the step has none; warnings go on the step. */
function renderInput(tx: Transition, index: number): JsonValue {
  const definition = tx.plan.steps[index];
  if (definition?.inputMapping) {
    const warnings: string[] = [];
    const input = renderValue(definition.inputMapping as JsonValue, { context: tx.context() }, warnings);
    tx.warn(tx.edit(index), warnings);
    return input;
  }
  const stageIndex = tx.plan.stages.findIndex((stage) => stage.includes(index));
  const previous = previousOutputs(tx, stageIndex);
  return previous ? { input: tx.header.input, previous } : { input: tx.header.input };
}

export function startTransition(plan: Plan, run: RunState, now: number, runner: string): Transition {
  const copied = new Set<number>();
  const tx: Transition = {
    plan,
    now,
    runner,
    header: { ...run.header },
    steps: [...run.steps],
    commands: [],
    edit(index) {
      const current = tx.steps[index];
      if (!current) throw new Error(`no step at index ${index}`);
      if (copied.has(index)) return current;
      const copy = { ...current, attempts: [...current.attempts], warnings: [...current.warnings] };
      tx.steps[index] = copy;
      copied.add(index);
      return copy;
    },
    settleAttempt(step, fields) {
      const last = step.attempts.length - 1;
      const open = step.attempts[last];
      if (open) step.attempts[last] = { ...open, ...fields, endedAt: now };
    },
    warn(step, warnings) {
      for (const warning of warnings) if (!step.warnings.includes(warning)) step.warnings.push(warning);
    },
    context: () => contextOf(tx),
    startAttempt(index) {
      const definition = plan.steps[index];
      if (!definition) return;
      const step = tx.edit(index);
      // A retry gets its first attempt's input: rendering again would let a parallel sibling that
      // completed in between leak into it, so the result would depend on timing.
      const input = step.attempts[0]?.input ?? renderInput(tx, index);
      const attempt = step.attempts.length + 1;
      const deadline = now + definition.timeout;
      step.attempts.push({ attempt, runner, startedAt: now, deadline, input });
      step.status = "running";
      delete step.retryAt;
      tx.commands.push({ type: "call_model", step: index, attempt, input, deadline });
    },
  };
  return tx;
}
