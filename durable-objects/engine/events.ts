// What each event does to the run before the walk schedules: replies and child results settle
// attempts, an approval decides its step, cancel stops everything (and fail, when the shell could not
// store the run's next state, ends it failed), resume re-opens what failed or was cancelled. An event for something already settled (late, duplicate, timed out) changes nothing.
// Pure: no storage, no clock, no network.
import { failAttempt, markDispatched } from "./attempts";
import { holdForRun, releaseHold } from "./budget";
import type { AgentStep } from "./definition";
import { runLimitsOf } from "./limits";
import { parseOutput } from "./output";
import { jsonChars } from "./render";
import { completeInstance, definitionOf, limitError, stopUnfinished } from "./settle";
import { isSettled } from "./status";
import type { Transition } from "./transition";
import { ancestorsOf, ROOT } from "./tree";
import type { AgentTurn, EngineEvent, Spend, StepInstance } from "./types";

export function applyEvent(tx: Transition, event: EngineEvent): void {
  const running = tx.header.status === "running";
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
      if (tx.header.status === "pending" || running) {
        tx.header.status = "cancelled";
        tx.header.error = event.reason;
        tx.header.finishedAt = tx.now;
        stopUnfinished(tx, ROOT, event.reason);
      }
      return;
    case "fail":
      if (tx.header.status === "pending" || running) {
        tx.header.status = "failed";
        tx.header.error = event.reason;
        tx.header.finishedAt = tx.now;
        stopUnfinished(tx, ROOT, `execution failed: ${event.reason}`);
      }
      return;
    case "resume":
      if (tx.header.status === "failed" || tx.header.status === "cancelled") resume(tx);
      return;
    case "budget_hold":
      if (event.release) releaseHold(tx, event.executionId, event.release);
      else if (running) holdForRun(tx, event.executionId, event.want);
      return;
    case "attempt_finished": {
      const instance = openCall(tx, event.instance, event.attempt);
      if (!instance) {
        keepLate(tx, event);
        return;
      }
      if (!running) return;
      const { result } = event;
      if (result.turns) keepTurns(tx, instance.id, result.turns);
      const max = runLimitsOf(tx.plan).maxStepOutputChars;
      // A reply over the limit is neither parsed nor kept; a retry would be paid for and as long.
      const kept = result.text !== undefined && result.text.length <= max ? result.text : undefined;
      if (!result.ok) {
        failAttempt(tx, instance.id, "failed", result.error, result.usage, kept);
        return;
      }
      if (kept === undefined) {
        const error = limitError(`the reply is over ${max} characters (maxStepOutputChars)`);
        failAttempt(tx, instance.id, "failed", error, result.usage);
        return;
      }
      const step = definitionOf(tx, instance.id) as AgentStep;
      const parsed = parseOutput(kept, step.outputFormat ?? "auto");
      if (parsed.ok) completeInstance(tx, instance.id, parsed.output, result.usage);
      else failAttempt(tx, instance.id, "failed", parsed.error, result.usage, kept);
      return;
    }
    case "call_handed_over": {
      // Only a call this very instance queued, still open: not one that ended, timed out or was cut off.
      const open = openCall(tx, event.instance, event.attempt)?.attempts.at(-1);
      if (!running || !open || open.runner !== tx.runner) return;
      markDispatched(tx, event.instance, event.attempt, event.runnerIndex);
      const { attempt, input, deadline } = open;
      const { instance, runnerIndex } = event;
      tx.commands.push({ type: "call_model", instance, attempt, input, deadline, runnerIndex });
      return;
    }
    case "child_finished": {
      const instance = tx.get(event.instance);
      const wait = instance?.wait;
      if (
        !running ||
        wait?.kind !== "child" ||
        wait.attempt !== event.attempt ||
        wait.executionId !== event.executionId
      )
        return;
      if (event.result.spent) keepChildSpent(tx, event.instance, event.result.spent);
      const max = runLimitsOf(tx.plan).maxStepOutputChars;
      if (event.result.ok && jsonChars(event.result.output, max) > max) {
        const error = limitError(
          `the child execution's output is over ${max} characters (maxStepOutputChars)`,
        );
        failAttempt(tx, event.instance, "failed", error);
      } else if (event.result.ok) completeInstance(tx, event.instance, event.result.output);
      else failAttempt(tx, event.instance, "failed", event.result.error);
      // A child that was never started leaves no link to follow.
      if (!event.result.ok && event.result.status === "refused")
        forgetChild(tx, event.instance, event.attempt);
      return;
    }
    case "approval": {
      if (!running || tx.get(event.instance)?.wait?.kind !== "approval") return;
      completeInstance(tx, event.instance, { ...event.decision }).reason = event.decision.approved
        ? `approved by ${event.decision.by}`
        : `rejected by ${event.decision.by}`;
      return;
    }
    default:
      event satisfies never;
  }
}

