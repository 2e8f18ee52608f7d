// The tenant's governor: one Durable Object per tenant (named by the tenant id) that answers, in one RPC,
// whether a request may go ahead (token buckets for the tenant and for the calling key or user) and
// whether an execution may start (the tenant's executions not yet ended, against maxRunningExecutions),
// or wait in the tenant's queue (maxQueuedExecutions) until one ends. It decides, counts and releases
// queued runs; it never runs anything.
//
// PERSISTED CONTRACT v1 (governor storage): "running:<executionId>" = when it was admitted (ms); the
// queue's keys are in queue.ts. Buckets and the count of starts this minute live in memory only: an
// evicted governor starts with full buckets and an empty minute, which errs towards letting a request
// through. The running set is written without waiting for the disk (allowUnconfirmed): a write lost to a
// crash counts one run too few, never strands one. The running set is pruned lazily: when it
// looks full, the D1 index says which of its executions have ended. An execution object tells the
// governor when its run ends (best effort), which starts the oldest queued runs; while the queue is not
// empty an alarm reconciles against D1 every QUEUE_CHECK_MS, so a lost notice cannot stall it.
import { DurableObject } from "cloudflare:workers";
import { tenantLimits } from "../../worker/db/accounts";
import { openDb } from "../../worker/db/client";
import type { Env } from "../../worker/env";
import type { Limits } from "../../worker/limits";
import { isTerminal } from "../engine/status";
import type { RunStatus } from "../engine/types";
import type { ExecutionObject } from "../execution/object";
import { type Bucket, type BucketRate, takeAll } from "./bucket";
import { ExecutionQueue, TENANT_KEY } from "./queue";
import { type StartWindow, takeStart } from "./starts";

/** A plan changed by an operator applies within this long (or at once after `forgetLimits`). */
export const LIMITS_TTL_MS = 30_000;
/** An admitted execution with no index row yet is counted this long (its object writes the row). */
export const ADMISSION_GRACE_MS = 60_000;
/** While runs are queued, the governor checks D1 this often for runs that ended unannounced. */
export const QUEUE_CHECK_MS = 30_000;
/**
 * Below this share of maxRunningExecutions, with nothing queued, an admitted run is told it need not
 * report its end: its slot is freed when the set is next pruned against D1 (at this share, at most every
 * PRUNE_EVERY_MS, and always before a start would be refused or queued).
 */
const NOTICE_FROM_SHARE = 0.5;
const PRUNE_EVERY_MS = 2_000;
/** Buckets kept in memory before full ones (idle callers) are dropped. */
const MAX_BUCKETS = 1_000;
/** D1 binds at most 100 parameters per statement. */
const IDS_PER_QUERY = 90;
const RUNNING_PREFIX = "running:";

export type RequestVerdict =
  /** `granted`: the tokens taken, the call's cost plus those leased to the caller (RequestTicket.extra). */
  | { ok: true; granted: number }
  | { ok: false; scope: "tenant" | "key"; rate: BucketRate; retryAfterMs: number };

export type Admission =
  /** `notify`: the run must tell the governor when it ends (else a prune against D1 frees its slot). */
  | { ok: true; queued: false; notify: boolean }
  /** `position`: 1 for the next to start. */
  | { ok: true; queued: true; position: number }
  /** `queue`: set when the start could have queued but the queue was full. */
  | { ok: false; reason: "running"; running: number; max: number; queue?: { size: number; max: number } }
  /** maxExecutionsStartedPerMinute reached; `retryAfterMs`: until the minute's window closes. */
  | { ok: false; reason: "per_minute"; max: number; retryAfterMs: number };

export interface AdmissionRequest {
  tenantId: string;
  executionId: string;
  /** Past the running cap, queue it (execute, rerun) instead of refusing it (children, resume, agent code). */
  queue?: boolean;
  /** A new run (not a resume): it counts against maxExecutionsStartedPerMinute when admitted or queued. */
  countStart?: boolean;
}

export interface RequestTicket {
  tenantId: string;
  /** `user:<id>` or `apiKey:<id>`: who is calling within the tenant. */
  principal: string;
  /** Tokens to take: one per call (a tRPC batch of n calls takes n). */
  cost: number;
  /** Up to this many more, if the buckets hold them, for the caller to spend without asking (client.ts). */
  extra?: number;
}

