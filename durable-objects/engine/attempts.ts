// Attempts of the kinds that make them: an agent step's model call, an orchestration step's child
// execution. Starting one, a failed one (retried after its delay while the budget lasts), and the
// deadlines and crashes that end them. Pure: no storage, no clock, no network.
import { reserveCall, reserveChild, worstCaseOfCall } from "./budget";
import type { AgentStep, OrchestrationStep } from "./definition";
import { runLimitsOf, WAIT_MAX_MS } from "./limits";
import { budgetFor, jsonChars, type RenderBudget, renderValue, SizeLimitExceeded } from "./render";
import { countedAttempts, retryDelayMs } from "./retry";
import { scopeOf, scopeVarsOf } from "./scope";
import { definitionOf, failInstance } from "./settle";
import type { Transition } from "./transition";
import { bodyOf, nodeOf, parentOf, stageIndexOf, stagesOfBody } from "./tree";
import {
  DISPATCHED_PREFIX,
  dispatchedTo,
  type JsonValue,
  type StepError,
  type StepInstance,
  type Usage,
} from "./types";

/** A step whose attempts were cut off by restarts more than this many times fails instead of looping forever. */
export const MAX_INTERRUPTIONS = 5;

/** Starts the next attempt of an agent or orchestration step. */
export function startAttempt(tx: Transition, id: string, step: AgentStep | OrchestrationStep): void {
  // The budget stopped the run: nothing new starts while what is in flight ends.
  if (tx.header.budgetStop) return;
  const instance = tx.edit(id);
  // A retry gets its first attempt's input: rendering again would let a parallel sibling that
  // completed in between leak into it, so the result would depend on timing.
  const input = instance.attempts[0]?.input ?? inputWithinLimit(tx, id, step);
  if (input instanceof SizeLimitExceeded) {
    refuseInput(tx, instance, input);
    return;
  }
  delete instance.retryAt;
  if (step.stepType === "orchestration") {
    startChild(tx, instance, step, input);
    return;
  }
  const held = reserveCall(tx, instance, worstCaseOfCall(tx, step, input));
  // Refused by the budget: left as it is (pending, or waiting without a retry time) until the run fails.
  if (held === false) return;
  const attempt = instance.attempts.length + 1;
  const deadline = tx.now + step.timeout;
  instance.attempts.push({
    attempt,
    runner: tx.runner,
    startedAt: tx.now,
    deadline,
    input,
    ...(held ? { reserved: held } : {}),
  });
  instance.status = "running";
  instance.wait = { kind: "call", attempt };
  tx.commands.push({ type: "call_model", instance: instance.id, attempt, input, deadline });
}

function startChild(tx: Transition, instance: StepInstance, step: OrchestrationStep, input: JsonValue): void {
  const held = reserveChild(tx, instance);
  if (held === false) return;
  const attempt = instance.attempts.length + 1;
  const executionId = tx.inputs.newExecutionId();
  const deadline = tx.now + (step.timeout ?? WAIT_MAX_MS);
  instance.attempts.push({
    attempt,
    runner: tx.runner,
    startedAt: tx.now,
    deadline,
    input,
    childExecutionId: executionId,
    ...(held ? { reserved: held.held } : {}),
  });
  instance.status = "waiting";
  instance.wait = { kind: "child", attempt, executionId, deadline };
  tx.commands.push({
    type: "start_child",
    instance: instance.id,
    attempt,
    executionId,
    stepName: step.name,
    orchestrationId: step.orchestrationId,
    ...(step.version !== undefined ? { version: step.version } : {}),
    input,
    ...(held ? { budget: held.grant } : {}),
  });
}

/** The step's input, or why it cannot have one: rendering stops as soon as it passes maxStepInputChars. */
function inputWithinLimit(
  tx: Transition,
  id: string,
  step: AgentStep | OrchestrationStep,
): JsonValue | SizeLimitExceeded {
  const max = runLimitsOf(tx.plan).maxStepInputChars;
  const budget = budgetFor({ max, name: "maxStepInputChars", what: "the rendered input" });
  try {
    return renderInput(tx, id, step, budget);
  } catch (error) {
    if (error instanceof SizeLimitExceeded) return error;
    throw error;
  }
}

/** An input over its limit fails the step at once, on an attempt that never ran: no retry renders less. */
function refuseInput(tx: Transition, instance: StepInstance, exceeded: SizeLimitExceeded): void {
  const error: StepError = { kind: "limit", message: exceeded.message, retryable: false };
  const attempt = instance.attempts.length + 1;
  // `input: null`: a resume renders it again rather than reusing it.
  const at = tx.now;
  instance.attempts.push({
    attempt,
    runner: tx.runner,
    startedAt: at,
    deadline: at,
    endedAt: at,
    outcome: "failed",
    error,
    input: null,
  });
  failInstance(
    tx,
    instance.id,
    `step "${instance.name}" failed after ${attemptCount(attempt)}: ${error.message}`,
  );
}

const attemptCount = (n: number) => `${n} attempt${n === 1 ? "" : "s"}`;

/**
 * The rendered inputMapping. Without one: an agent step gets `{ input, previous }` (plus `item`, `index`,
 * `iteration` inside a body), a child execution gets the run's input.
 */
