// One decision's working copy of the run: the header, copy-on-write instance records over the stored ones
// (a decision lists only the records it replaced), the commands gathered so far, and the context of each
// scope, kept up to date as instances settle. Pure: no storage, no clock, no network.
import { attemptSettled } from "./budget";
import type { StepDefinition } from "./definition";
import { scopeOf } from "./scope";
import { ROOT } from "./tree";
import type {
  AttemptRecord,
  Command,
  DecideContext,
  Decision,
  JsonValue,
  Plan,
  RunHeader,
  RunState,
  StepInstance,
} from "./types";

export type Context = Record<string, JsonValue>;

export class Transition {
  readonly now: number;
  readonly runner: string;
  header: RunHeader;
  readonly commands: Command[] = [];
  private readonly changed = new Map<string, StepInstance>();
  private created = 0;
  private readonly touched = new Set<string>();
  /** Per body run, how many leading stages the walk found finished in this decision. */
  private readonly finishedStages = new Map<string, number>();
  private readonly contexts = new Map<string, Context>();
  /** Settled instances by the scope whose context they write, in settling order; built on first use. */
  private buckets: Map<string, StepInstance[]> | undefined;

  constructor(
    readonly plan: Plan,
    private readonly base: RunState,
    readonly inputs: DecideContext,
  ) {
    this.now = inputs.now;
    this.runner = inputs.runner;
    this.header = { ...base.header };
  }

  get(id: string): StepInstance | undefined {
    return this.changed.get(id) ?? this.base.instances.get(id);
  }

  /** A mutable copy of instance `id`, registered as changed. */
  edit(id: string): StepInstance {
    const own = this.changed.get(id);
    if (own) return own;
    const current = this.base.instances.get(id);
    if (!current) throw new Error(`no step instance ${id}`);
    const copy = { ...current, attempts: [...current.attempts], warnings: [...current.warnings] };
    this.changed.set(id, copy);
    this.touched.add(id);
    return copy;
  }

  /** A new pending instance of `step`. */
  create(id: string, step: StepDefinition): StepInstance {
    const instance: StepInstance = {
      id,
      name: step.name,
      status: "pending",
      attempts: [],
      warnings: [],
      interruptions: 0,
    };
    this.changed.set(id, instance);
    this.touched.add(id);
    this.created += 1;
    return instance;
  }

  stagesFinished(body: string): number {
    return this.finishedStages.get(body) ?? 0;
  }

  markStagesFinished(body: string, count: number): void {
    this.finishedStages.set(body, count);
  }

  /** A resume reopens finished steps: the walk starts over. */
  forgetProgress(): void {
    this.finishedStages.clear();
  }

  /** Ids of the instances copied or created since the last call. */
  drainTouched(): string[] {
    const ids = [...this.touched];
    this.touched.clear();
    return ids;
  }

  /** Every instance as this transition sees it: stored ones first, then new ones, each once. */
  *instances(): Generator<StepInstance> {
    for (const [id, stored] of this.base.instances) yield this.changed.get(id) ?? stored;
    for (const [id, created] of this.changed) if (!this.base.instances.has(id)) yield created;
  }

  /** How many instances the run has, counting the ones this transition created. */
  get size(): number {
    return this.base.instances.size + this.created;
  }

  settleAttempt(instance: StepInstance, fields: Omit<Partial<AttemptRecord>, "attempt" | "runner">): void {
    const last = instance.attempts.length - 1;
    const open = instance.attempts[last];
    if (!open) return;
    const ended = { ...open, ...fields, endedAt: this.now };
    attemptSettled(this, open, ended);
    instance.attempts[last] = ended;
  }

  warn(instance: StepInstance, warnings: readonly string[]): void {
    for (const warning of warnings) if (!instance.warnings.includes(warning)) instance.warnings.push(warning);
  }

  /** Marks an edited instance as written into the context (its output and mapped values), now. */
  settle(instance: StepInstance): void {
    this.header.seq += 1;
    instance.completedSeq = this.header.seq;
    const home = scopeOf(this, instance.id);
    if (this.buckets) addTo(this.buckets, home, instance);
    for (const key of [...this.contexts.keys()]) {
      if (key === home) applyTo(this.contexts.get(key) as Context, instance, this.header.input);
      else if (home === ROOT || key.startsWith(`${home}.`)) this.contexts.delete(key);
    }
  }

  /**
   * `{ input, [stepName]: output, ...outputMapping values }` as seen from `scope` (ROOT, or a forEach item
   * "<forEach id>.<index>"): the enclosing scopes' values, then this scope's own, each in settling order.
   */
  context(scope: string = ROOT): Context {
    const cached = this.contexts.get(scope);
    if (cached) return cached;
    this.buckets ??= this.bucketSettled();
    const outer = scope === ROOT ? undefined : scopeOf(this, scope.slice(0, scope.lastIndexOf(".")));
    const context: Context = outer === undefined ? { input: this.header.input } : { ...this.context(outer) };
    for (const instance of this.buckets.get(scope) ?? []) applyTo(context, instance, this.header.input);
    this.contexts.set(scope, context);
    return context;
  }

  private bucketSettled(): Map<string, StepInstance[]> {
    const buckets = new Map<string, StepInstance[]>();
    for (const instance of this.instances()) {
      if (instance.completedSeq === undefined) continue;
      addTo(buckets, scopeOf(this, instance.id), instance);
    }
    for (const list of buckets.values()) list.sort((a, b) => (a.completedSeq ?? 0) - (b.completedSeq ?? 0));
    return buckets;
  }

  decision(wakeAt: number | undefined): Decision {
    return {
      header: this.header,
      changed: [...this.changed.values()],
      commands: this.commands,
      ...(wakeAt !== undefined ? { wakeAt } : {}),
    };
  }
}

function addTo(buckets: Map<string, StepInstance[]>, scope: string, instance: StepInstance): void {
  const list = buckets.get(scope);
  if (list) list.push(instance);
  else buckets.set(scope, [instance]);
}

function applyTo(context: Context, instance: StepInstance, input: JsonValue): void {
  context[instance.name] = instance.output ?? null;
  Object.assign(context, instance.mapped);
  // `context.input` is always the execution input, even when a mapping writes "input".
  context.input = input;
}

/** The run after a decision, as a new state (the shell updates its own copy in place instead). */
export function applyDecision(run: RunState, decision: Decision): RunState {
  const instances = new Map(run.instances);
  for (const instance of decision.changed) instances.set(instance.id, instance);
  return { header: decision.header, instances };
}

/** The context a run's instances see from `scope` (ROOT: the run's own), as the status shows it. */
export function contextOf(plan: Plan, run: RunState, scope: string = ROOT): Context {
  const reader = new Transition(plan, run, { now: 0, runner: "", newExecutionId: () => "" });
  return reader.context(scope);
}
