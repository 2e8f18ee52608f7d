// Every write to an execution's row in D1's executions index, in one place. The execution object is
// the source of truth and writes the row's status on every change (an upsert, so it also creates the
// row); before an object exists, a start claims its idempotency key with a "pending" row, a start that
// failed marks that row failed, and the sweeper marks a row whose object never got its state.
import { and, eq, lt } from "drizzle-orm";
import { newId } from "../../worker/auth/crypto";
import { type Actor, openDb } from "../../worker/db/client";
import { IDEMPOTENCY_WINDOW_MS } from "../../worker/db/executions";
import { executions } from "../../worker/db/schema";
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
  };
  await openDb(d1)
    .insert(executions)
    .values({
      id: meta.executionId,
      tenantId: meta.tenantId,
      orchestrationId: meta.orchestrationId,
      orchestrationName: meta.orchestrationName,
      orchestrationVersion: meta.orchestrationVersion,
      parentExecutionId: meta.parent?.executionId ?? null,
      createdBy: meta.createdBy,
      createdAt: new Date(header.createdAt),
      ...status,
    })
    .onConflictDoUpdate({
      target: executions.id,
      set: status,
      setWhere: eq(executions.tenantId, meta.tenantId),
    });
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
