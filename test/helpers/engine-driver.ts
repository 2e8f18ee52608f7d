// Drives the pure engine through whole runs: builds a plan from guide-shaped steps (defaults applied by the
// real schema), feeds events, answers model calls from a script and moves a fake clock to the engine's
// wakeAt. Every state handed to `decide` is deep-frozen, so a transition that mutates its input throws.

import { expect } from "vitest";
import { decide, initialRun } from "../../durable-objects/engine/decide";
import { stagesOf } from "../../durable-objects/engine/plan";
import { contextOf } from "../../durable-objects/engine/transition";
import type {
  AttemptResult,
  Command,
  Decision,
  EngineEvent,
  JsonValue,
  Plan,
  RunState,
  StepError,
  StepRun,
  Usage,
} from "../../durable-objects/engine/types";
import { type OrchestrationInput, orchestrationInputSchema } from "../../worker/schemas/orchestration";
import { example2, example3, example4 } from "./guide";

export type StepInput = OrchestrationInput["steps"][number];

export const TEST_EXECUTION_ID = "exec-test";
export const USAGE: Usage = { model: "test-model", tokensIn: 10, tokensOut: 20, costUsd: 0.001 };

/** A plan as the shell would build it: the definition parsed (defaults filled in) and staged. */
export function planOf(steps: readonly StepInput[], executionId = TEST_EXECUTION_ID): Plan {
  const definition = orchestrationInputSchema.parse({ name: "Test orchestration", steps });
  return { executionId, steps: definition.steps, stages: stagesOf(definition.steps), roles: {} };
}

export function reply(text: string): AttemptResult {
  return { ok: true, text, usage: USAGE };
}
export function replyJson(value: JsonValue): AttemptResult {
  return reply(JSON.stringify(value));
}
export function providerError(message = "upstream answered 502", retryable = true): AttemptResult {
  return { ok: false, error: { kind: "provider", message, retryable } };
}
export function rateLimited(retryAfterMs: number): AttemptResult {
  const error: StepError = {
    kind: "rate_limited",
    message: "429 too many requests",
    retryable: true,
    retryAfterMs,
  };
  return { ok: false, error };
}

export interface ModelCall {
  step: number;
  name: string;
  attempt: number;
  input: JsonValue;
  deadline: number;
  /** The clock when the engine asked for the call. */
  at: number;
}

/** A scripted answer; "hang" leaves the call unanswered (until it times out or is aborted). */
export type Answer = AttemptResult | "hang";
/** Per step: one answer for every attempt, one per attempt (the last repeats), or a function of the call. */
export type StepScript = Answer | readonly Answer[] | ((call: ModelCall) => Answer);
export type Responder = (call: ModelCall) => Answer;

