// The model calls of one execution object. A few run right here (a chain's next call starts in the
// invocation its predecessor's reply arrived in: no alarm, no write but the commit of that reply); the
// rest go to the tenant's call runner objects, spread over the pool, each with its own connection
// budget, so a fan-out of 100 has them all in flight instead of six. A model that answers faster than a
// hand-off would cost (call-pace.ts) keeps its calls here, queued for this object's four call slots; a
// queued call that waits HAND_OVER_AFTER_MS for a slot goes to a runner after all. Nothing here is
// persisted: an inline call cut off by a crash is recognised by the engine (its runner is gone) and made
// again; a dispatched one (or one handed over, recorded by its own decision) outlives it.
import type { Env } from "../../worker/env";
import { isMetaRole } from "../../worker/schemas/role";
import { CALL_RUNNER_POOL, CALLS_PER_RUNNER, jobKey, runnerStub } from "../call-runner/object";
import { nodeOf } from "../engine/tree";
import { type Command, dispatchedTo, type EngineEvent, type Plan, type RoleSnapshot } from "../engine/types";
import { type CallJob, callAttempt, callJobOf } from "./attempt-call";
import { FAST_CALL_MS, notePace, paceKeyOf, paceOf } from "./call-pace";
import { ConnectionGate } from "./connection-gate";
import type { FaultPoint } from "./fault-points";
import type { Loaded } from "./store";

/**
 * An alarm invocation may run 15 minutes; an attempt runs inline in one only if its deadline falls
 * within this budget (the largest step timeout, 14 min, always does).
 */
export const INVOCATION_BUDGET_MS = 14.5 * 60 * 1000;
/**
 * Calls made by the execution object itself. The rest of its six connections stay free for handing
 * calls to runners, deliveries to other objects and the D1 index, so none of those waits behind a
 * model that takes a minute.
 */
export const INLINE_CALLS = 4;
/**
 * A call queued here for one of the INLINE_CALLS slots (its model was fast) that has not got one after
 * this long goes to a runner instead: the model has turned slow, or the fan-out is wider than this
 * object can work through quickly.
 */
export const HAND_OVER_AFTER_MS = 250;
/** A wake this close is awaited inside the current alarm invocation instead of through a new alarm. */
const INLINE_WAIT_MS = 2_000;

type CallCommand = Extract<Command, { type: "call_model" }>;

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

export interface CallsHost {
  env: Env;
  gate: ConnectionGate;
  crashAt(point: FaultPoint, loaded: Loaded): void;
  /** Feeds a reply to the engine. */
  receive(event: EngineEvent): Promise<void>;
  /** Streamed text of a running attempt changed. */
  textChanged(): void;
  /** Something owed could not be done now: an alarm should try again soon. */
  retrySoon(): void;
}

const keyOf = (instance: string, attempt: number) => `${instance}:${attempt}`;

function roleOf(plan: Plan, instance: string): RoleSnapshot | undefined {
  const step = nodeOf(plan.steps, instance);
  const roleName = step && "roleName" in step ? step.roleName : undefined;
  return roleName === undefined ? undefined : plan.roles[roleName];
}

export class CallsInFlight {
  private readonly inFlight = new Map<string, InFlight>();
  /** Attempts this instance handed to a runner (so after a restart the others are handed again). */
  private readonly dispatched = new Set<string>();
  private readonly handing = new Set<Promise<unknown>>();
  /** The text streamed so far by each running attempt, by instance id. */
  private readonly texts = new Map<string, { attempt: number; text: string }>();
  /** The INLINE_CALLS slots of calls made here (agent code's calls have their own queue and skip them). */
  private readonly slots: ConnectionGate = new ConnectionGate(INLINE_CALLS);
  private invocationStartedAt: number | undefined;
  /** The pool runner the next dispatched call goes to (round robin from a random start per instance). */
  private nextRunner = Math.floor(Math.random() * CALL_RUNNER_POOL);
  /** Calls sent to `nextRunner` so far. */
  private filled = CALLS_PER_RUNNER;

  constructor(private readonly host: CallsHost) {}

  beginInvocation(now: number): void {
    this.invocationStartedAt = now;
  }

  endInvocation(): void {
    this.invocationStartedAt = undefined;
  }

  /** Calls this object is making itself right now. */
  inlineCount(): number {
    return this.inFlight.size;
  }

  /** Whether an alarm invocation is running (it arms the alarm itself when it ends). */
  inInvocation(): boolean {
    return this.invocationStartedAt !== undefined;
  }

