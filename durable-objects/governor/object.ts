// The tenant's governor: one Durable Object per tenant (named by the tenant id) that answers, in one RPC,
// whether a request may go ahead (token buckets for the tenant and for the calling key or user) and
// whether an execution may start (the tenant's executions not yet ended, against maxRunningExecutions).
// It decides and counts; it never runs anything.
//
// PERSISTED CONTRACT v1 (governor storage): "running:<executionId>" = when it was admitted (ms).
// Buckets live in memory only: an evicted governor starts with full buckets, which errs towards letting
// a request through. The running set is pruned lazily: when it looks full, the D1 index says which of its
// executions have ended (no message from the execution object is needed, so none can be lost).
import { DurableObject } from "cloudflare:workers";
import { tenantLimits } from "../../worker/db/accounts";
import { openDb } from "../../worker/db/client";
import type { Env } from "../../worker/env";
import type { Limits } from "../../worker/limits";
import { isTerminal } from "../engine/status";
import type { RunStatus } from "../engine/types";
import { type Bucket, type BucketRate, takeAll } from "./bucket";

/** A plan changed by an operator applies within this long (or at once after `forgetLimits`). */
export const LIMITS_TTL_MS = 30_000;
/** An admitted execution with no index row yet is counted this long (its object writes the row). */
export const ADMISSION_GRACE_MS = 60_000;
/** Buckets kept in memory before full ones (idle callers) are dropped. */
const MAX_BUCKETS = 1_000;
/** D1 binds at most 100 parameters per statement. */
const IDS_PER_QUERY = 90;
const RUNNING_PREFIX = "running:";

export type RequestVerdict =
  | { ok: true }
  | { ok: false; scope: "tenant" | "key"; rate: BucketRate; retryAfterMs: number };

export type Admission = { ok: true } | { ok: false; running: number; max: number };

export interface RequestTicket {
  tenantId: string;
  /** `user:<id>` or `apiKey:<id>`: who is calling within the tenant. */
  principal: string;
  /** Tokens to take: one per call (a tRPC batch of n calls takes n). */
  cost: number;
}

export class TenantGovernor extends DurableObject<Env> {
  private readonly buckets = new Map<string, Bucket>();
  private limitsRead: { limits: Promise<Limits>; at: number } | undefined;
  private runningRead: Promise<Map<string, number>> | undefined;
  /** Admissions run one at a time: a D1 read between counting and adding must not let two in. */
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
    );
    if (!result.ok) {
      const rate = result.key === "tenant" ? tenantRate : keyRate;
      return { ok: false, scope: result.key, rate, retryAfterMs: result.retryAfterMs };
    }
    for (const [key, bucket] of result.buckets) this.buckets.set(key === "tenant" ? key : keyBucket, bucket);
    if (this.buckets.size > MAX_BUCKETS) this.dropIdleBuckets(keyRate, now);
    return { ok: true };
  }

  /** Counts `executionId` as running if the tenant has room; the same id again is admitted again. */
  admitExecution(request: { tenantId: string; executionId: string }): Promise<Admission> {
    const admitted = this.admissions.then(() => this.admit(request.tenantId, request.executionId));
    this.admissions = admitted.catch(() => undefined);
    return admitted;
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
    await this.ctx.storage.deleteAll();
    this.buckets.clear();
    this.limitsRead = undefined;
    this.runningRead = undefined;
  }

  private async admit(tenantId: string, executionId: string): Promise<Admission> {
    const running = await this.running();
    if (running.has(executionId)) return { ok: true };
    const max = (await this.limits(tenantId)).maxRunningExecutions;
    const now = Date.now();
    if (running.size >= max) await this.prune(tenantId, running, now);
    if (running.size >= max) return { ok: false, running: running.size, max };
    running.set(executionId, now);
    await this.ctx.storage.put(`${RUNNING_PREFIX}${executionId}`, now);
    return { ok: true };
  }

  /** Drops the executions the D1 index shows ended, and those never indexed within the grace period. */
  private async prune(tenantId: string, running: Map<string, number>, now: number): Promise<void> {
    const ids = [...running.keys()];
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
    const ended = ids.filter((id) => {
      const status = statuses.get(id);
      if (status === undefined) return now - (running.get(id) ?? 0) > ADMISSION_GRACE_MS;
      return isTerminal(status);
    });
    if (ended.length === 0) return;
    for (const id of ended) running.delete(id);
    for (let i = 0; i < ended.length; i += 128)
      await this.ctx.storage.delete(ended.slice(i, i + 128).map((id) => `${RUNNING_PREFIX}${id}`));
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
