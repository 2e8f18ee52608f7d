// Typed access to one execution Durable Object's storage. The persisted contract lives here:
//   PERSISTED CONTRACT v2 — keys:
//     "meta"          ExecutionMeta (written once at start; v2 adds parent and depth, then startedFrom
//                     and rootPrincipal, then monthlyReserve and budgetHeldBy, all optional)
//     "plan"          Plan (definition snapshot and roles, and the budget, optional; written once)
//     "header"        RunHeader (v2; a v1 header still stored is read through engine/migrate.ts)
//     "step:<path>"   StepInstance, once created; <path> is the instance id with each number padded to
//                     five digits, so a top-level step keeps the key version 1 gave it ("step:00003")
//     "projected"     the RunStatus last written to D1's executions index
//     "queued"        when the run was queued past maxRunningExecutions (additive; absent = not queued):
//                     it stays pending, with no alarm, until the tenant's governor releases it
//     "released"      in an object with no state yet: the governor released it before its queued start
//                     arrived, so that start runs at once
//     "outbox:<id>"   a delivery owed to another execution object (start or cancel a child, tell the
//                     parent this run ended, or the run whose budget it drew from what it spent), or
//                     an event for the team's webhooks (`notify_webhooks`, additive: state without one
//                     loads as before), written in the same commit as the decision that owes it
// Reads are cached in memory: this instance is the only writer of its storage. A decision with a record
// over one stored value's limit is refused (StateTooLarge) before anything of it is written or cached.
import type { MonthlyReserve } from "../../worker/db/usage";
import { headerFromStored, instanceFromStored, type RunHeaderV1, type StepRunV1 } from "../engine/migrate";
import type {
  ChildResult,
  Command,
  Decision,
  Plan,
  RunHeader,
  RunState,
  RunStatus,
  Spend,
  StepInstance,
} from "../engine/types";
import type { WebhookEvent } from "../webhooks/event";

export interface ParentLink {
  executionId: string;
  /** The parent's instance of the orchestration step, and which of its attempts this child is. */
  instance: string;
  attempt: number;
  stepName: string;
}

export interface ExecutionMeta {
  v: 1 | 2;
  executionId: string;
  tenantId: string;
  orchestrationId: string;
  orchestrationName: string;
  orchestrationVersion: number;
  createdBy: string;
  /** Set for a child execution (v2). */
  parent?: ParentLink;
  /** 0 for a top-level run, parent's + 1 for a child or a run its agent code started (v2; absent = 0). */
  depth?: number;
  /** A run started by the agent code of a step of execution `startedFrom` (v2, additive; absent = none). */
  startedFrom?: string;
  /** What this run holds of the tenant's monthly budget, settled when it ends (additive; absent = none). */
  monthlyReserve?: MonthlyReserve;
  /** The execution whose budget this run draws from (its agent code started it); told when this run ends. */
  budgetHeldBy?: string;
  /**
   * false: the tenant's governor, well below its cap when it admitted this run, need not be told when it
   * ends (a prune against D1 frees the slot). Additive; absent = tell it.
   */
  endNotice?: false;
  /** Who started the run at the root of this one's tree ("user:…", "apiKey:…"; v2, additive; absent = unknown). */
  rootPrincipal?: string;
}

/** The engine's commands to start or cancel a child, kept as they were given, and the notice to a parent. */
export type OutboxEntry =
  | Extract<Command, { type: "start_child" | "cancel_child" }>
  | { type: "notify_parent"; parent: ParentLink; executionId: string; result: ChildResult }
  /** This run (started by `parentId`'s agent code) ended: its hold on the parent's budget becomes `spent`. */
  | { type: "release_budget"; parentId: string; executionId: string; spent: Spend }
  /** The run ended, or an approval began waiting: handed to the tenant's webhook dispatcher. */
  | { type: "notify_webhooks"; event: WebhookEvent };

export interface Loaded {
  meta: ExecutionMeta;
  plan: Plan;
  /** The store's own copy, updated in place by `save`. */
  run: { header: RunHeader; instances: Map<string, StepInstance> };
  projected: RunStatus | undefined;
  outbox: Map<string, OutboxEntry>;
  /** Set while the run waits in the tenant's queue (when it was queued, ms). */
  queued?: number;
}

