// Folds a batch of events through the pure scheduler in one go: events queued while the object was
// busy (a fan-out's replies) share one storage write, and model calls that answer at once without
// leaving the isolate are answered inline, so a chain of them costs no round trip per step.
// Pure apart from the `instant` callback it is given (`instantReplies`: the local model, computed here).
import { instantReply, type ModelEnv } from "../worker/models/gateway";
import { decideAll, initialRun } from "./engine/decide";
import type {
  AttemptResult,
  Command,
  Decision,
  EngineEvent,
  JsonValue,
  Plan,
  RunState,
} from "./engine/types";

/** A batch answers at most this many calls inline, then leaves the rest to the normal path. */
export const MAX_INLINE_CALLS = 5000;

export type InstantReply = (command: Extract<Command, { type: "call_model" }>) => AttemptResult | undefined;

/** Answers a plan's calls at once where the local model would (see `instantReply`). */
export function instantReplies(env: ModelEnv, plan: Plan): InstantReply {
  return (command) => {
    const definition = plan.steps[command.step];
    const role = definition?.roleName === undefined ? undefined : plan.roles[definition.roleName];
    return instantReply(env, role, command.input, definition?.outputFormat === "json");
  };
}

/**
 * A new run and its start: steps answered at once have run, calls that must go out are deferred to
 * an alarm. The decision then holds no call to make, only status changes and aborts of attempts that
 * were never made, so there is nothing in its commands to perform.
 */
export function decideStart(
  plan: Plan,
  input: JsonValue,
  now: number,
  runner: string,
  instant: InstantReply,
): { initial: RunState; decision: Decision } {
  const initial = initialRun(
    input,
    plan.steps.map((s) => s.name),
    now,
  );
  return { initial, decision: decideBatch(plan, initial, [{ type: "start" }], now, runner, instant, true) };
}

export function decideBatch(
  plan: Plan,
  run: RunState,
  events: readonly EngineEvent[],
  now: number,
  runner: string,
  instant: InstantReply,
  /** Outside an alarm no call may go out: such attempts are undone here and left for the next alarm. */
  deferCalls = false,
): Decision {
  const commands: Command[] = [];
  let state = run;
  let wakeAt: number | undefined;
  let inlined = 0;
  // Each round decides everything queued so far in one transition: a fan-out's 100 instant replies
  // are one round, not 100.
  for (let queue = [...events]; queue.length > 0; ) {
    const decision = decideAll(plan, state, queue, now, runner);
    queue = [];
    state = decision.run;
    wakeAt = decision.wakeAt;
    for (const command of decision.commands) {
      const result =
        command.type === "call_model" && inlined < MAX_INLINE_CALLS ? instant(command) : undefined;
      if (result && command.type === "call_model") {
        inlined += 1;
        queue.push({ type: "attempt_finished", step: command.step, attempt: command.attempt, result });
      } else if (deferCalls && command.type === "call_model") {
        queue.push({ type: "attempt_deferred", step: command.step, attempt: command.attempt });
      } else {
        commands.push(command);
      }
    }
  }
  return { run: state, commands, ...(wakeAt !== undefined ? { wakeAt } : {}) };
}