/** Answers by step name; steps not in the script reply with the text `<name> done`. */
export function scripted(script: Record<string, StepScript>): Responder {
  return (call) => {
    const entry = script[call.name];
    if (entry === undefined) return reply(`${call.name} done`);
    if (typeof entry === "function") return entry(call);
    if (Array.isArray(entry)) {
      const answers = entry as readonly Answer[];
      const answer = answers[Math.min(call.attempt, answers.length) - 1];
      if (answer === undefined) throw new Error(`empty script for step "${call.name}"`);
      return answer;
    }
    return entry as Answer;
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

const callKey = (step: number, attempt: number) => `${step}:${attempt}`;

export interface DriverOptions {
  input?: JsonValue;
  now?: number;
  runner?: string;
  executionId?: string;
}

export class EngineDriver {
  readonly plan: Plan;
  run: RunState;
  now: number;
  runner: string;
  last: Decision | undefined;
  /** Every call_model the engine issued, in order. */
  readonly calls: ModelCall[] = [];
  /** Calls issued and neither answered nor aborted. */
  readonly open = new Map<string, ModelCall>();
  readonly aborts: Extract<Command, { type: "abort" }>[] = [];
  readonly statuses: string[] = [];
  private readonly asked = new Set<string>();

  constructor(steps: readonly StepInput[] | Plan, options: DriverOptions = {}) {
    this.plan = Array.isArray(steps) ? planOf(steps, options.executionId) : (steps as Plan);
    this.now = options.now ?? 0;
    this.runner = options.runner ?? "runner-1";
    const names = this.plan.steps.map((s) => s.name);
    this.run = deepFreeze(initialRun(options.input ?? { topic: "test" }, names, this.now));
  }

  send(event: EngineEvent): Decision {
    const decision = decide(this.plan, this.run, event, this.now, this.runner);
    this.run = deepFreeze(decision.run);
    this.last = decision;
    for (const command of decision.commands) this.track(command);
    // An attempt settled without an abort (cut off by a restart) is no longer open either.
    for (const [key, call] of this.open) {
      const record = this.run.steps[call.step]?.attempts.find((a) => a.attempt === call.attempt);
      if (record?.outcome) this.open.delete(key);
    }
    return decision;
  }

  start(): Decision {
    return this.send({ type: "start" });
  }
  wake(): Decision {
    return this.send({ type: "wake" });
  }
  cancel(reason = "cancelled by the user"): Decision {
    return this.send({ type: "cancel", reason });
  }

  /** Answers the open attempt of a step (or a given attempt, open or not). */
  finish(step: string | number, result: AttemptResult, attempt?: number): Decision {
    const index = this.indexOf(step);
    const number = attempt ?? this.openCall(index)?.attempt;
    if (number === undefined) throw new Error(`step ${String(step)} has no open call`);
    this.open.delete(callKey(index, number));
    return this.send({ type: "attempt_finished", step: index, attempt: number, result });
  }

  /** Moves the clock forward (never back). */
  at(time: number): this {
    if (time < this.now) throw new Error(`the clock cannot go back from ${this.now} to ${time}`);
    this.now = time;
    return this;
  }

  /** Moves the clock to the last decision's wakeAt and wakes the run there. */
  wakeWhenDue(): Decision {
    const wakeAt = this.last?.wakeAt;
    if (wakeAt === undefined) throw new Error("the engine asked for no wake");
    return this.at(wakeAt).wake();
  }

  /**
   * Runs until the execution is terminal or idle: answers open calls in the order they were issued (each
   * asked once), and when none can be answered moves the clock to wakeAt. Starts the run when pending.
   */
  drive(responder: Responder, maxEvents = 10_000): Decision | undefined {
    if (this.run.header.status === "pending") this.start();
    for (let events = 0; this.run.header.status === "running"; events++) {
      if (events > maxEvents) throw new Error("the run did not settle");
      const next = [...this.open.values()].find((call) => !this.asked.has(callKey(call.step, call.attempt)));
      if (next) {
        this.asked.add(callKey(next.step, next.attempt));
        const answer = responder(next);
        if (answer !== "hang") this.finish(next.step, answer, next.attempt);
        continue;
      }
      if (this.last?.wakeAt === undefined) return this.last;
      this.wakeWhenDue();
    }
    return this.last;
  }

  step(name: string): StepRun {
    const step = this.run.steps[this.indexOf(name)];
    if (!step) throw new Error(`no step "${name}"`);
    return step;
  }
  callsOf(name: string): ModelCall[] {
    return this.calls.filter((call) => call.name === name);
  }
  openCall(step: string | number): ModelCall | undefined {
    const index = this.indexOf(step);
    return [...this.open.values()].find((call) => call.step === index);
  }
  context(): Record<string, JsonValue> {
    return contextOf(this.run);
  }

  private indexOf(step: string | number): number {
    if (typeof step === "number") return step;
    const index = this.plan.steps.findIndex((s) => s.name === step);
    if (index < 0) throw new Error(`no step named "${step}"`);
    return index;
  }

  private track(command: Command): void {
    switch (command.type) {
      case "call_model": {
        const { type: _, ...fields } = command;
        const call: ModelCall = {
          ...fields,
          name: this.plan.steps[command.step]?.name ?? `#${command.step}`,
          at: this.now,
        };
        this.calls.push(call);
        this.open.set(callKey(command.step, command.attempt), call);
        return;
      }
      case "abort":
        this.aborts.push(command);
        this.open.delete(callKey(command.step, command.attempt));
        return;
      case "status_changed":
        this.statuses.push(command.status);
        return;
      default: {
        const unknown: never = command;
        throw new Error(`unknown command ${JSON.stringify(unknown)}`);
      }
    }
  }
}

/** Asserts that a decision changed nothing: no commands, the same state, the same wake time. */
export function expectNoChange(run: EngineDriver, act: () => Decision): void {
  const before = run.run;
  const wakeBefore = run.last?.wakeAt;
  const decision = act();
  expect(decision.commands).toEqual([]);
  expect(decision.run).toEqual(before);
  expect(decision.wakeAt).toBe(wakeBefore);
}

// The usage guide's examples, step for step, as engine tests run them.

export const LOGIN_REQUEST = {
  userRequest: "Create a React component for a login form",
  requirements: ["validation", "accessibility", "responsive"],
};

/** The guide's Examples 2, 3 and 4 (test/helpers/guide.ts), as step lists. */
export const GUIDE_EXAMPLE_2: StepInput[] = example2.steps;
export const GUIDE_EXAMPLE_3: StepInput[] = example3.steps;
export const GUIDE_EXAMPLE_4: StepInput[] = example4.steps;
