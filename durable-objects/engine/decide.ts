// The scheduler: given the plan, the durable run state, one event and the time, it returns the next
// state, the commands to perform and when to wake next. Pure: no storage, no clock, no network; the
// Durable Object persists what this returns before it acts on the commands.
import { evaluateCondition } from "./conditions";
import { parseOutput } from "./output";
import { renderValue } from "./render";
import { countedAttempts, retryDelayMs } from "./retry";
import { startTransition, type Transition } from "./transition";
import type {
  AgentTurn,
  Decision,
  EngineEvent,
  JsonValue,
  Plan,
  RunHeader,
  RunState,
  StepError,
  StepRun,
  Usage,
} from "./types";

/** A step whose attempts were cut off by restarts more than this many times fails instead of looping forever. */
export const MAX_INTERRUPTIONS = 5;

/** A step that has not been touched yet. */
export function pendingStep(index: number, name: string): StepRun {
  return { index, name, status: "pending", attempts: [], warnings: [], interruptions: 0 };
}

export function initialRun(input: JsonValue, stepNames: readonly string[], now: number): RunState {
  const header: RunHeader = { v: 1, status: "pending", input, stageCursor: 0, seq: 0, createdAt: now };
  return { header, steps: stepNames.map((name, index) => pendingStep(index, name)) };
}

export function decide(plan: Plan, run: RunState, event: EngineEvent, now: number, runner: string): Decision {
  return decideAll(plan, run, [event], now, runner);
}

/**
 * Several events that happened together (replies that arrived while the object was busy), applied in
 * order and then scheduled once: the same as deciding them one by one at the same `now`, except that
 * every reply in the batch counts before any deadline is checked, as a single reply does alone.
 */
export function decideAll(
  plan: Plan,
  run: RunState,
  events: readonly EngineEvent[],
  now: number,
  runner: string,
): Decision {
  const tx = startTransition(plan, run, now, runner);
  const before = run.header.status;
  for (const event of events) applyEvent(tx, event);
  if (tx.header.status === "running") {
    expireAttempts(tx);
    advance(tx);
  }
  if (tx.header.status !== before) tx.commands.push({ type: "status_changed", status: tx.header.status });
  return { run: { header: tx.header, steps: tx.steps }, commands: tx.commands, wakeAt: nextWake(tx) };
}

function applyEvent(tx: Transition, event: EngineEvent): void {
  switch (event.type) {
    case "start":
      if (tx.header.status === "pending") {
        tx.header.status = "running";
        tx.header.startedAt = tx.now;
      }
      return;
    case "wake":
      return;
    case "cancel":
      if (tx.header.status === "pending" || tx.header.status === "running") {
        tx.header.status = "cancelled";
        tx.header.error = event.reason;
        tx.header.finishedAt = tx.now;
        stopUnfinished(tx, event.reason);
      }
      return;
    case "attempt_finished": {
      const attempt = tx.steps[event.step]?.attempts.find((a) => a.attempt === event.attempt);
      // A reply for an attempt already settled (timed out, cancelled, duplicate) changes nothing.
      if (tx.header.status !== "running" || !attempt || attempt.outcome) return;
      const { result } = event;
      if (result.turns) keepTurns(tx, event.step, result.turns);
      if (!result.ok) {
        failAttempt(tx, event.step, "failed", result.error, result.usage);
        return;
      }
      const format = tx.plan.steps[event.step]?.outputFormat ?? "auto";
      const parsed = parseOutput(result.text, format);
      if (parsed.ok) completeStep(tx, event.step, parsed.output, result.usage);
      else failAttempt(tx, event.step, "failed", parsed.error, result.usage, result.text);
      return;
    }
    case "attempt_deferred": {
      const step = tx.steps[event.step];
      const open = step?.attempts.at(-1);
      if (tx.header.status !== "running" || !open || open.attempt !== event.attempt || open.outcome) return;
      const edited = tx.edit(event.step);
      edited.attempts.pop();
      edited.status = "waiting_retry";
      // Not `now`: this same transition must not start it again; the next wake-up will.
      edited.retryAt = tx.now + 1;
      return;
    }
    default:
      event satisfies never;
  }
}

/** Records a meta role's model turns on the open attempt, before it is settled either way. */
function keepTurns(tx: Transition, index: number, turns: AgentTurn[]): void {
  const step = tx.edit(index);
  const last = step.attempts.length - 1;
  const open = step.attempts[last];
  if (open) step.attempts[last] = { ...open, turns };
}

function completeStep(tx: Transition, index: number, output: JsonValue, usage: Usage): void {
  const step = tx.edit(index);
  tx.settleAttempt(step, { outcome: "succeeded", usage, output });
  step.status = "completed";
  step.output = output;
  step.completedSeq = ++tx.header.seq;
  const mapping = tx.plan.steps[index]?.outputMapping;
  if (mapping) {
    const warnings: string[] = [];
    const scope = { context: tx.context(), output };
    step.mapped = Object.fromEntries(
      Object.entries(mapping).map(([key, template]) => [key, renderValue(template, scope, warnings)]),
    );
    tx.warn(step, warnings);
  }
}

