// Every write to an execution's row in D1's executions index, in one place. The execution object is
// the source of truth and writes the row's status on every change (an upsert, so it also creates the
// row); before an object exists, a start claims its idempotency key with a "pending" row, a start that
// failed marks that row failed, and the sweeper marks a row whose object never got its state.
import { and, eq, lt, or, sql } from "drizzle-orm";
import { newId } from "../../worker/auth/crypto";
import { type Actor, type Db, openDb } from "../../worker/db/client";
import { IDEMPOTENCY_WINDOW_MS } from "../../worker/db/executions";
import { executions } from "../../worker/db/schema";
import { settleMonth } from "../../worker/db/usage";
import { spentForMonth } from "../engine/budget";
import { isTerminal } from "../engine/status";
import type { RunHeader, RunStatus } from "../engine/types";
import type { ExecutionMeta } from "./store";

export type ExecutionRow = typeof executions.$inferSelect;

/**
 * The object's projection, an upsert: the Worker may still be inserting the row when a fast run already
 * ends, so whichever write comes first creates the row and the status converges either way.
 */
export async function projectStatus(d1: D1Database, meta: ExecutionMeta, header: RunHeader): Promise<void> {
  const status = {
    status: header.status,
    error: header.error ?? null,
    startedAt: header.startedAt === undefined ? null : new Date(header.startedAt),
    finishedAt: header.finishedAt === undefined ? null : new Date(header.finishedAt),
    updatedAt: new Date(),
    ...usageColumns(header),
  };
  const db = openDb(d1);
  const upsert = db
    .insert(executions)
    .values({
      id: meta.executionId,
      tenantId: meta.tenantId,
      orchestrationId: meta.orchestrationId,
      orchestrationName: meta.orchestrationName,
      orchestrationVersion: meta.orchestrationVersion,
      parentExecutionId: meta.parent?.executionId ?? meta.startedFrom ?? null,
      depth: meta.depth ?? 0,
      createdBy: meta.createdBy,
      createdAt: new Date(header.createdAt),
      ...status,
    })
    .onConflictDoUpdate({
      target: executions.id,
      set: status,
      setWhere: eq(executions.tenantId, meta.tenantId),
    });
  const reserve = meta.monthlyReserve;
  if (!reserve || !header.usage || !isTerminal(header.status)) {
    await upsert;
    return;
  }
  // The month's ledger takes the run's spend (its children's included) in the same commit that marks the
  // row settled, so a repeated projection settles nothing twice.
  const spentUsd = spentForMonth(header);
  const { tenantId, executionId } = meta;
  const counted = db
    .update(executions)
    .set({ monthSpentUsd: spentUsd })
    .where(and(eq(executions.tenantId, tenantId), eq(executions.id, executionId)));
  await db.batch([settleMonth(db, { tenantId, executionId, reserve, spentUsd }), upsert, counted]);
}

/** A run's usage on its row, once it has ended (runs that ended before usage was kept write none). */
function usageColumns(header: RunHeader) {
  const { usage } = header;
  if (!usage || !isTerminal(header.status)) return {};
  const { tokensIn, tokensOut, costUsd, calls, byModel } = usage;
  return { tokensIn, tokensOut, costUsd, calls, usageByModel: byModel, usageSettled: true };
}

/**
 * `projectStatus` for the shell: false (and logged) when the write failed, for the caller to retry.
 * `beforeWrite` is where a crash test's fault fires; a "throw" there stands for a failed D1 write.
 */
export async function tryProjectStatus(
  d1: D1Database,
  meta: ExecutionMeta,
  header: RunHeader,
  beforeWrite: () => void,
): Promise<boolean> {
  try {
    beforeWrite();
    await projectStatus(d1, meta, header);
    return true;
  } catch (error) {
    console.error(
      `execution ${meta.executionId}: D1 projection failed, will retry:`,
      (error as Error).message,
    );
    return false;
  }
}

/**
 * Claims an idempotency key: inserts a "pending" row carrying it, or returns the execution already
 * started with the key in the last 24 hours. Keys older than that are released first, so they can start
 * a new execution. (Starts without a key leave the row to the execution's object.)
 */
