// How an instance ends: completed with an output (its outputMapping written into the context), failed
// (or failed and continued, for continueOnError), and cancelling everything unfinished inside a
// container or the whole run. Pure: no storage, no clock, no network.
import type { JsonValue, kindOf } from "./definition";
import { runLimitsOf } from "./limits";
import { budgetFor, contextChars, jsonChars, renderValue, SizeLimitExceeded } from "./render";
import { scopeOf, scopeVarsOf } from "./scope";
import { isSettled } from "./status";
import type { Transition } from "./transition";
import { isWithin, nodeOf, ROOT } from "./tree";
import type { StepError, StepInstance, Usage } from "./types";

export function definitionOf(tx: Transition, id: string) {
  const step = nodeOf(tx.plan.steps, id);
  if (!step) throw new Error(`no step in the plan for instance ${id}`);
  return step;
}

/**
 * Completes `id` with `output`: settles an open attempt, applies its outputMapping, writes the context.
 * A mapped value or the context that would pass its size limit fails the step instead (kind `limit`).
 */
export function completeInstance(tx: Transition, id: string, output: JsonValue, usage?: Usage): StepInstance {
  const instance = tx.edit(id);
  const context = tx.context(scopeOf(tx, id));
  const written = writtenValues(tx, instance, context, output);
  if (!written.ok) {
    failOnLimit(tx, instance, written.error, output, usage);
    return instance;
  }
  if (instance.wait?.kind === "call" || instance.wait?.kind === "child")
    tx.settleAttempt(instance, { outcome: "succeeded", output, ...(usage ? { usage } : {}) });
  instance.status = "completed";
  instance.output = output;
  delete instance.wait;
  delete instance.retryAt;
  if (written.mapped) instance.mapped = written.mapped;
  tx.settle(instance);
  // Settling wrote into this very object (a scope's context is updated in place): its size is known.
  contextSizes.set(context, written.contextSize);
  return instance;
}

type Written =
  | { ok: true; mapped?: Record<string, JsonValue>; contextSize: number }
  | { ok: false; error: StepError };

/**
 * Each scope context's size, measured once and kept up to date here as instances settle into it, so a
 * run of a thousand steps does not measure its whole context a thousand times.
 */
const contextSizes = new WeakMap<Context, number>();
type Context = Record<string, JsonValue>;

/** The size `context` has once `written` is in it (its `input` always stays the run's input). */
function sizeWith(context: Context, written: Context, max: number): number {
  let size = contextSizes.get(context);
  if (size === undefined) {
    size = contextChars(context);
    contextSizes.set(context, size);
  }
  for (const [key, value] of Object.entries(written)) {
    if (key === "input") continue;
    if (Object.hasOwn(context, key)) size -= key.length + 4 + jsonChars(context[key]);
    size += key.length + 4 + jsonChars(value, max);
  }
  return size;
}

/**
 * What completing `instance` with `output` writes into its scope's context: the outputMapping's values,
 * each rendered within maxMappedValueChars, and the context they make within maxRunContextChars.
 */
function writtenValues(tx: Transition, instance: StepInstance, current: Context, output: JsonValue): Written {
  const limits = runLimitsOf(tx.plan);
  const mapping = definitionOf(tx, instance.id).outputMapping;
  let mapped: Record<string, JsonValue> | undefined;
  if (mapping) {
    const warnings: string[] = [];
    const context = { ...current, [instance.name]: output };
    const scope = { context, output, ...scopeVarsOf(tx, instance.id) };
    const what = (key: string) =>
      `outputMapping${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`;
    try {
      mapped = Object.fromEntries(
        Object.entries(mapping).map(([key, template]) => {
          const budget = budgetFor({
            max: limits.maxMappedValueChars,
            name: "maxMappedValueChars",
            what: what(key),
          });
          return [key, renderValue(template, scope, warnings, budget)];
        }),
      );
    } catch (error) {
      if (error instanceof SizeLimitExceeded) return { ok: false, error: limitError(error.message) };
      throw error;
    }
    tx.warn(instance, warnings);
  }
  const max = limits.maxRunContextChars;
  const contextSize = sizeWith(current, { [instance.name]: output, ...mapped }, max);
  if (contextSize > max)
    return {
      ok: false,
      error: limitError(`the run's context would be over ${max} characters (maxRunContextChars)`),
    };
  return { ok: true, ...(mapped ? { mapped } : {}), contextSize };
}

export function limitError(message: string): StepError {
  return { kind: "limit", message, retryable: false };
}

/**
 * A step whose result would pass a size limit fails for good (no retry makes the same reply smaller); an
 * open attempt keeps the output that was refused, for the log.
 */
function failOnLimit(
  tx: Transition,
  instance: StepInstance,
  error: StepError,
  output: JsonValue,
  usage: Usage | undefined,
): void {
  if (instance.wait?.kind !== "call" && instance.wait?.kind !== "child") {
    failInstance(tx, instance.id, `step "${instance.name}" failed: ${error.message}`);
    return;
  }
  tx.settleAttempt(instance, { outcome: "failed", error, output, ...(usage ? { usage } : {}) });
  const count = instance.attempts.length;
  failInstance(
    tx,
    instance.id,
    `step "${instance.name}" failed after ${count} attempt${count === 1 ? "" : "s"}: ${error.message}`,
  );
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
    const context = tx.context(scopeOf(tx, id));
    const size = sizeWith(context, { [instance.name]: instance.output }, Number.POSITIVE_INFINITY);
    tx.settle(instance);
    contextSizes.set(context, size);
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