export class TenantGovernor extends DurableObject<Env> {
  private readonly buckets = new Map<string, Bucket>();
  private startWindow: StartWindow | undefined;
  private prunedAt = 0;
  private limitsRead: { limits: Promise<Limits>; at: number } | undefined;
  private runningRead: Promise<Map<string, number>> | undefined;
  private readonly queue = new ExecutionQueue(this.ctx.storage);
  /** Admissions, ends and releases run one at a time: a D1 read between counting and adding must not let two in. */
  private admissions: Promise<unknown> = Promise.resolve();

  /** Takes a token from the tenant's bucket and the caller's, or from neither. */
  async takeRequest(ticket: RequestTicket): Promise<RequestVerdict> {
    const limits = await this.limits(ticket.tenantId);
    const tenantRate = { perSecond: limits.requestsPerSecondPerTenant, burst: limits.requestBurstPerTenant };
    const keyRate = { perSecond: limits.requestsPerSecondPerKey, burst: limits.requestBurstPerKey };
    const now = Date.now();
    const keyBucket = `key:${ticket.principal}`;
    const result = takeAll(
      [
        { key: "tenant" as const, bucket: this.buckets.get("tenant"), rate: tenantRate },
        { key: "key" as const, bucket: this.buckets.get(keyBucket), rate: keyRate },
      ],
      Math.max(1, ticket.cost),
      now,
      Math.max(0, Math.floor(ticket.extra ?? 0)),
    );
    if (!result.ok) {
      const rate = result.key === "tenant" ? tenantRate : keyRate;
      return { ok: false, scope: result.key, rate, retryAfterMs: result.retryAfterMs };
    }
    for (const [key, bucket] of result.buckets) this.buckets.set(key === "tenant" ? key : keyBucket, bucket);
    if (this.buckets.size > MAX_BUCKETS) this.dropIdleBuckets(keyRate, now);
    return { ok: true, granted: result.granted };
  }

  /**
   * Counts `executionId` as running if the tenant has room (and no queued run is ahead of it), else
   * queues it if asked to and the queue has room; the same id again gets the same answer.
   */
  admitExecution(request: AdmissionRequest): Promise<Admission> {
    return this.serial(() => this.admit(request));
  }

  /** An execution object's notice that its run ended: its slot is free, the oldest queued runs start. */
  executionEnded(request: { tenantId: string; executionId: string }): Promise<void> {
    return this.serial(async () => {
      const running = await this.running();
      if (running.delete(request.executionId))
        await this.ctx.storage.delete(`${RUNNING_PREFIX}${request.executionId}`, { allowUnconfirmed: true });
      const queue = await this.queue.load();
      if (queue.has(request.executionId)) await this.queue.remove([request.executionId]);
      if (queue.size > 0) await this.makeRoom(request.tenantId, Date.now());
    });
  }

  /**
   * Takes back an admission whose start was then refused before anything ran (the start checked its
   * orchestration while it was admitted): its slot or queue place is freed and it is not counted as a
   * start of this minute.
   */
  withdrawAdmission(request: { tenantId: string; executionId: string }): Promise<void> {
    return this.serial(async () => {
      const running = await this.running();
      const queue = await this.queue.load();
      const held = running.has(request.executionId) || queue.has(request.executionId);
      if (running.delete(request.executionId))
        await this.ctx.storage.delete(`${RUNNING_PREFIX}${request.executionId}`, { allowUnconfirmed: true });
      if (queue.has(request.executionId)) await this.queue.remove([request.executionId]);
      if (held && this.startWindow && this.startWindow.count > 0 && this.startWindow.endsAt > Date.now())
        this.startWindow = { ...this.startWindow, count: this.startWindow.count - 1 };
    });
  }

  /** The queued executions, oldest first, for tests and operators. */
  async queuedExecutions(): Promise<string[]> {
    return [...(await this.queue.load()).keys()];
  }

