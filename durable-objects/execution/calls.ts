// The model calls an execution object has in flight: each made only inside an alarm invocation (so it
// cannot outlive the alarm's wall-clock limit), handed to a fresh invocation when it would, aborted
// on command, and awaited by the alarm before it returns. Nothing here is persisted: a call cut off by a
// crash is recognised by the engine (its runner is gone) and made again.
import type { Env } from "../../worker/env";
import type { Command, EngineEvent } from "../engine/types";
import { callAttempt } from "./attempt-call";
import type { FaultPoint } from "./fault-points";
import type { Loaded } from "./store";

/**
 * An alarm invocation may run 15 minutes; an attempt starts in this one only if its deadline falls
 * within this budget. It exceeds the largest step timeout (14 min) so a fresh invocation fits any step.
 */
export const INVOCATION_BUDGET_MS = 14.5 * 60 * 1000;
/** A wake this close is awaited inside the current invocation instead of through a new alarm. */
const INLINE_WAIT_MS = 2_000;

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

export class CallsInFlight {
  private readonly inFlight = new Map<string, InFlight>();
  private invocationStartedAt: number | undefined;
  /** Set when an attempt was handed to the next alarm: this invocation then only finishes what runs. */
  private deferring = false;

  constructor(
    private readonly env: Env,
    private readonly crashAt: (point: FaultPoint, loaded: Loaded) => void,
    private readonly receive: (event: EngineEvent) => Promise<void>,
  ) {}

  beginInvocation(now: number): void {
    this.invocationStartedAt = now;
    this.deferring = false;
  }

  endInvocation(): void {
    this.invocationStartedAt = undefined;
  }

  inInvocation(): boolean {
    return this.invocationStartedAt !== undefined;
  }

  /** Whether a call may go out now (inside an alarm that is not handing work to the next one). */
  mayCall(): boolean {
    return this.invocationStartedAt !== undefined && !this.deferring;
  }

  start(command: Extract<Command, { type: "call_model" }>, loaded: Loaded): void {
    const key = `${command.instance}:${command.attempt}`;
    const controller = new AbortController();
    const budgetEnd = (this.invocationStartedAt ?? 0) + INVOCATION_BUDGET_MS;
    const { instance, attempt } = command;
    const done = (async () => {
      if (!this.mayCall() || command.deadline > budgetEnd) {
        // Not inside an alarm, or it would outlive this invocation: hand it to a fresh alarm instead.
        this.deferring = true;
        return this.receive({ type: "attempt_deferred", instance, attempt });
      }
      try {
        const result = await callAttempt(this.env, loaded, command, controller, (point) =>
          this.crashAt(point, loaded),
        );
        if (result) await this.receive({ type: "attempt_finished", instance, attempt, result });
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

  abort(instance: string, attempt: number, reason: string): void {
    const key = `${instance}:${attempt}`;
    this.inFlight.get(key)?.controller.abort(reason);
    this.inFlight.delete(key);
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
      const pending = deliveries();
      const idle = this.inFlight.size === 0 && pending.length === 0;
      if (idle && (this.deferring || wakeIn === undefined || wakeIn > INLINE_WAIT_MS)) return;
      if (wakeIn !== undefined && wakeIn <= 0 && !this.deferring) {
        await wake();
        continue;
      }
      const timers = wakeIn === undefined || this.deferring ? [] : [scheduler.wait(wakeIn)];
      await Promise.race([...[...this.inFlight.values()].map((call) => call.done), ...pending, ...timers]);
    }
  }
}
