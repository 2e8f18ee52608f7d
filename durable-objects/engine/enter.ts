// Entering a step instance when its stage comes up: a false condition skips it; otherwise each kind
// starts its own way — an attempt (agent, orchestration), a durable wait (approval, sleep), or a body
// (loop, forEach, branch) that the walk then runs. Pure: no storage, no clock, no network.
import { startAttempt } from "./attempts";
import { evaluateCondition } from "./conditions";
import type { ApprovalStep, ForEachStep, JsonValue, SleepStep, StepDefinition } from "./definition";
import { FOR_EACH_ITEMS_MAX_CHARS, FOR_EACH_MAX_ITEMS, runLimitsOf, WAIT_MAX_MS } from "./limits";
import { budgetFor, jsonChars, renderString, renderValue, SizeLimitExceeded } from "./render";
import { type ScopeVars, scopeOf, scopeVarsOf } from "./scope";
import { completeInstance, failInstance } from "./settle";
import type { Transition } from "./transition";

export function enter(tx: Transition, id: string, step: StepDefinition): void {
  const vars = scopeVarsOf(tx, id);
  if (step.condition) {
    const result = evaluateCondition(step.condition, tx.context(scopeOf(tx, id)), vars);
    if (!result.pass) {
      const instance = tx.edit(id);
      instance.status = "skipped";
      instance.reason = result.reason;
      if (result.warning) tx.warn(instance, [result.warning]);
      return;
    }
  }
  switch (step.stepType) {
    case undefined:
    case "agent":
    case "orchestration":
      startAttempt(tx, id, step);
      return;
    case "approval":
      waitForApproval(tx, id, step, vars);
      return;
    case "sleep":
      sleep(tx, id, step, vars);
      return;
    case "loop": {
      const instance = tx.edit(id);
      instance.status = "running";
      instance.iteration = 0;
      return;
    }
    case "forEach":
      startForEach(tx, id, step, vars);
      return;
    case "branch":
      chooseBranch(tx, id, step, vars);
      return;
    default:
      step satisfies never;
  }
}

/**
 * Renders a template string in the instance's scope within maxStepInputChars (`what` names it in the
 * error); warnings go on the instance. Past the limit the step fails and this answers undefined.
 */
function renderText(
  tx: Transition,
  id: string,
  template: string,
  vars: ScopeVars,
  what: string,
): JsonValue | undefined {
  const warnings: string[] = [];
  const max = runLimitsOf(tx.plan).maxStepInputChars;
  const budget = budgetFor({ max, name: "maxStepInputChars", what });
  try {
    const value = renderString(template, { context: tx.context(scopeOf(tx, id)), ...vars }, warnings, budget);
    tx.warn(tx.edit(id), warnings);
    return value;
  } catch (error) {
    if (!(error instanceof SizeLimitExceeded)) throw error;
    failInstance(tx, id, `step "${tx.edit(id).name}" failed: ${error.message}`);
    return undefined;
  }
}

function waitForApproval(tx: Transition, id: string, step: ApprovalStep, vars: ScopeVars): void {
  const instance = tx.edit(id);
  const message =
    step.message === undefined ? null : renderText(tx, id, step.message, vars, "the rendered message");
  if (message === undefined) return;
  instance.status = "waiting";
  instance.wait = {
    kind: "approval",
    since: tx.now,
    deadline: tx.now + step.timeout,
    message: message === null || typeof message === "string" ? message : JSON.stringify(message),
  };
}

function sleep(tx: Transition, id: string, step: SleepStep, vars: ScopeVars): void {
  let until = tx.now + (step.duration ?? 0);
  if (step.until !== undefined) {
    const rendered = renderText(tx, id, step.until, vars, "the rendered until");
    if (rendered === undefined) return;
    until = typeof rendered === "string" ? Date.parse(rendered) : Number.NaN;
    const why = Number.isNaN(until)
      ? `until ${JSON.stringify(rendered)} is not an ISO time`
      : until - tx.now > WAIT_MAX_MS
        ? `until ${rendered} is more than 30 days away`
        : undefined;
    if (why) {
      failInstance(tx, id, `step "${step.name}" failed: ${why}`);
      return;
    }
  }
  if (until <= tx.now) {
    completeInstance(tx, id, { sleptUntil: new Date(Math.max(until, tx.now)).toISOString() });
    return;
  }
  const instance = tx.edit(id);
  instance.status = "waiting";
  instance.wait = { kind: "timer", until };
}

function startForEach(tx: Transition, id: string, step: ForEachStep, vars: ScopeVars): void {
  const items =
    typeof step.items === "string"
      ? renderValue(step.items, { context: tx.context(scopeOf(tx, id)), ...vars }, [])
      : step.items;
  const source = typeof step.items === "string" ? step.items : "items";
  if (!Array.isArray(items)) {
    const got = items === "" ? "nothing" : JSON.stringify(items).slice(0, 200);
    failInstance(tx, id, `step "${step.name}" failed: items ${source} must resolve to an array, got ${got}`);
    return;
  }
  // Measured, not stringified: the items are values of the context, already within its limit.
  const chars = items.length > FOR_EACH_MAX_ITEMS ? 0 : jsonChars(items);
  const why =
    items.length > FOR_EACH_MAX_ITEMS
      ? `${items.length} items; a forEach takes at most ${FOR_EACH_MAX_ITEMS}`
      : chars > FOR_EACH_ITEMS_MAX_CHARS
        ? `its items are ${chars} characters of JSON; a forEach takes at most ${FOR_EACH_ITEMS_MAX_CHARS} (pass ids or short references, and let each item's step fetch the rest)`
        : undefined;
  if (why) {
    failInstance(tx, id, `step "${step.name}" failed: ${why}`);
    return;
  }
  if (items.length === 0) {
    completeInstance(tx, id, []);
    return;
  }
  const instance = tx.edit(id);
  instance.status = "running";
  instance.items = items;
}

function chooseBranch(
  tx: Transition,
  id: string,
  step: Extract<StepDefinition, { stepType: "branch" }>,
  vars: ScopeVars,
): void {
  const context = tx.context(scopeOf(tx, id));
  const instance = tx.edit(id);
  const reasons: string[] = [];
  for (const [index, arm] of step.branches.entries()) {
    const result = evaluateCondition(arm.when, context, vars);
    if (result.warning) tx.warn(instance, [result.warning]);
    if (result.pass) {
      instance.status = "running";
      instance.branch = index;
      instance.reason = `branch ${index} taken: ${result.reason}`;
      return;
    }
    reasons.push(result.reason);
  }
  if (step.otherwise) {
    instance.status = "running";
    instance.branch = step.branches.length;
    instance.reason = `otherwise taken: ${reasons.join("; ")}`;
    return;
  }
  instance.branch = null;
  completeInstance(tx, id, null).reason = `no branch taken and there is no otherwise: ${reasons.join("; ")}`;
}