  /**
   * For one decision: which runner of the pool each new call goes to (undefined: made here). The first
   * ones run here while this object has fewer than INLINE_CALLS of its own in flight (and, in an alarm,
   * the call fits the invocation), and so do all the calls of a model whose recent calls took at most
   * FAST_CALL_MS (they queue for a slot); the others go round the pool, CALLS_PER_RUNNER to a runner.
   * Steps of roles with `meta` always run here: their agent code is bound to this execution, and the
   * isolate queue (worker/agent-code/gate.ts) already holds them to four at a time.
   */
  placement(plan: Plan, tenantId: string): (command: CallCommand) => number | undefined {
    let free = INLINE_CALLS - this.inFlight.size;
    const budgetEnd =
      this.invocationStartedAt === undefined
        ? Number.POSITIVE_INFINITY
        : this.invocationStartedAt + INVOCATION_BUDGET_MS;
    // Each decision starts a runner of its own.
    this.filled = CALLS_PER_RUNNER;
    return (command) => {
      const role = roleOf(plan, command.instance);
      if (isMetaRole(role?.tools)) {
        free -= 1;
        return undefined;
      }
      if (command.deadline <= budgetEnd) {
        const pace = paceOf(paceKeyOf(tenantId, role));
        if (free > 0 || (pace !== undefined && pace <= FAST_CALL_MS)) {
          free -= 1;
          return undefined;
        }
      }
      return this.takeRunner();
    };
  }

  /** A runner's worth of calls to each runner in turn: fewer hand-offs and report batches than one each. */
  private takeRunner(): number {
    if (this.filled >= CALLS_PER_RUNNER) {
      this.nextRunner = (this.nextRunner + 1) % CALL_RUNNER_POOL;
      this.filled = 0;
    }
    this.filled += 1;
    return this.nextRunner;
  }

  /**
   * Starts a saved decision's calls. Those for runners go first, one hand-off per runner: handing over
   * takes a connection for a moment, a call made here holds one until its reply. `handedBefore`: these
   * attempts may have reached a runner already (only then does the runner look for what it stored).
   */
  start(commands: readonly CallCommand[], loaded: Loaded, handedBefore = false): void {
    const handOff = new Map<number, CallJob[]>();
    for (const command of commands) {
      if (command.runnerIndex === undefined) continue;
      const jobs = handOff.get(command.runnerIndex) ?? [];
      jobs.push(callJobOf(loaded, command));
      handOff.set(command.runnerIndex, jobs);
    }
    for (const [runnerIndex, jobs] of handOff) this.dispatch(loaded, runnerIndex, jobs, handedBefore);
    for (const command of commands)
      if (command.runnerIndex === undefined) this.inline(callJobOf(loaded, command), loaded);
  }

  /** After a restart: the dispatched attempts still open are handed again (a runner takes a job once). */
  redispatch(loaded: Loaded): void {
    const commands: CallCommand[] = [];
    for (const instance of loaded.run.instances.values()) {
      const open = instance.attempts.at(-1);
      if (instance.wait?.kind !== "call" || open === undefined || open.outcome) continue;
      const runnerIndex = dispatchedTo(open.runner);
      if (runnerIndex === undefined || this.dispatched.has(keyOf(instance.id, open.attempt))) continue;
      const { attempt, input, deadline } = open;
      commands.push({ type: "call_model", instance: instance.id, attempt, input, deadline, runnerIndex });
    }
    this.start(commands, loaded, true);
  }

  /** Stops a call; a runner is told so (best effort: its result would only be kept as late). */
  abort(loaded: Loaded, instance: string, attempt: number, reason: string): void {
    const key = keyOf(instance, attempt);
    this.inFlight.get(key)?.controller.abort(reason);
    this.inFlight.delete(key);
    const record = loaded.run.instances.get(instance)?.attempts.find((found) => found.attempt === attempt);
    const runnerIndex = record === undefined ? undefined : dispatchedTo(record.runner);
    if (this.dispatched.delete(key) && runnerIndex !== undefined) {
      const { executionId, tenantId } = loaded.meta;
      const runner = runnerStub(this.host.env, tenantId, runnerIndex);
      const job = jobKey({ executionId, instance, attempt });
      this.track(this.host.gate.run(() => runner.abort(job, reason)));
    }
  }

  /** The text a running attempt has streamed so far (undefined when it has not streamed). */
  textOf(instance: string): string | undefined {
    return this.texts.get(instance)?.text;
  }

  /** Streamed text from a call (made here or by a runner); kept only while its attempt is open. */
  setText(loaded: Loaded, instance: string, attempt: number, text: string): void {
    const found = loaded.run.instances.get(instance);
    if (found?.wait?.kind !== "call" || found.wait.attempt !== attempt) return;
    this.texts.set(instance, { attempt, text });
    this.host.textChanged();
  }

