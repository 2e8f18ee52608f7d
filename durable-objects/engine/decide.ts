// The scheduler's entry: given the plan, the durable run state, the events that happened and the
// time, it returns the records to write, the commands to perform and when to wake next. Model calls
// that a pure responder answers at once (the local model) are answered here, round after round, so a
// chain of them is one decision. Pure: no storage, no clock, no network — time, the runner and new ids
// come in as arguments; the Durable Object persists what this returns before it acts on the commands.
import { expireAttempt, markDispatched, startAttempt } from "./attempts";
import { runUsage } from "./budget";
import type { AgentStep, OrchestrationStep } from "./definition";
import { applyEvent } from "./events";
import { completeInstance, definitionOf, failInstance } from "./settle";
import { isSettled, isTerminal } from "./status";
import { Transition } from "./transition";
import type {
  AttemptResult,
  Command,
  DecideContext,
  Decision,
  EngineEvent,
  JsonValue,
  Plan,
  RunHeader,
  RunState,
  StepInstance,
} from "./types";
import { advance } from "./walk";

export { MAX_INTERRUPTIONS } from "./attempts";

/** Answers a model call at once, or undefined when it must go out. */
export type InstantReply = (command: Extract<Command, { type: "call_model" }>) => AttemptResult | undefined;

export interface DecideOptions {
  instant?: InstantReply;
  /**
   * Which call runner a call goes to instead of this object, if any (asked once per call, in order): its
   * attempt records that runner, so a restart of this object does not cut it off.
   */
  dispatch?: (command: Extract<Command, { type: "call_model" }>) => number | undefined;
}

/** A decision answers at most this many calls inline, then leaves the rest to the normal path. */
export const MAX_INLINE_CALLS = 5000;

export function initialRun(input: JsonValue, now: number): RunState {
  const header: RunHeader = { v: 2, status: "pending", input, seq: 0, createdAt: now };
  return { header, instances: new Map() };
}

/**
 * Applies `events` in order, then schedules once; calls answered inline feed the next round. The same
 * as deciding the events one by one at the same `now`, except that every reply counts before any
 * deadline is checked.
 */
export function decide(
  plan: Plan,
  run: RunState,
  events: readonly EngineEvent[],
  inputs: DecideContext,
  options: DecideOptions = {},
): Decision {
  const tx = new Transition(plan, run, inputs);
  const before = run.header.status;
  let inlined = 0;
  // Time stands still within a decision: after the first round only what a round touched can fall due.
  let due: string[] = [];
  for (const found of tx.instances()) if (!isSettled(found.status)) due.push(found.id);
  for (let queue = [...events]; queue.length > 0; ) {
    for (const event of queue) applyEvent(tx, event);
    queue = [];
    if (tx.header.status === "running") {
      // dueWork is idempotent, so an id in both lists costs a second look, not a second action.
      for (const id of due) dueWork(tx, id);
      for (const id of tx.drainTouched()) dueWork(tx, id);
      advance(tx);
    }
    due = tx.drainTouched();
    const kept: Command[] = [];
    for (const command of tx.commands.splice(0)) {
      // Not a call, or one placed already (a call handed over to a runner).
      if (command.type !== "call_model" || command.runnerIndex !== undefined) {
        kept.push(command);
        continue;
      }
      const result = inlined < MAX_INLINE_CALLS ? options.instant?.(command) : undefined;
      if (result) {
        inlined += 1;
        queue.push({
          type: "attempt_finished",
          instance: command.instance,
          attempt: command.attempt,
          result,
        });
      } else {
        const runnerIndex = options.dispatch?.(command);
        if (runnerIndex !== undefined) markDispatched(tx, command.instance, command.attempt, runnerIndex);
        kept.push(runnerIndex === undefined ? command : { ...command, runnerIndex });
      }
    }
    tx.commands.push(...kept);
  }
  if (tx.header.status !== before) {
    if (isTerminal(tx.header.status)) {
      tx.header.usage = runUsage(tx.instances(), tx.header);
      delete tx.header.budgetStop;
    }
    tx.commands.push({ type: "status_changed", status: tx.header.status });
  }
  return tx.decision(nextWake(tx));
}

/** What time alone settles: deadlines, due retries, finished timers, approvals out of time. */
function dueWork(tx: Transition, id: string): void {
  const instance = tx.get(id);
  if (!instance || tx.header.status !== "running") return;
  if (instance.wait?.kind === "call" || instance.wait?.kind === "child") expireAttempt(tx, instance);
  const current = tx.get(id) ?? instance;
  const { wait } = current;
  if (current.status === "waiting_retry" && (current.retryAt ?? 0) <= tx.now) {
    startAttempt(tx, id, definitionOf(tx, id) as AgentStep | OrchestrationStep);
    return;
  }
  if (wait?.kind === "timer" && wait.until <= tx.now) {
    completeInstance(tx, id, { sleptUntil: new Date(wait.until).toISOString() });
    return;
  }
  if (wait?.kind === "approval" && wait.deadline <= tx.now) {
    const step = definitionOf(tx, id);
    const onTimeout = step.stepType === "approval" ? step.onTimeout : "fail";
    const waited = wait.deadline - wait.since;
    if (onTimeout === "fail") {
      failInstance(tx, id, `step "${instance.name}" failed: no approval within ${waited} ms`);
      return;
    }
    const decision = {
      approved: onTimeout === "approve",
      comment: null,
      data: null,
      by: "timeout",
      at: new Date(tx.now).toISOString(),
    };
    completeInstance(tx, id, decision).reason =
      `${onTimeout === "approve" ? "approved" : "rejected"} on timeout after ${waited} ms`;
  }
}

function nextWake(tx: Transition): number | undefined {
  if (tx.header.status !== "running") return undefined;
  let wake: number | undefined;
  for (const instance of tx.instances()) {
    // Stopped by the budget, a retry starts no more: its time coming would only wake the run for nothing.
    if (tx.header.budgetStop && instance.status === "waiting_retry") continue;
    const at = wakeOf(instance);
    if (at !== undefined && (wake === undefined || at < wake)) wake = at;
  }
  return wake;
}

function wakeOf(instance: StepInstance): number | undefined {
  if (instance.status === "waiting_retry") return instance.retryAt;
  switch (instance.wait?.kind) {
    case "call":
      return instance.attempts.at(-1)?.deadline;
    case "child":
    case "approval":
      return instance.wait.deadline;
    case "timer":
      return instance.wait.until;
    default:
      return undefined;
  }
}