function renderInput(
  tx: Transition,
  id: string,
  step: AgentStep | OrchestrationStep,
  budget: RenderBudget,
): JsonValue {
  const vars = scopeVarsOf(tx, id);
  if (step.inputMapping) {
    const warnings: string[] = [];
    const scope = { context: tx.context(scopeOf(tx, id)), ...vars };
    const input = renderValue(step.inputMapping as JsonValue, scope, warnings, budget);
    tx.warn(tx.edit(id), warnings);
    return input;
  }
  let input = tx.header.input;
  if (step.stepType !== "orchestration") {
    const previous = previousOutputs(tx, id);
    input = { input, ...(previous ? { previous } : {}), ...vars } as JsonValue;
  }
  // Made of values already in the context (no new text): measured, up to the limit, not rendered.
  if (jsonChars(input, budget.limit.max) > budget.limit.max) throw new SizeLimitExceeded(budget.limit);
  return input;
}

/**
 * Outputs of the latest earlier stage of the same body that completed anything, by step name; at the
 * start of a body, what its container would get.
 */
function previousOutputs(tx: Transition, id: string): Record<string, JsonValue> | undefined {
  const parent = parentOf(id);
  const container = parent ? nodeOf(tx.plan.steps, parent.id) : undefined;
  const body = container && parent ? bodyOf(container, parent.slot) : tx.plan.steps;
  if (!body) return undefined;
  const index = Number(id.slice(id.lastIndexOf(".") + 1));
  const stages = stagesOfBody(body);
  const siblingId = (i: number) => (parent ? `${parent.id}.${parent.slot}.${i}` : String(i));
  for (let s = stageIndexOf(body, index) - 1; s >= 0; s--) {
    const completed = (stages[s] ?? [])
      .map((i) => tx.get(siblingId(i)))
      .filter((found) => found?.status === "completed");
    if (completed.length > 0)
      return Object.fromEntries(completed.map((found) => [found?.name, found?.output ?? null]));
  }
  return parent ? previousOutputs(tx, parent.id) : undefined;
}

/** Ends the open attempt with a failure: retried after its delay while the budget lasts, else the step fails. */
export function failAttempt(
  tx: Transition,
  id: string,
  outcome: "failed" | "timed_out" | "interrupted",
  error: StepError,
  usage?: Usage,
  output?: JsonValue,
): void {
  const instance = tx.edit(id);
  const step = definitionOf(tx, id) as AgentStep | OrchestrationStep;
  if (outcome === "interrupted") instance.interruptions += 1;
  const givingUp = outcome === "interrupted" && instance.interruptions > MAX_INTERRUPTIONS;
  // The last interruption's error becomes the run's error, so it must not promise another attempt.
  const cause: StepError = givingUp
    ? {
        ...error,
        message: `the attempt was cut off by a restart ${instance.interruptions} times; it is not run again`,
        retryable: false,
      }
    : error;
  tx.settleAttempt(instance, {
    outcome,
    error: cause,
    ...(usage ? { usage } : {}),
    ...(output !== undefined ? { output } : {}),
  });
  delete instance.wait;
  if (outcome === "interrupted" && !givingUp) {
    waitForRetry(instance, tx.now);
    return;
  }
  const used = countedAttempts(instance.attempts.slice(instance.budgetFrom ?? 0));
  if (outcome !== "interrupted" && error.retryable && used < step.maxRetries + 1) {
    const seed = `${tx.plan.executionId}:${id}`;
    waitForRetry(instance, tx.now + retryDelayMs(step, used, seed, error));
    return;
  }
  failInstance(
    tx,
    id,
    `step "${instance.name}" failed after ${attemptCount(instance.attempts.length)}: ${cause.message}`,
  );
}

function waitForRetry(instance: StepInstance, at: number): void {
  instance.status = "waiting_retry";
  instance.retryAt = at;
}

/** Model calls past their deadline time out, calls started by a runner that is gone were cut off, child runs past theirs are cancelled. */
export function expireAttempt(tx: Transition, instance: StepInstance): void {
  const { wait } = instance;
  const open = instance.attempts.at(-1);
  if (!open || open.outcome) return;
  if (wait?.kind === "call") {
    if (open.runner !== tx.runner && dispatchedTo(open.runner) === undefined) {
      const message = "the attempt was cut off by a restart before its result was stored; it runs again";
      failAttempt(tx, instance.id, "interrupted", { kind: "interrupted", message, retryable: true });
    } else if (open.deadline <= tx.now) {
      tx.commands.push({ type: "abort", instance: instance.id, attempt: open.attempt, reason: "timeout" });
      const step = definitionOf(tx, instance.id) as AgentStep;
      const timeout = step.timeout ?? open.deadline - open.startedAt;
      failAttempt(tx, instance.id, "timed_out", {
        kind: "timeout",
        message: `attempt timed out after ${timeout} ms`,
        retryable: true,
      });
    }
  } else if (wait?.kind === "child" && (wait.deadline ?? Number.POSITIVE_INFINITY) <= tx.now) {
    const message = `child execution ${wait.executionId} did not finish within ${open.deadline - open.startedAt} ms`;
    tx.commands.push({ type: "cancel_child", executionId: wait.executionId, reason: "timeout" });
    failAttempt(tx, instance.id, "timed_out", { kind: "timeout", message, retryable: true });
  }
}

/** The open attempt's call is made by call runner `runnerIndex` of the tenant's pool, not by this object. */
export function markDispatched(tx: Transition, id: string, attempt: number, runnerIndex: number): void {
  const instance = tx.edit(id);
  const last = instance.attempts.length - 1;
  const open = instance.attempts[last];
  if (open?.attempt === attempt)
    instance.attempts[last] = { ...open, runner: `${DISPATCHED_PREFIX}${runnerIndex}` };
}
