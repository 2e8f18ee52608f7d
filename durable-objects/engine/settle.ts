// How an instance ends: completed with an output (its outputMapping written into the context), failed
// (or failed and continued, for continueOnError), and cancelling everything unfinished inside a
// container or the whole run. Pure: no storage, no clock, no network.
import type { JsonValue, kindOf } from "./definition";
import { renderValue } from "./render";
import { scopeOf, scopeVarsOf } from "./scope";
import { isSettled } from "./status";
import type { Transition } from "./transition";
import { isWithin, nodeOf, ROOT } from "./tree";
import type { StepInstance, Usage } from "./types";

export function definitionOf(tx: Transition, id: string) {
  const step = nodeOf(tx.plan.steps, id);
  if (!step) throw new Error(`no step in the plan for instance ${id}`);
  return step;
}

/** Completes `id` with `output`: settles an open attempt, applies its outputMapping, writes the context. */
export function completeInstance(tx: Transition, id: string, output: JsonValue, usage?: Usage): StepInstance {
  const instance = tx.edit(id);
  if (instance.wait?.kind === "call" || instance.wait?.kind === "child")
    tx.settleAttempt(instance, { outcome: "succeeded", output, ...(usage ? { usage } : {}) });
  instance.status = "completed";
  instance.output = output;
  delete instance.wait;
  delete instance.retryAt;
  const mapping = definitionOf(tx, id).outputMapping;
  if (mapping) {
    const warnings: string[] = [];
    const context = { ...tx.context(scopeOf(tx, id)), [instance.name]: output };
    const scope = { context, output, ...scopeVarsOf(tx, id) };
    instance.mapped = Object.fromEntries(
      Object.entries(mapping).map(([key, template]) => [key, renderValue(template, scope, warnings)]),
    );
    tx.warn(instance, warnings);
  }
  tx.settle(instance);
  return instance;
}

/**
 * Fails `id` for good with `error` (a sentence naming the step). With continueOnError the failure is
 * recorded, `context[name]` becomes `{ error }` and the run goes on; otherwise the enclosing body fails.
 */
export function failInstance(tx: Transition, id: string, error: string): void {
  const instance = tx.edit(id);
  instance.status = "failed";
  instance.error = error;
  delete instance.wait;
  delete instance.retryAt;
  if (definitionOf(tx, id).continueOnError) {
    instance.continued = true;
    instance.output = { error };
    tx.settle(instance);
  }
}

/** Cancels every unfinished instance inside `container` (the whole run for ROOT), aborting what is in flight. */
export function stopUnfinished(tx: Transition, container: string, reason: string): void {
  for (const found of [...tx.instances()]) {
    if (isSettled(found.status) || found.id === container || !isWithin(found.id, container)) continue;
    const instance = tx.edit(found.id);
    const open = instance.attempts.at(-1);
    if (open && !open.outcome && (instance.wait?.kind === "call" || instance.wait?.kind === "child")) {
      tx.settleAttempt(instance, {
        outcome: "cancelled",
        error: { kind: "cancelled", message: reason, retryable: false },
      });
      if (instance.wait.kind === "call")
        tx.commands.push({ type: "abort", instance: instance.id, attempt: open.attempt, reason });
      else tx.commands.push({ type: "cancel_child", executionId: instance.wait.executionId, reason });
    }
    instance.status = "cancelled";
    instance.reason = reason;
    delete instance.retryAt;
    delete instance.wait;
  }
}

/** Ends the run as failed with `error`, cancelling whatever still runs. */
export function failRun(tx: Transition, error: string, culprit: string): void {
  tx.header.status = "failed";
  tx.header.finishedAt = tx.now;
  tx.header.error = error;
  stopUnfinished(tx, ROOT, `execution failed: step "${culprit}" failed`);
}

/** Whether `kind` makes attempts (and so has retries and an attempt log). */
export function hasAttempts(kind: ReturnType<typeof kindOf>): boolean {
  return kind === "agent" || kind === "orchestration";
}
