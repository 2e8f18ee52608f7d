// Drives the pure engine through whole runs: builds a plan from guide-shaped steps (defaults applied by the
// real schema), feeds events, answers model calls and child executions from a script, decides approvals,
// and moves a fake clock to the engine's wakeAt. Every state handed to `decide` is deep-frozen (its
// instance map refuses set/delete), so a transition that mutates its input throws.

import { expect } from "vitest";
import { approvalTarget } from "../../durable-objects/engine/approval";
import { type DecideOptions, decide, initialRun } from "../../durable-objects/engine/decide";
import { applyDecision, contextOf } from "../../durable-objects/engine/transition";
import { nodeOf } from "../../durable-objects/engine/tree";
import type {
  ApprovalDecision,
  AttemptResult,
  ChildResult,
  Command,
  Decision,
  EngineEvent,
  JsonValue,
  Plan,
  RunState,
  StepError,
  StepInstance,
  Usage,
} from "../../durable-objects/engine/types";
import { type OrchestrationInput, orchestrationInputSchema } from "../../worker/schemas/orchestration";
import { example2, example3, example4 } from "./guide";

export type StepInput = OrchestrationInput["steps"][number];

export const TEST_EXECUTION_ID = "exec-test";
export const USAGE: Usage = { model: "test-model", tokensIn: 10, tokensOut: 20, costUsd: 0.001 };