/** The instance whose model call `attempt` is still open, if any. */
function openCall(tx: Transition, id: string, attempt: number): StepInstance | undefined {
  const instance = tx.get(id);
  const open = instance?.attempts.at(-1);
  if (instance?.wait?.kind !== "call" || instance.wait.attempt !== attempt) return undefined;
  return open && open.attempt === attempt && !open.outcome ? instance : undefined;
}

/**
 * A result for an attempt that already timed out is kept on that attempt as late, once, and used for
 * nothing (the model was paid for; the log says what it said). A result for an attempt cut off by a
 * restart or cancelled, and a repeat of a result that was used, change nothing: a result is committed once.
 */
function keepLate(tx: Transition, event: Extract<EngineEvent, { type: "attempt_finished" }>): void {
  const found = tx.get(event.instance);
  const index = found?.attempts.findIndex((record) => record.attempt === event.attempt) ?? -1;
  const record = found?.attempts[index];
  if (!found || record?.outcome !== "timed_out" || record.lateResult) return;
  const { result } = event;
  const instance = tx.edit(found.id);
  instance.attempts[index] = {
    ...record,
    lateResult: {
      at: tx.now,
      ok: result.ok,
      ...(result.ok ? {} : { error: result.error.message }),
      // Paid for all the same: it counts against the budget.
      ...(result.usage ? { usage: result.usage } : {}),
    },
  };
}

function forgetChild(tx: Transition, id: string, attempt: number): void {
  const instance = tx.edit(id);
  instance.attempts = instance.attempts.map((record) => {
    if (record.attempt !== attempt) return record;
    const { childExecutionId: _never, ...rest } = record;
    return rest;
  });
}

/** What the child run spent, on its open attempt before it settles (the budget counts it from then on). */
function keepChildSpent(tx: Transition, id: string, spent: Spend): void {
  const instance = tx.edit(id);
  const last = instance.attempts.length - 1;
  const open = instance.attempts[last];
  if (open) instance.attempts[last] = { ...open, childSpent: spent };
}

/** Records a meta role's model turns on the open attempt, before it is settled either way. */
function keepTurns(tx: Transition, id: string, turns: AgentTurn[]): void {
  const instance = tx.edit(id);
  const last = instance.attempts.length - 1;
  const open = instance.attempts[last];
  if (open) instance.attempts[last] = { ...open, turns };
}

/**
 * A failed or cancelled run continues: each instance that failed (without continueOnError) or was
 * cancelled runs again with a fresh retry budget; containers pick up their bodies where they were;
 * completed outputs are kept.
 */
function resume(tx: Transition): void {
  tx.forgetProgress();
  tx.header.status = "running";
  tx.header.resumes = (tx.header.resumes ?? 0) + 1;
  delete tx.header.error;
  delete tx.header.errorKind;
  delete tx.header.usage;
  delete tx.header.finishedAt;
  delete tx.header.output;
  const reopens = (found: StepInstance) =>
    found.status === "cancelled" || (found.status === "failed" && !found.continued);
  // A container whose result stands (failed and continued on error) keeps its body as it ended.
  const stands = (id: string) => {
    const container = tx.get(id);
    return container !== undefined && isSettled(container.status) && !reopens(container);
  };
  for (const found of [...tx.instances()]) {
    if (!reopens(found) || ancestorsOf(found.id).some((ancestor) => stands(ancestor.id))) continue;
    const instance = tx.edit(found.id);
    const entered =
      instance.iteration !== undefined || instance.items !== undefined || instance.branch !== undefined;
    instance.status = entered ? "running" : "pending";
    instance.budgetFrom = instance.attempts.length;
    instance.interruptions = 0;
    delete instance.error;
    delete instance.reason;
    delete instance.wait;
    delete instance.retryAt;
  }
}
