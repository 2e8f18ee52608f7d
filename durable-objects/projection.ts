// Writes an execution's status into D1's executions index (the DO stays the source of truth). Called
// on every status change; a failed write is retried by the DO's alarm and by the sweeper.
import { and, eq } from "drizzle-orm";
import { openDb } from "../worker/db/client";
import { executions } from "../worker/db/schema";
import type { RunHeader } from "./engine/types";
import type { ExecutionMeta } from "./execution-store";

export async function projectStatus(d1: D1Database, meta: ExecutionMeta, header: RunHeader): Promise<void> {
  const db = openDb(d1);
  await db
    .update(executions)
    .set({
      status: header.status,
      error: header.error ?? null,
      startedAt: header.startedAt === undefined ? null : new Date(header.startedAt),
      finishedAt: header.finishedAt === undefined ? null : new Date(header.finishedAt),
      updatedAt: new Date(),
    })
    .where(and(eq(executions.id, meta.executionId), eq(executions.tenantId, meta.tenantId)));
}