  /** Drops what belongs to attempts that have ended. */
  settled(loaded: Loaded): void {
    for (const [instance, { attempt }] of this.texts) {
      const wait = loaded.run.instances.get(instance)?.wait;
      if (wait?.kind !== "call" || wait.attempt !== attempt) this.texts.delete(instance);
    }
    for (const key of this.dispatched) {
      const [instance = "", attempt] = key.split(":");
      const wait = loaded.run.instances.get(instance)?.wait;
      if (wait?.kind !== "call" || wait.attempt !== Number(attempt)) this.dispatched.delete(key);
    }
  }

  /** Waits for this invocation's calls and `deliveries`, handling wake-ups due meanwhile. */
  async drain(
    wakeAt: () => number | undefined,
    wake: () => Promise<unknown>,
    deliveries: () => Promise<void>[],
  ): Promise<void> {
    for (;;) {
      const at = wakeAt();
      const wakeIn = at === undefined ? undefined : at - Date.now();
      const pending = [...deliveries(), ...this.handing];
      const idle = this.inFlight.size === 0 && pending.length === 0;
      if (idle && (wakeIn === undefined || wakeIn > INLINE_WAIT_MS)) return;
      if (wakeIn !== undefined && wakeIn <= 0) {
        await wake();
        continue;
      }
      const timers = wakeIn === undefined ? [] : [scheduler.wait(wakeIn)];
      await Promise.race([...[...this.inFlight.values()].map((call) => call.done), ...pending, ...timers]);
    }
  }

  private inline(job: CallJob, loaded: Loaded): void {
    const key = keyOf(job.instance, job.attempt);
    const controller = new AbortController();
    const { instance, attempt } = job;
    const call = () => this.call(job, controller, loaded);
    const done = (async () => {
      try {
        // A call of agent code waits in its own queue; any other waits for a slot, or is handed over.
        const made = isMetaRole(job.role?.tools)
          ? { ran: true as const, value: await call() }
          : await this.slots.runWithin(HAND_OVER_AFTER_MS, call);
        // Done calling: it no longer counts as in flight in the decision its reply (or hand-over) feeds.
        this.inFlight.delete(key);
        if (!made.ran) {
          if (!controller.signal.aborted)
            await this.host.receive({
              type: "call_handed_over",
              instance,
              attempt,
              runnerIndex: this.takeRunner(),
            });
          return;
        }
        const result = made.value;
        if (result) await this.host.receive({ type: "attempt_finished", instance, attempt, result });
      } finally {
        this.inFlight.delete(key);
      }
    })();
    // An aborted attempt stops counting as in flight at once, even if its provider ignores the signal.
    const aborted = new Promise<void>((resolve) =>
      controller.signal.addEventListener("abort", () => resolve()),
    );
    this.inFlight.set(key, { controller, done: Promise.race([done, aborted]) });
  }

  /** Makes the call through one of this object's connections, noting how long its model took. */
  private call(job: CallJob, controller: AbortController, loaded: Loaded) {
    // Aborted (timed out, cancelled) while it waited for a slot: the engine has settled it already.
    if (controller.signal.aborted) return Promise.resolve(undefined);
    return this.host.gate.run(async () => {
      const startedAt = Date.now();
      const result = await callAttempt(
        this.host.env,
        job,
        controller,
        (point) => this.host.crashAt(point, loaded),
        (text) => this.setText(loaded, job.instance, job.attempt, text),
      );
      if (result?.ok) notePace(paceKeyOf(job.tenantId, job.role), Date.now() - startedAt);
      return result;
    });
  }

  private dispatch(loaded: Loaded, runnerIndex: number, jobs: CallJob[], handedBefore: boolean): void {
    const keys = jobs.map((job) => keyOf(job.instance, job.attempt));
    for (const key of keys) this.dispatched.add(key);
    const runner = runnerStub(this.host.env, loaded.meta.tenantId, runnerIndex);
    const handed = this.host.gate.run(() => runner.run(jobs, handedBefore));
    // Not handed (the runner could not be reached): the next alarm hands them again.
    this.track(
      handed.catch((error) => {
        for (const key of keys) this.dispatched.delete(key);
        const what = `${jobs.length} call(s) for runner ${runnerIndex}`;
        console.error(`execution ${loaded.meta.executionId}: ${what} not handed over:`, error);
        this.host.retrySoon();
      }),
    );
  }

  private track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined).finally(() => this.handing.delete(settled));
    this.handing.add(settled);
  }
}