/**
 * One stored value may be at most 2 MB on Cloudflare (SQLite-backed objects); local workerd takes more, so
 * the store holds every record to this, a little under, measured as values are serialized (a string of
 * Latin-1 characters one byte each, any other string two).
 */
export const STATE_VALUE_MAX_BYTES = 2_000_000;

/** A decision that storage could not take: nothing of it was written, nor applied to the cached state. */
export class StateTooLarge extends Error {}

/** Roughly what `value` takes serialized (V8's format), or some number over `max` once it passes it. */
export function storedBytes(value: unknown, max: number): number {
  if (typeof value === "string")
    return 5 + (value.length > 64 && !/[\u0100-\uffff]/.test(value) ? value.length : 2 * value.length);
  if (value === null || typeof value !== "object") return 9;
  let size = 2;
  const items = Array.isArray(value) ? value : Object.values(value);
  if (!Array.isArray(value)) for (const key of Object.keys(value)) size += 5 + 2 * key.length;
  for (const item of items) {
    size += storedBytes(item, max - size);
    if (size > max) return size;
  }
  return size;
}

/** Why storage could not take `decision` (a record over STATE_VALUE_MAX_BYTES), if it could not. */
export function refusalOf(decision: Decision): StateTooLarge | undefined {
  const max = STATE_VALUE_MAX_BYTES;
  const tooLarge = (what: string) =>
    new StateTooLarge(
      `the run's state could not be stored: ${what} is over ${max} bytes, more than one stored value holds (keep step outputs and mapped values smaller)`,
    );
  if (storedBytes(decision.header, max) > max) return tooLarge("its header (input and output)");
  for (const instance of decision.changed)
    if (storedBytes(instance, max) > max)
      return tooLarge(`the record of step "${instance.name}" (${instance.id})`);
  return undefined;
}

export function instanceKey(id: string): string {
  return `step:${id
    .split(".")
    .map((part) => part.padStart(5, "0"))
    .join(".")}`;
}

export class ExecutionStore {
  private cache: Loaded | undefined;
  /** The last decision `refusal` measured and passed: `save` and `create` do not measure it again. */
  private measured: Decision | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  async load(): Promise<Loaded | undefined> {
    if (this.cache) return this.cache;
    const values = await this.storage.get<unknown>(["meta", "plan", "header", "projected", "queued"]);
    const meta = values.get("meta") as ExecutionMeta | undefined;
    const plan = values.get("plan") as Plan | undefined;
    const header = values.get("header") as RunHeader | RunHeaderV1 | undefined;
    if (!meta || !plan || !header) return undefined;
    const instances = new Map<string, StepInstance>();
    for (const stored of (await this.storage.list<StepInstance | StepRunV1>({ prefix: "step:" })).values()) {
      const instance = instanceFromStored(stored);
      instances.set(instance.id, instance);
    }
    const outbox = await this.storage.list<OutboxEntry>({ prefix: "outbox:" });
    this.cache = {
      meta,
      plan,
      run: { header: headerFromStored(header), instances },
      projected: values.get("projected") as RunStatus | undefined,
      outbox,
    };
    const queued = values.get("queued") as number | undefined;
    if (queued !== undefined) this.cache.queued = queued;
    return this.cache;
  }

  /** The state if it is loaded already (no storage read). */
  peek(): Loaded | undefined {
    return this.cache;
  }

  /** Why storage could not take `decision` (see refusalOf), if it could not. */
  refusal(decision: Decision): StateTooLarge | undefined {
    const refused = refusalOf(decision);
    this.measured = refused ? undefined : decision;
    return refused;
  }

  /** Throws StateTooLarge, before anything is written or cached, for a decision storage could not take. */
  private checkSizes(decision: Decision): void {
    const refused = decision === this.measured ? undefined : refusalOf(decision);
    this.measured = undefined;
    if (refused) throw refused;
  }

  /** Whether this execution has been started (its state written). */
  async exists(): Promise<boolean> {
    return this.cache !== undefined || (await this.storage.get("meta")) !== undefined;
  }

