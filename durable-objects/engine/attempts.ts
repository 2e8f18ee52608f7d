// Attempts of the kinds that make them: an agent step's model call, an orchestration step's child
// execution. Starting one, a failed one (retried after its delay while the budget lasts), and the
// deadlines and crashes that end them. Pure: no storage, no clock, no network.
import type { AgentStep, OrchestrationStep } from "./definition";
import { WAIT_MAX_MS } from "./limits";
import { renderValue } from "./render";
import { countedAttempts, retryDelayMs } from "./retry";
import { scopeOf, scopeVarsOf } from "./scope";
import { definitionOf, failInstance } from "./settle";
import type { Transition } from "./transition";
import { bodyOf, nodeOf, parentOf, stageIndexOf, stagesOfBody } from "./tree";
import { dispatchedTo, type JsonValue, type StepError, type StepInstance, type Usage } from "./types";

/** A step whose attempts were cut off by restarts more than this many times fails instead of looping forever. */
export const MAX_INTERRUPTIONS = 5;

/** Starts the next attempt of an agent or orchestration step. */
export function startAttempt(tx: Transition, id: string, step: AgentStep | OrchestrationStep): void {
  const instance = tx.edit(id);
  // A retry gets its first attempt's input: rendering again would let a parallel sibling that
  // completed in between leak into it, so the result would depend on timing.
  const input = instance.attempts[0]?.input ?? renderInput(tx, id, step);
  const attempt = instance.attempts.length + 1;
  delete instance.retryAt;
  if (step.stepType === "orchestration") {
    const executionId = tx.inputs.newExecutionId();
    const deadline = tx.now + (step.timeout ?? WAIT_MAX_MS);
    instance.attempts.push({
      attempt,
      runner: tx.runner,
      startedAt: tx.now,
      deadline,
      input,
      childExecutionId: executionId,
    });
    instance.status = "waiting";
    instance.wait = { kind: "child", attempt, executionId, deadline };
    tx.commands.push({
      type: "start_child",
      instance: id,
      attempt,
      executionId,
      stepName: step.name,
      orchestrationId: step.orchestrationId,
      ...(step.version !== undefined ? { version: step.version } : {}),
      input,
    });
    return;
  }
  const deadline = tx.now + step.timeout;
  instance.attempts.push({ attempt, runner: tx.runner, startedAt: tx.now, deadline, input });
  instance.status = "running";
  instance.wait = { kind: "call", attempt };
  tx.commands.push({ type: "call_model", instance: id, attempt, input, deadline });
}

/**
 * The rendered inputMapping. Without one: an agent step gets `{ input, previous }` (plus `item`, `index`,
 * `iteration` inside a body), a child execution gets the run's input.
 */
function renderInput(tx: Transition, id: string, step: AgentStep | OrchestrationStep): JsonValue {
  const vars = scopeVarsOf(tx, id);
  if (step.inputMapping) {
    const warnings: string[] = [];
    const scope = { context: tx.context(scopeOf(tx, id)), ...vars };
    const input = renderValue(step.inputMapping as JsonValue, scope, warnings);
    tx.warn(tx.edit(id), warnings);
    return input;
  }
  if (step.stepType === "orchestration") return tx.header.input;
  const previous = previousOutputs(tx, id);
  return { input: tx.header.input, ...(previous ? { previous } : {}), ...vars } as JsonValue;
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
  const attempts = `${instance.attempts.length} attempt${instance.attempts.length === 1 ? "" : "s"}`;
  failInstance(tx, id, `step "${instance.name}" failed after ${attempts}: ${cause.message}`);
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
