// The scheduler's walk over the tree: each body runs its stages in order, a stage's instances are
// entered when it comes up and it is done when all of them finished; containers run their bodies
// (loop iterations one after another, forEach items up to `concurrency` at a time, the branch arm
// taken) and complete with their output. A body step that fails fails its container, up to the run.
// The ready set is derived from the instances each time; nothing like a cursor is stored.
// Pure: no storage, no clock, no network.
import { endIfBudgetStopped } from "./budget";
import { evaluateCondition } from "./conditions";
import {
  type ForEachStep,
  isContainer,
  type JsonValue,
  type LoopStep,
  type StepDefinition,
} from "./definition";
import { enter } from "./enter";
import { INSTANCES_MAX } from "./limits";
import { scopeOf, scopeVarsOf } from "./scope";
import { completeInstance, failInstance, failRun, stopUnfinished } from "./settle";
import { isFinished } from "./status";
import type { Transition } from "./transition";
import { bodyOf, childId, ROOT, stagesOfBody } from "./tree";
import type { StepInstance } from "./types";

type BlockState =
  | { state: "done" }
  | { state: "running" }
  | { state: "failed"; error: string; culprit: string };
type IdOf = (index: number) => string;

const RUNNING: BlockState = { state: "running" };
const DONE: BlockState = { state: "done" };

/** Moves the run forward: the top-level body, and the run's end once it is done or has failed. */
export function advance(tx: Transition): void {
  const result = advanceBlock(tx, tx.plan.steps, String, ROOT);
  if (tx.header.status !== "running") return;
  if (result.state === "failed") failRun(tx, result.error, result.culprit);
  else if (endIfBudgetStopped(tx)) return;
  if (result.state === "done") {
    tx.header.status = "completed";
    tx.header.finishedAt = tx.now;
    tx.header.output = blockOutput(tx, tx.plan.steps, String);
  }
}

/** `body` names this run of the steps (ROOT, or "<container id>.<slot>") for the walk's progress memo. */
function advanceBlock(
  tx: Transition,
  steps: readonly StepDefinition[],
  idOf: IdOf,
  body: string,
): BlockState {
  const stages = stagesOfBody(steps);
  // Stages found finished earlier in this decision stay finished: a chain is not walked from its start again.
  for (let s = tx.stagesFinished(body); s < stages.length; s++) {
    const stage = stages[s] ?? [];
    let done = true;
    for (const index of stage) {
      const step = steps[index];
      if (!step) continue;
      const instance = advanceInstance(tx, idOf(index), step);
      if (instance === undefined)
        return {
          state: "failed",
          error: `the run would create more than ${INSTANCES_MAX} step instances`,
          culprit: step.name,
        };
      if (instance.status === "failed" && !instance.continued)
        return {
          state: "failed",
          error: instance.error ?? `step "${step.name}" failed`,
          culprit: instance.name,
        };
      if (!isFinished(instance)) done = false;
    }
    if (!done) return RUNNING;
    tx.markStagesFinished(body, s + 1);
  }
  return DONE;
}

/** Enters the instance if it is new or pending, runs its body if it is a running container. */
function advanceInstance(tx: Transition, id: string, step: StepDefinition): StepInstance | undefined {
  let instance = tx.get(id);
  if (!instance) {
    if (tx.size >= INSTANCES_MAX) return undefined;
    instance = tx.create(id, step);
  }
  if (instance.status === "pending") {
    enter(tx, id, step);
    instance = tx.get(id) ?? instance;
  }
  if (instance.status === "running" && isContainer(step)) {
    advanceContainer(tx, id, step);
    instance = tx.get(id) ?? instance;
  }
  return instance;
}