  /** While runs are queued: drops those D1 shows ended, starts what there is room for, checks again later. */
  override async alarm(): Promise<void> {
    await this.serial(async () => {
      const tenantId = await this.ctx.storage.get<string>(TENANT_KEY);
      const queue = await this.queue.load();
      if (!tenantId || queue.size === 0) return;
      const now = Date.now();
      await this.pruneQueue(tenantId, now);
      await this.makeRoom(tenantId, now);
      if (queue.size > 0) await this.ctx.storage.setAlarm(Date.now() + QUEUE_CHECK_MS);
    });
  }

  /** The executions counted as running now (after pruning the ended ones), for tests and operators. */
  async runningExecutions(tenantId: string): Promise<string[]> {
    const running = await this.running();
    await this.prune(tenantId, running, Date.now());
    return [...running.keys()];
  }

  /** Reads the tenant's plan again on the next request instead of within LIMITS_TTL_MS. */
  async forgetLimits(): Promise<void> {
    this.limitsRead = undefined;
  }

  /** Forgets everything (a deleted tenant): storage, buckets and cached limits. */
  async purge(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.buckets.clear();
    this.limitsRead = undefined;
    this.runningRead = undefined;
    this.startWindow = undefined;
    this.queue.forget();
  }

  private async admit({
    tenantId,
    executionId,
    queue: queueable,
    countStart,
  }: AdmissionRequest): Promise<Admission> {
    const running = await this.running();
    if (running.has(executionId)) return { ok: true, queued: false, notify: true };
    const position = await this.queue.positionOf(executionId);
    if (position > 0) return { ok: true, queued: true, position };
    const limits = await this.limits(tenantId);
    const max = limits.maxRunningExecutions;
    const now = Date.now();
    // Counted only once the start is admitted or queued (below): a refused start is not a start.
    const started = countStart
      ? takeStart(this.startWindow, limits.maxExecutionsStartedPerMinute, now)
      : undefined;
    if (started && !started.ok)
      return {
        ok: false,
        reason: "per_minute",
        max: limits.maxExecutionsStartedPerMinute,
        retryAfterMs: started.retryAfterMs,
      };
    const countStarted = () => {
      if (started) this.startWindow = started.window;
    };
    const queue = await this.queue.load();
    await this.makeRoom(tenantId, now);
    // A child or a resumed run does not wait behind the queue: it is refused only when there is no room.
    if (running.size < max && (queue.size === 0 || !queueable)) {
      await this.count(executionId, now);
      countStarted();
      return { ok: true, queued: false, notify: await this.needsNotice(tenantId, max, now) };
    }
    const refused = { ok: false as const, reason: "running" as const, running: running.size, max };
    const maxQueued = limits.maxQueuedExecutions;
    if (!queueable || maxQueued <= 0) return refused;
    if (queue.size >= maxQueued) await this.pruneQueue(tenantId, now);
    if (queue.size >= maxQueued) return { ...refused, queue: { size: queue.size, max: maxQueued } };
    const place = await this.queue.add(tenantId, executionId, now);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + QUEUE_CHECK_MS);
    countStarted();
    return { ok: true, queued: true, position: place };
  }

  /**
   * Frees the slots of runs D1 shows ended (when the set looks full), then starts the oldest queued runs
   * while there is room. A run whose object cannot be reached stays at the head for the next try.
   */
  private async makeRoom(tenantId: string, now: number): Promise<void> {
    const running = await this.running();
    const max = (await this.limits(tenantId)).maxRunningExecutions;
    const queued = (await this.queue.load()).size > 0;
    // Runs told not to report their end hold slots until a prune: with runs waiting, prune often.
    if (running.size >= max || (queued && now - this.prunedAt >= PRUNE_EVERY_MS))
      await this.prune(tenantId, running, now);
    for (let next = await this.queue.head(); next !== undefined && running.size < max; ) {
      const released = await this.executionStub(next)
        .release()
        .catch((error: Error) => ({ ok: false as const, error: error.message }));
      if (!released.ok) {
        console.error(`governor of tenant ${tenantId}: releasing execution ${next}:`, released.error);
        return;
      }
      await this.queue.remove([next]);
      // Released before it is counted: a crash in between lets one run too many, never strands one.
      if (released.value === "started") await this.count(next, Date.now());
      next = await this.queue.head();
    }
  }

  private executionStub(executionId: string): Pick<ExecutionObject, "release"> {
    const { EXECUTIONS } = this.env;
    return EXECUTIONS.get(EXECUTIONS.idFromName(executionId)) as unknown as Pick<ExecutionObject, "release">;
  }

  private async count(executionId: string, now: number): Promise<void> {
    (await this.running()).set(executionId, now);
    await this.ctx.storage.put(`${RUNNING_PREFIX}${executionId}`, now, { allowUnconfirmed: true });
  }

  /**
   * Whether the run just counted must report its end: yes once the tenant holds NOTICE_FROM_SHARE of its
   * cap (after dropping what D1 shows ended, at most every PRUNE_EVERY_MS) or has runs queued.
   */
  private async needsNotice(tenantId: string, max: number, now: number): Promise<boolean> {
    if ((await this.queue.load()).size > 0) return true;
    const running = await this.running();
    if (running.size < max * NOTICE_FROM_SHARE) return false;
    if (now - this.prunedAt >= PRUNE_EVERY_MS) await this.prune(tenantId, running, now);
    return running.size >= max * NOTICE_FROM_SHARE;
  }

  /** Drops the executions the D1 index shows ended, and those never indexed within the grace period. */
  private async prune(tenantId: string, running: Map<string, number>, now: number): Promise<void> {
    this.prunedAt = now;
    const ended = await this.endedAmong(tenantId, running, now);
    if (ended.length === 0) return;
    for (const id of ended) running.delete(id);
    for (let i = 0; i < ended.length; i += 128)
      await this.ctx.storage.delete(ended.slice(i, i + 128).map((id) => `${RUNNING_PREFIX}${id}`));
  }

  /** Drops queued runs that ended meanwhile (cancelled, or their start failed) or were never indexed. */
  private async pruneQueue(tenantId: string, now: number): Promise<void> {
    const queue = await this.queue.load();
    const at = new Map([...queue].map(([id, entry]) => [id, entry.at]));
    await this.queue.remove(await this.endedAmong(tenantId, at, now));
  }

  /** Which of `admitted` (id → when admitted) D1 shows ended, or never indexed within the grace period. */
  private async endedAmong(tenantId: string, admitted: Map<string, number>, now: number): Promise<string[]> {
    const ids = [...admitted.keys()];
    const statuses = new Map<string, RunStatus>();
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const chunk = ids.slice(i, i + IDS_PER_QUERY);
      const { results } = await this.env.DB.prepare(
        `select id, status from executions where tenant_id = ? and id in (${chunk.map(() => "?").join(", ")})`,
      )
        .bind(tenantId, ...chunk)
        .all<{ id: string; status: RunStatus }>();
      for (const row of results) statuses.set(row.id, row.status);
    }
    return ids.filter((id) => {
      const status = statuses.get(id);
      if (status === undefined) return now - (admitted.get(id) ?? 0) > ADMISSION_GRACE_MS;
      return isTerminal(status);
    });
  }

  /** Runs `work` after every admission, end and release queued before it. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.admissions.then(work);
    this.admissions = run.catch(() => undefined);
    return run;
  }

  private running(): Promise<Map<string, number>> {
    this.runningRead ??= this.ctx.storage
      .list<number>({ prefix: RUNNING_PREFIX })
      .then((stored) => new Map([...stored].map(([key, at]) => [key.slice(RUNNING_PREFIX.length), at])));
    return this.runningRead;
  }

  private limits(tenantId: string): Promise<Limits> {
    const now = Date.now();
    if (!this.limitsRead || now - this.limitsRead.at > LIMITS_TTL_MS) {
      const limits = tenantLimits(openDb(this.env.DB), tenantId);
      this.limitsRead = { limits, at: now };
      // A failed read is not kept: the next request reads again.
      limits.catch(() => {
        if (this.limitsRead?.limits === limits) this.limitsRead = undefined;
      });
    }
    return this.limitsRead.limits;
  }

  /** Callers whose bucket has refilled are indistinguishable from new ones: forget them. */
  private dropIdleBuckets(keyRate: BucketRate, now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (key === "tenant") continue;
      const elapsedMs = now - bucket.at;
      if (bucket.tokens + (elapsedMs * keyRate.perSecond) / 1000 >= keyRate.burst) this.buckets.delete(key);
    }
  }
}