function failAttempt(
  tx: Transition,
  index: number,
  outcome: "failed" | "timed_out" | "interrupted",
  error: StepError,
  usage?: Usage,
  output?: JsonValue,
): void {
  const step = tx.edit(index);
  if (outcome === "interrupted") step.interruptions += 1;
  const givingUp = outcome === "interrupted" && step.interruptions > MAX_INTERRUPTIONS;
  // The last interruption's error becomes the run's error, so it must not promise another attempt.
  const cause: StepError = givingUp
    ? {
        ...error,
        message: `the attempt was cut off by a restart ${step.interruptions} times; it is not run again`,
        retryable: false,
      }
    : error;
  tx.settleAttempt(step, {
    outcome,
    error: cause,
    ...(usage ? { usage } : {}),
    ...(output !== undefined ? { output } : {}),
  });
  const definition = tx.plan.steps[index];
  if (!definition) return;
  if (outcome === "interrupted" && !givingUp) {
    step.status = "waiting_retry";
    step.retryAt = tx.now;
    return;
  }
  const used = countedAttempts(step.attempts);
  if (outcome !== "interrupted" && error.retryable && used < definition.maxRetries + 1) {
    step.status = "waiting_retry";
    step.retryAt = tx.now + retryDelayMs(definition, used, `${tx.plan.executionId}:${index}`, error);
    return;
  }
  step.status = "failed";
  const attempts = `${step.attempts.length} attempt${step.attempts.length === 1 ? "" : "s"}`;
  tx.header.status = "failed";
  tx.header.finishedAt = tx.now;
  tx.header.error = `step "${step.name}" failed after ${attempts}: ${cause.message}`;
  stopUnfinished(tx, `execution failed: step "${step.name}" failed`);
}

/** Cancels every step that has not finished, aborting attempts in flight. */
function stopUnfinished(tx: Transition, reason: string): void {
  tx.steps.forEach((step, index) => {
    if (step.status !== "pending" && step.status !== "running" && step.status !== "waiting_retry") return;
    const edited = tx.edit(index);
    const open = edited.attempts.at(-1);
    if (open && !open.outcome) {
      tx.settleAttempt(edited, {
        outcome: "cancelled",
        error: { kind: "cancelled", message: reason, retryable: false },
      });
      tx.commands.push({ type: "abort", step: index, attempt: open.attempt, reason });
    }
    edited.status = "cancelled";
    edited.reason = reason;
    delete edited.retryAt;
  });
}

/** Attempts past their deadline time out; attempts started by a runner that is gone were cut off. */
function expireAttempts(tx: Transition): void {
  tx.steps.forEach((step, index) => {
    const open = step.status === "running" ? step.attempts.at(-1) : undefined;
    if (!open || open.outcome || tx.header.status !== "running") return;
    if (open.runner !== tx.runner) {
      const message = "the attempt was cut off by a restart before its result was stored; it runs again";
      failAttempt(tx, index, "interrupted", { kind: "interrupted", message, retryable: true });
    } else if (open.deadline <= tx.now) {
      tx.commands.push({ type: "abort", step: index, attempt: open.attempt, reason: "timeout" });
      const timeout = tx.plan.steps[index]?.timeout ?? open.deadline - open.startedAt;
      failAttempt(tx, index, "timed_out", {
        kind: "timeout",
        message: `attempt timed out after ${timeout} ms`,
        retryable: true,
      });
    }
  });
}

/** Starts due retries and every ready step of the current stage; moves through finished stages. */
function advance(tx: Transition): void {
  for (const step of tx.steps) {
    if (step.status === "waiting_retry" && (step.retryAt ?? 0) <= tx.now) tx.startAttempt(step.index);
  }
  while (tx.header.status === "running") {
    const stage = tx.plan.stages[tx.header.stageCursor];
    if (!stage) {
      completeRun(tx);
      return;
    }
    for (const index of stage) {
      if (tx.steps[index]?.status === "pending") startOrSkip(tx, index);
    }
    const done = stage.every((i) => tx.steps[i]?.status === "completed" || tx.steps[i]?.status === "skipped");
    if (!done) return;
    tx.header.stageCursor += 1;
  }
}

function startOrSkip(tx: Transition, index: number): void {
  const condition = tx.plan.steps[index]?.condition;
  if (condition) {
    const result = evaluateCondition(condition, tx.context());
    if (!result.pass) {
      const step = tx.edit(index);
      step.status = "skipped";
      step.reason = result.reason;
      if (result.warning) tx.warn(step, [result.warning]);
      return;
    }
  }
  tx.startAttempt(index);
}

function completeRun(tx: Transition): void {
  tx.header.status = "completed";
  tx.header.finishedAt = tx.now;
  for (const stage of [...tx.plan.stages].reverse()) {
    const completed = stage.map((i) => tx.steps[i]).filter((s) => s?.status === "completed");
    const [only] = completed;
    if (!only) continue;
    // The shape follows the stage, not how many of its steps happened to run: a group is always by name.
    tx.header.output =
      stage.length === 1
        ? (only.output ?? null)
        : Object.fromEntries(completed.map((s) => [s?.name, s?.output ?? null]));
    return;
  }
  tx.header.output = null;
}

function nextWake(tx: Transition): number | undefined {
  if (tx.header.status !== "running") return undefined;
  let wake: number | undefined;
  for (const step of tx.steps) {
    const at =
      step.status === "waiting_retry"
        ? step.retryAt
        : step.status === "running"
          ? step.attempts.at(-1)?.deadline
          : undefined;
    if (at !== undefined && (wake === undefined || at < wake)) wake = at;
  }
  return wake;
}