/** A plan as the shell would build it: the definition parsed (defaults filled in), no roles. */
export function planOf(steps: readonly StepInput[], executionId = TEST_EXECUTION_ID): Plan {
  const definition = orchestrationInputSchema.parse({ name: "Test orchestration", steps });
  return { executionId, steps: definition.steps, roles: {} };
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
export function childCompleted(output: JsonValue): ChildResult {
  return { ok: true, output };
}
export function childFailed(message = 'step "Inner" failed after 1 attempt: boom'): ChildResult {
  return { ok: false, status: "failed", error: { kind: "provider", message, retryable: true } };
}
export function childCancelled(message = "cancelled by the user"): ChildResult {
  return { ok: false, status: "cancelled", error: { kind: "cancelled", message, retryable: false } };
}

export interface ModelCall {
  instance: string;
  name: string;
  attempt: number;
  input: JsonValue;
  deadline: number;
  /** The clock when the engine asked for the call. */
  at: number;
}

export type ChildStart = Omit<Extract<Command, { type: "start_child" }>, "type"> & { at: number };

/** A scripted answer; "hang" leaves the call unanswered (until it times out or is aborted). */
export type Answer = AttemptResult | "hang";
/** Per step: one answer for every attempt, one per attempt (the last repeats), or a function of the call. */
export type StepScript = Answer | readonly Answer[] | ((call: ModelCall) => Answer);
export type Responder = (call: ModelCall) => Answer;
/** How a child execution ends; "hang" leaves it running. */
export type ChildResponder = (child: ChildStart) => ChildResult | "hang";

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

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** A run state nothing can change: header and records frozen, the map refusing set, delete and clear. */
export function frozenRun(run: RunState): RunState {
  const instances = new Map(run.instances);
  const refuse = () => {
    throw new TypeError("the engine must not change the run state it is given");
  };
  for (const method of ["set", "delete", "clear"])
    Object.defineProperty(instances, method, { value: refuse });
  for (const instance of instances.values()) deepFreeze(instance);
  return Object.freeze({ header: deepFreeze(run.header), instances: Object.freeze(instances) });
}

/** Instance ids in tree order: "2" < "2.0.0" < "2.0.1" < "2.1.0" < "10". */
export function compareIds(a: string, b: string): number {
  const [pa, pb] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return pa.length - pb.length;
}

const callKey = (instance: string, attempt: number) => `${instance}:${attempt}`;
const ID = /^\d+(\.\d+)*$/;

/** What an approve request may carry besides the verdict. */
export interface ApprovalRequest {
  comment?: string;
  data?: JsonValue;
  by?: string;
  instanceId?: string;
}

export interface DriverOptions {
  input?: JsonValue;
  now?: number;
  runner?: string;
  executionId?: string;
  /** Passed to every decision (instant replies, deferred calls). */
  decide?: DecideOptions;
  /** A state to continue from (e.g. loaded from stored records) instead of a new pending run. */
  run?: RunState;
}

export class EngineDriver {
  readonly plan: Plan;
  run: RunState;
  now: number;
  runner: string;
  last: Decision | undefined;
  options: DecideOptions;
  /** Every call_model the engine issued, in order. */
  readonly calls: ModelCall[] = [];
  /** Calls issued and neither answered nor aborted. */
  readonly open = new Map<string, ModelCall>();
  readonly aborts: Extract<Command, { type: "abort" }>[] = [];
  /** Every start_child the engine issued, in order. */
  readonly children: ChildStart[] = [];
  /** Child executions started and neither finished nor cancelled, by execution id. */
  readonly openChildren = new Map<string, ChildStart>();
  readonly childCancels: Extract<Command, { type: "cancel_child" }>[] = [];
  readonly statuses: string[] = [];
  private readonly asked = new Set<string>();
  private executionIds = 0;

  constructor(steps: readonly StepInput[] | Plan, options: DriverOptions = {}) {
    const plan = Array.isArray(steps) ? planOf(steps, options.executionId) : (steps as Plan);
    this.plan = deepFreeze(plan);
    this.now = options.now ?? 0;
    this.runner = options.runner ?? "runner-1";
    this.options = options.decide ?? {};
    this.run = frozenRun(options.run ?? initialRun(options.input ?? { topic: "test" }, this.now));
  }

  /** Decides `events` together at the current clock and runner. */
  send(...events: EngineEvent[]): Decision {
    const inputs = {
      now: this.now,
      runner: this.runner,
      newExecutionId: () => `child-${++this.executionIds}`,
    };
    const decision = decide(this.plan, this.run, events, inputs, this.options);
    this.run = frozenRun(applyDecision(this.run, decision));
    this.last = decision;
    for (const command of decision.commands) this.track(command);
    // An attempt settled without an abort (cut off by a restart, undone) is no longer open either.
    for (const [key, call] of this.open) {
      const record = this.run.instances.get(call.instance)?.attempts.find((a) => a.attempt === call.attempt);
      if (!record || record.outcome) this.open.delete(key);
    }
    for (const [executionId, child] of this.openChildren) {
      const wait = this.run.instances.get(child.instance)?.wait;
      if (wait?.kind !== "child" || wait.executionId !== executionId) this.openChildren.delete(executionId);
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
  resume(): Decision {
    return this.send({ type: "resume" });
  }

  /** Answers the open call of a step (by name or instance id), or a given attempt, open or not. */
  finish(step: string, result: AttemptResult, attempt?: number): Decision {
    const instance = this.idOf(step);
    const number = attempt ?? this.openCall(instance)?.attempt;
    if (number === undefined) throw new Error(`step ${step} has no open call`);
    this.open.delete(callKey(instance, number));
    return this.send({ type: "attempt_finished", instance, attempt: number, result });
  }

  /** Ends the open child execution of an orchestration step (or the given attempt and execution id). */
  finishChild(step: string, result: ChildResult, which?: { attempt: number; executionId: string }): Decision {
    const instance = this.idOf(step);
    const child = which ?? [...this.openChildren.values()].find((open) => open.instance === instance);
    if (!child) throw new Error(`step ${step} has no open child execution`);
    const { attempt, executionId } = child;
    return this.send({ type: "child_finished", instance, attempt, executionId, result });
  }

  /** Decides the approval step `stepName` as the shell does: refused requests throw with their code. */
  approve(stepName: string, approved = true, extra: ApprovalRequest = {}): Decision {
    const target = approvalTarget(this.plan, this.run, stepName, extra.instanceId);
    if (!target.ok) throw new Error(`${target.code}: ${target.message}`);
    return this.send({
      type: "approval",
      instance: target.instance.id,
      decision: this.approvalDecision(approved, extra),
    });
  }
  reject(stepName: string, extra: ApprovalRequest = {}): Decision {
    return this.approve(stepName, false, extra);
  }

  /** A decision as a person makes it now (by "user:test" unless said otherwise). */
  approvalDecision(approved: boolean, extra: ApprovalRequest = {}): ApprovalDecision {
    return {
      approved,
      comment: extra.comment ?? null,
      data: extra.data ?? null,
      by: extra.by ?? "user:test",
      at: new Date(this.now).toISOString(),
    };
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
   * Runs until the execution is terminal or idle: answers open calls, then open children, in the order
   * they were issued (each asked once), and when none can be answered moves the clock to wakeAt (which
   * times out approvals nobody decides). Starts the run when pending, wakes a loaded one first.
   */
  drive(responder: Responder, child?: ChildResponder, maxEvents = 10_000): Decision | undefined {
    if (this.run.header.status === "pending") this.start();
    // A state loaded from storage: its first decision is the alarm the shell would run.
    else if (this.last === undefined) this.wake();
    for (let events = 0; this.run.header.status === "running"; events++) {
      if (events > maxEvents) throw new Error("the run did not settle");
      const next = [...this.open.values()].find(
        (call) => !this.asked.has(callKey(call.instance, call.attempt)),
      );
      if (next) {
        this.asked.add(callKey(next.instance, next.attempt));
        const answer = responder(next);
        if (answer !== "hang") this.finish(next.instance, answer, next.attempt);
        continue;
      }
      const started =
        child && [...this.openChildren.values()].find((open) => !this.asked.has(open.executionId));
      if (started && child) {
        this.asked.add(started.executionId);
        const result = child(started);
        if (result !== "hang") this.finishChild(started.instance, result, started);
        continue;
      }
      if (this.last?.wakeAt === undefined) return this.last;
      this.wakeWhenDue();
    }
    return this.last;
  }

  /** The one instance named so (or with this id); throws when there is none or several. */
  instance(step: string): StepInstance {
    const found = this.find(step);
    if (!found) throw new Error(`no instance of "${step}"`);
    return found;
  }
  /** Like `instance`, but undefined when the step has no instance (it never started). */
  find(step: string): StepInstance | undefined {
    if (ID.test(step)) return this.run.instances.get(step);
    const named = this.instancesOf(step);
    if (named.length > 1)
      throw new Error(
        `"${step}" has ${named.length} instances (${named.map((i) => i.id).join(", ")}); use an id`,
      );
    return named[0];
  }
  /** Every instance of the step named so, in tree order. */
  instancesOf(name: string): StepInstance[] {
    return this.list().filter((instance) => instance.name === name);
  }
  /** Every instance, in tree order. */
  list(): StepInstance[] {
    return [...this.run.instances.values()].sort((a, b) => compareIds(a.id, b.id));
  }
  /** [id, status] of every instance, in tree order. */
  statusesById(): [string, string][] {
    return this.list().map((instance) => [instance.id, instance.status]);
  }
  callsOf(name: string): ModelCall[] {
    return this.calls.filter((call) => call.name === name);
  }
  childrenOf(name: string): ChildStart[] {
    return this.children.filter((child) => child.stepName === name);
  }
  openCall(step: string): ModelCall | undefined {
    if (ID.test(step)) return [...this.open.values()].find((call) => call.instance === step);
    const calls = [...this.open.values()].filter((call) => call.name === step);
    if (calls.length > 1) throw new Error(`"${step}" has ${calls.length} open calls; use an id`);
    return calls[0];
  }
  /** The context instances see from `scope` (the run's, or a forEach item's "<id>.<index>"). */
  context(scope?: string): Record<string, JsonValue> {
    return contextOf(this.plan, this.run, scope);
  }

  private idOf(step: string): string {
    if (ID.test(step)) return step;
    const open = this.openCall(step) ?? [...this.openChildren.values()].find((c) => c.stepName === step);
    if (open) return open.instance;
    const found = this.find(step);
    if (!found) throw new Error(`no instance of "${step}"`);
    return found.id;
  }

  private track(command: Command): void {
    switch (command.type) {
      case "call_model": {
        const { type: _, ...fields } = command;
        const name = nodeOf(this.plan.steps, command.instance)?.name ?? `#${command.instance}`;
        const call: ModelCall = { ...fields, name, at: this.now };
        this.calls.push(call);
        this.open.set(callKey(command.instance, command.attempt), call);
        return;
      }
      case "abort":
        this.aborts.push(command);
        this.open.delete(callKey(command.instance, command.attempt));
        return;
      case "start_child": {
        const { type: _, ...fields } = command;
        const child: ChildStart = { ...fields, at: this.now };
        this.children.push(child);
        this.openChildren.set(command.executionId, child);
        return;
      }
      case "cancel_child":
        this.childCancels.push(command);
        this.openChildren.delete(command.executionId);
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

/** Asserts that a decision changed nothing: no commands, no record written, the same header and wake time. */
export function expectNoChange(run: EngineDriver, act: () => Decision): void {
  const before = run.run;
  const wakeBefore = run.last?.wakeAt;
  const decision = act();
  expect(decision.commands).toEqual([]);
  expect(decision.changed).toEqual([]);
  expect(decision.header).toEqual(before.header);
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

/** The guide's Ping-Pong as a loop: Creator drafts; Critic scores and Refine redrafts until the score holds. */
export const PING_PONG_LOOP: StepInput[] = [
  { name: "Creator", outputMapping: { draft: "{{output}}" } },
  {
    name: "Refinement",
    stepType: "loop",
    maxIterations: 5,
    until: { field: "Critic.score", operator: ">=", value: 0.8 },
    steps: [
      { name: "Critic", inputMapping: { draft: "{{context.draft}}" } },
      {
        name: "Refine",
        condition: { field: "Critic.score", operator: "<", value: 0.8 },
        inputMapping: { draft: "{{context.draft}}", critique: "{{context.Critic}}" },
        outputMapping: { draft: "{{output}}" },
      },
    ],
  },
];
