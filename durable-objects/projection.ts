// Writes an execution's status into D1's executions index (the DO stays the source of truth). Called
// on every status change; a failed write is retried by the DO's alarm and by the sweeper.
import { eq } from "drizzle-orm";
import { openDb } from "../worker/db/client";
import { executions } from "../worker/db/schema";
import type { RunHeader } from "./engine/types";
import type { ExecutionMeta } from "./execution-store";

/**
 * An upsert: the Worker may still be inserting the row when a fast run already ends, so whichever
 * write comes first creates the row and the status converges either way.
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