function advanceContainer(tx: Transition, id: string, step: StepDefinition): void {
  const instance = tx.get(id);
  if (!instance) return;
  switch (step.stepType) {
    case "loop":
      advanceLoop(tx, id, step);
      return;
    case "forEach":
      advanceForEach(tx, id, step, instance.items ?? []);
      return;
    case "branch": {
      const arm = instance.branch ?? 0;
      const body = bodyOf(step, arm) ?? [];
      const result = advanceBlock(tx, body, (j) => childId(id, arm, j), `${id}.${arm}`);
      if (result.state === "failed") {
        failContainer(tx, id, result);
        return;
      }
      if (result.state === "done")
        completeInstance(
          tx,
          id,
          blockOutput(tx, body, (j) => childId(id, arm, j)),
        );
      return;
    }
    default:
      return;
  }
}

function advanceLoop(tx: Transition, id: string, step: LoopStep): void {
  for (;;) {
    const iteration = tx.get(id)?.iteration ?? 0;
    const idOf = (j: number) => childId(id, iteration, j);
    const result = advanceBlock(tx, step.steps, idOf, `${id}.${iteration}`);
    if (result.state === "failed") {
      failContainer(tx, id, result);
      return;
    }
    if (result.state === "running") return;
    const vars = { ...scopeVarsOf(tx, id), iteration };
    const until = step.until ? evaluateCondition(step.until, tx.context(scopeOf(tx, id)), vars) : undefined;
    if (until?.warning) tx.warn(tx.edit(id), [until.warning]);
    const last = iteration + 1 >= step.maxIterations;
    if (until?.pass || last) {
      const outputs = Array.from({ length: iteration + 1 }, (_, k) =>
        blockOutput(tx, step.steps, (j) => childId(id, k, j)),
      );
      completeInstance(tx, id, { iterations: iteration + 1, outputs }).reason = until?.pass
        ? `ended after iteration ${iteration}: ${until.reason}`
        : `ended after ${step.maxIterations} iteration${step.maxIterations === 1 ? "" : "s"} (maxIterations)${until ? `; ${until.reason}` : ""}`;
      return;
    }
    tx.edit(id).iteration = iteration + 1;
  }
}

function advanceForEach(tx: Transition, id: string, step: ForEachStep, items: readonly JsonValue[]): void {
  const [firstStage] = stagesOfBody(step.steps);
  const first = firstStage?.[0] ?? 0;
  let active = 0;
  let done = 0;
  for (let item = 0; item < items.length; item++) {
    const idOf = (j: number) => childId(id, item, j);
    const started = tx.get(idOf(first)) !== undefined;
    if (!started && active >= step.concurrency) break;
    const result = advanceBlock(tx, step.steps, idOf, `${id}.${item}`);
    if (result.state === "failed") {
      failContainer(tx, id, result);
      return;
    }
    if (result.state === "done") done += 1;
    else active += 1;
  }
  if (done < items.length) return;
  const outputs = items.map((_, item) => blockOutput(tx, step.steps, (j) => childId(id, item, j)));
  completeInstance(tx, id, outputs);
}

/** A body step failed: whatever else runs in the container is cancelled, then the container fails. */
function failContainer(tx: Transition, id: string, cause: Extract<BlockState, { state: "failed" }>): void {
  stopUnfinished(tx, id, `step "${cause.culprit}" failed`);
  failInstance(tx, id, cause.error);
  tx.edit(id).reason = `step "${cause.culprit}" failed inside it`;
}

/**
 * A body's output: its latest stage that completed anything — one step, its output; a group, an object
 * by step name. The run's output, each loop iteration's and each forEach item's.
 */
export function blockOutput(tx: Transition, steps: readonly StepDefinition[], idOf: IdOf): JsonValue {
  const stages = stagesOfBody(steps);
  for (let s = stages.length - 1; s >= 0; s--) {
    const stage = stages[s] ?? [];
    // A step that failed with continueOnError counts with its output `{ error }`, as in the context.
    const completed = stage
      .map((i) => tx.get(idOf(i)))
      .filter((found) => found?.status === "completed" || found?.continued === true);
    const [only] = completed;
    if (!only) continue;
    // The shape follows the stage, not how many of its steps happened to run: a group is always by name.
    return stage.length === 1
      ? (only.output ?? null)
      : Object.fromEntries(completed.map((found) => [found?.name, found?.output ?? null]));
  }
  return null;
}
