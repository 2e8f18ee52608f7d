// Typed access to one execution Durable Object's storage. The persisted contract lives here:
//   PERSISTED CONTRACT v1 — keys:
//     "meta"        ExecutionMeta (written once at start)
//     "plan"        Plan (definition snapshot, stages, roles; written once)
//     "header"      RunHeader
//     "step:NNNNN"  StepRun, once the step has changed (absent = pending, derived from the plan)
//     "projected"   the RunStatus last written to D1's executions index
// Reads are cached in memory: this instance is the only writer of its storage.
import { pendingStep } from "./engine/decide";
import type { Plan, RunState, RunStatus, StepRun } from "./engine/types";

export interface ExecutionMeta {
  v: 1;
  executionId: string;
  tenantId: string;
  orchestrationId: string;
  orchestrationName: string;
  orchestrationVersion: number;
  createdBy: string;
}

export interface Loaded {
  meta: ExecutionMeta;
  plan: Plan;
  run: RunState;
  projected: RunStatus | undefined;
}

const stepKey = (index: number) => `step:${String(index).padStart(5, "0")}`;

/** The storage entries that turn `current` into `next`: the header and the steps replaced (by reference). */
function changedEntries(current: RunState, next: RunState): Record<string, unknown> {
  const entries: Record<string, unknown> = {};
  if (next.header !== current.header) entries.header = next.header;
  next.steps.forEach((step, index) => {
    if (step !== current.steps[index]) entries[stepKey(index)] = step;
  });
  return entries;
}

export class ExecutionStore {
  private cache: Loaded | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  async load(): Promise<Loaded | undefined> {
    if (this.cache) return this.cache;
    const values = await this.storage.get<unknown>(["meta", "plan", "header", "projected"]);
    const meta = values.get("meta") as ExecutionMeta | undefined;
    const plan = values.get("plan") as Plan | undefined;
    const header = values.get("header") as RunState["header"] | undefined;
    if (!meta || !plan || !header) return undefined;
    // Steps are stored once they change; an untouched step is derived from the plan.
    const stepRows = await this.storage.list<StepRun>({ prefix: "step:" });
    const steps = plan.steps.map(
      (step, index) => stepRows.get(stepKey(index)) ?? pendingStep(index, step.name),
    );
    this.cache = {
      meta,
      plan,
      run: { header, steps },
      projected: values.get("projected") as RunStatus | undefined,
    };
    return this.cache;
  }

  /** Whether this execution has been started (its state written). */
  async exists(): Promise<boolean> {
    return this.cache !== undefined || (await this.storage.get("meta")) !== undefined;
  }

  /**
   * Writes a new execution's state in one batch and resolves once it is on disk. `state.run` is the
   * run after its start was decided; steps still identical to `initial`'s (untouched, pending) are not
   * written, as load() derives them from the plan. `state.projected` is what the index row holds.
   */
  async create(state: Loaded, initial: RunState): Promise<void> {
    const entries: Record<string, unknown> = {
      meta: state.meta,
      plan: state.plan,
      ...changedEntries(initial, state.run),
      header: state.run.header,
      ...(state.projected ? { projected: state.projected } : {}),
    };
    await this.putAll(entries);
    await this.storage.sync();
    this.cache = state;
  }

  /**
   * Persists the header and the steps whose records changed (found by reference), in batches, and
   * resolves only once they are on disk: a resolved `put` is not yet durable, and a crash (ctx.abort, a
   * killed process) right after it would lose a completion the shell has already acted on.
   */
  async save(next: RunState): Promise<void> {
    const current = this.cache;
    if (!current) throw new Error("save before load");
    const entries = changedEntries(current.run, next);
    if (Object.keys(entries).length > 0) {
      await this.putAll(entries);
      await this.storage.sync();
    }
    current.run = next;
  }

  async markProjected(status: RunStatus): Promise<void> {
    await this.storage.put("projected", status);
    if (this.cache) this.cache.projected = status;
  }

  /** Storage takes at most 128 keys per put. */
  private async putAll(entries: Record<string, unknown>): Promise<void> {
    const keys = Object.keys(entries);
    for (let i = 0; i < keys.length; i += 128) {
      const batch: Record<string, unknown> = {};
      for (const key of keys.slice(i, i + 128)) batch[key] = entries[key];
      await this.storage.put(batch);
    }
  }

  forget(): void {
    this.cache = undefined;
  }
}