export async function claimIdempotencyKey(
  d1: D1Database,
  actor: Actor,
  fields: {
    orchestrationId: string;
    orchestrationName: string;
    orchestrationVersion: number;
    idempotencyKey: string;
    now: number;
  },
): Promise<{ row: ExecutionRow; created: boolean }> {
  const db = openDb(d1);
  const { idempotencyKey, now, ...rest } = fields;
  const scope = eq(executions.tenantId, actor.tenantId);
  const values = {
    id: newId("exe"),
    tenantId: actor.tenantId,
    ...rest,
    status: "pending" as const,
    idempotencyKey,
    createdBy: actor.principal,
    createdAt: new Date(now),
    updatedAt: new Date(now),
  };
  const [, inserted] = await db.batch([
    db
      .update(executions)
      .set({ idempotencyKey: null })
      .where(
        and(
          scope,
          eq(executions.idempotencyKey, idempotencyKey),
          lt(executions.createdAt, new Date(now - IDEMPOTENCY_WINDOW_MS)),
        ),
      ),
    db.insert(executions).values(values).onConflictDoNothing().returning(),
  ]);
  if (inserted[0]) return { row: inserted[0], created: true };
  const [existing] = await db
    .select()
    .from(executions)
    .where(and(scope, eq(executions.idempotencyKey, idempotencyKey)));
  if (!existing) throw new Error("idempotency key conflict without a row");
  return { row: existing, created: false };
}

export type ChildRowClaim =
  | { claimed: true; row: ExecutionRow; created: boolean }
  /** The parent has started `count` executions already: its limit. */
  | { claimed: false; count: number };

/**
 * Claims the index row of a run started from run `parentExecutionId` (a child step's, or one its agent
 * code starts): inserts it "pending" only while the parent has started fewer than `maxChildren`, in one
 * statement, so parallel starts cannot pass the limit together. A row already there under the same id
 * (a child start delivered again) or the same idempotency key (a retried request) is returned instead.
 */
export async function claimChildRow(
  d1: D1Database,
  actor: Actor,
  fields: {
    executionId: string;
    parentExecutionId: string;
    depth: number;
    orchestrationId: string;
    orchestrationName: string;
    orchestrationVersion: number;
    idempotencyKey?: string;
    now: number;
    maxChildren: number;
  },
): Promise<ChildRowClaim> {
  const db = openDb(d1);
  const { executionId, parentExecutionId, idempotencyKey, now } = fields;
  const scope = eq(executions.tenantId, actor.tenantId);
  if (idempotencyKey !== undefined) await releaseExpiredKey(db, actor, idempotencyKey, now);
  const insert = await d1
    .prepare(
      `insert into executions (id, tenant_id, orchestration_id, orchestration_name, orchestration_version,
         parent_execution_id, depth, status, idempotency_key, created_by, created_at, updated_at)
       select ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?10, ?10
       where (select count(*) from executions where tenant_id = ?2 and parent_execution_id = ?6) < ?11
       on conflict do nothing`,
    )
    .bind(
      executionId,
      actor.tenantId,
      fields.orchestrationId,
      fields.orchestrationName,
      fields.orchestrationVersion,
      parentExecutionId,
      fields.depth,
      idempotencyKey ?? null,
      actor.principal,
      now,
      fields.maxChildren,
    )
    .run();
  const created = insert.meta.changes > 0;
  const same =
    idempotencyKey === undefined
      ? eq(executions.id, executionId)
      : or(eq(executions.id, executionId), eq(executions.idempotencyKey, idempotencyKey));
  const [row] = await db.select().from(executions).where(and(scope, same));
  if (row) return { claimed: true, row, created };
  const [counted] = await db
    .select({ count: sql<number>`count(*)` })
    .from(executions)
    .where(and(scope, eq(executions.parentExecutionId, parentExecutionId)));
  return { claimed: false, count: counted?.count ?? fields.maxChildren };
}

/** Keys older than the idempotency window name nothing any more: released, so they can start a new run. */
async function releaseExpiredKey(db: Db, actor: Actor, idempotencyKey: string, now: number) {
  await db
    .update(executions)
    .set({ idempotencyKey: null })
    .where(
      and(
        eq(executions.tenantId, actor.tenantId),
        eq(executions.idempotencyKey, idempotencyKey),
        lt(executions.createdAt, new Date(now - IDEMPOTENCY_WINDOW_MS)),
      ),
    );
}

/** A start that failed: its row (if one was written) says so. */
export async function markFailedToStart(d1: D1Database, actor: Actor, executionId: string, error: string) {
  await openDb(d1)
    .update(executions)
    .set({ status: "failed", error, finishedAt: new Date(), updatedAt: new Date() })
    .where(and(eq(executions.tenantId, actor.tenantId), eq(executions.id, executionId)));
}

/**
 * The sweeper looked at a row: it is fresh again, and a row whose object holds no state at all is
 * marked failed. Only if the row is as read: a projection that landed meanwhile is newer.
 */
export async function markSwept(
  d1: D1Database,
  row: { id: string; status: RunStatus },
  now: number,
  lost: boolean,
): Promise<void> {
  const error = "the execution's state was lost before it started";
  await openDb(d1)
    .update(executions)
    .set({
      updatedAt: new Date(now),
      ...(lost ? { status: "failed", error, finishedAt: new Date(now) } : {}),
    })
    .where(and(eq(executions.id, row.id), eq(executions.status, row.status)));
}