  /** Writes a new execution (its start already decided) in one commit and resolves once it is on disk. */
  async create(
    state: Omit<Loaded, "run" | "outbox">,
    decision: Decision,
    owed: OutboxEntry[],
  ): Promise<Loaded> {
    this.checkSizes(decision);
    const loaded: Loaded = {
      ...state,
      run: { header: decision.header, instances: new Map() },
      outbox: new Map(),
    };
    const entries: Record<string, unknown> = { meta: state.meta, plan: state.plan };
    if (state.projected) entries.projected = state.projected;
    if (state.queued !== undefined) entries.queued = state.queued;
    this.stage(loaded, decision, owed, entries);
    await this.putAll(entries);
    await this.storage.sync();
    this.cache = loaded;
    return loaded;
  }

  /**
   * Persists a decision — the header, the instances it changed, the deliveries it owes (and `unowed`
   * outbox keys it takes back) — and resolves
   * only once they are on disk: a resolved `put` is not yet durable, and a crash right after it would
   * lose a completion the shell has already acted on.
   */
  async save(decision: Decision, owed: OutboxEntry[], unowed: string[] = []): Promise<void> {
    const current = this.cache;
    if (!current) throw new Error("save before load");
    const unchanged = decision.changed.length === 0 && owed.length === 0 && unowed.length === 0;
    // A decision that changed nothing (a duplicate notice, a wake with nothing due) writes nothing.
    if (unchanged && sameFields(decision.header, current.run.header)) return;
    this.checkSizes(decision);
    const entries: Record<string, unknown> = {};
    this.stage(current, decision, owed, entries);
    // Issued together with the puts, so they land in the same commit.
    const dropping = unowed.length > 0 ? this.storage.delete(unowed) : undefined;
    for (const key of unowed) current.outbox.delete(key);
    await Promise.all([this.putAll(entries), dropping]);
    await this.storage.sync();
  }

  /** Applies the decision to the cached state and collects its storage entries. */
  private stage(
    loaded: Loaded,
    decision: Decision,
    owed: OutboxEntry[],
    entries: Record<string, unknown>,
  ): void {
    entries.header = decision.header;
    loaded.run.header = decision.header;
    for (const instance of decision.changed) {
      entries[instanceKey(instance.id)] = instance;
      loaded.run.instances.set(instance.id, instance);
    }
    for (const entry of owed) {
      const key = `outbox:${crypto.randomUUID()}`;
      entries[key] = entry;
      loaded.outbox.set(key, entry);
    }
  }

  /** A delivery arrived: it is no longer owed. */
  async delivered(key: string): Promise<void> {
    await this.storage.delete(key);
    this.cache?.outbox.delete(key);
  }

  /** The run leaves the tenant's queue (released to start, or ended while it waited). */
  async unqueue(): Promise<void> {
    await this.storage.delete(["queued", "released"]);
    if (this.cache) delete this.cache.queued;
  }

  /** Whether the governor released this run before its (queued) start arrived; see "released". */
  async releasedEarly(): Promise<boolean> {
    return (await this.storage.get("released")) === true;
  }

  /** The governor released a run whose start has not arrived yet. */
  async markReleasedEarly(): Promise<void> {
    await this.storage.put("released", true);
  }

  async markProjected(status: RunStatus): Promise<void> {
    await this.storage.put("projected", status);
    if (this.cache) this.cache.projected = status;
  }

  /** Storage takes at most 128 keys per put. */
  private async putAll(entries: Record<string, unknown>): Promise<void> {
    const keys = Object.keys(entries);
    const puts: Promise<void>[] = [];
    // Issued with no await in between, so every batch lands in one atomic commit: a decision's instance
    // records and the deliveries it owes are written together or not at all.
    for (let i = 0; i < keys.length; i += 128) {
      const batch: Record<string, unknown> = {};
      for (const key of keys.slice(i, i + 128)) batch[key] = entries[key];
      puts.push(this.storage.put(batch));
    }
    await Promise.all(puts);
  }

  forget(): void {
    this.cache = undefined;
  }
}

/** Equal field by field (by reference): a decision copies the header and reassigns what it changes. */
function sameFields(a: object, b: object): boolean {
  const keysA = Object.keys(a);
  return (
    keysA.length === Object.keys(b).length &&
    keysA.every((key) => (a as Record<string, unknown>)[key] === (b as Record<string, unknown>)[key])
  );
}

export type { RunState };
