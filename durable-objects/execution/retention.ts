// Deleting executions for good: one on request (`execution.delete`), the ones past their tenant's
// retention (the cron), and all of a deleted team's. Each goes object first (its storage and alarm), then
// its index row and agent-run log, so a row is never gone while its object still holds data nobody can
// reach; a crash in between leaves a row whose object is empty, which the next pass deletes again.
import { and, asc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import { openDb } from "../../worker/db/client";
import { agentRuns, executions, tenants } from "../../worker/db/schema";
import type { TenantData } from "../../worker/db/tenant-data";
import type { Env } from "../../worker/env";
import { TroupeError } from "../../worker/errors";
import { DEFAULT_LIMITS } from "../../worker/limits";
import { isTerminal, TERMINAL_RUN_STATUSES } from "../engine/status";
import type { RunStatus } from "../engine/types";
import { governorStub } from "../governor/client";
import { executionStub } from "./stub";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Executions one cron pass deletes (retention and deleted teams each). */
export const PURGE_BATCH = 50;

async function dropRows(env: Env, tenantId: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const db = openDb(env.DB);
  await db.batch([
    db.delete(agentRuns).where(and(eq(agentRuns.tenantId, tenantId), inArray(agentRuns.executionId, ids))),
    db.delete(executions).where(and(eq(executions.tenantId, tenantId), inArray(executions.id, ids))),
  ]);
}

/** `execution.delete`: an ended execution of the caller's tenant, gone with everything it stored. */
export async function deleteExecution(
  data: TenantData,
  env: Env,
  executionId: string,
): Promise<{ executionId: string; deleted: true }> {
  const row = await data.executions.get(executionId);
  const purged = await executionStub(env, row.id).purge();
  if (!purged.ok) throw new TroupeError(purged.code ?? "CONFLICT", purged.error);
  await dropRows(env, data.actor.tenantId, [row.id]);
  return { executionId: row.id, deleted: true };
}

/** Purges `rows`' objects (cancelling live ones first when `cancelLive`); drops the rows purged. */
async function purgeAll(
  env: Env,
  rows: { id: string; tenantId: string; status: RunStatus }[],
  cancelLive: boolean,
): Promise<number> {
  let done = 0;
  for (const row of rows) {
    try {
      const stub = executionStub(env, row.id);
      if (cancelLive && !isTerminal(row.status)) await stub.cancel("the team was deleted");
      const purged = await stub.purge(true);
      if (!purged.ok) {
        console.error(`retention: execution ${row.id} not purged: ${purged.error}`);
        continue;
      }
      await dropRows(env, row.tenantId, [row.id]);
      done += 1;
    } catch (error) {
      console.error(`retention: execution ${row.id}:`, (error as Error).message);
    }
  }
  return done;
}

/**
 * Ended executions whose tenant's retention (plan `retentionDays`, else the default) has passed,
 * oldest first, then the executions of deleted teams; a deleted team with none left loses its row
 * (and with it, by cascade, everything else it had in D1).
 */
export async function purgeExpired(env: Env, now: number): Promise<{ expired: number; teams: number }> {
  const db = openDb(env.DB);
  const retentionMs = sql`coalesce(json_extract(${tenants.plan}, '$.retentionDays'), ${DEFAULT_LIMITS.retentionDays}) * ${DAY_MS}`;
  const expiredRows = await db
    .select({ id: executions.id, tenantId: executions.tenantId, status: executions.status })
    .from(executions)
    .innerJoin(tenants, eq(tenants.id, executions.tenantId))
    .where(
      and(
        inArray(executions.status, [...TERMINAL_RUN_STATUSES]),
        isNotNull(executions.finishedAt),
        sql`${executions.finishedAt} < ${now} - ${retentionMs}`,
      ),
    )
    .orderBy(asc(executions.finishedAt))
    .limit(PURGE_BATCH);
  const expired = await purgeAll(env, expiredRows, false);

  let teams = 0;
  const deleted = await db
    .select({ id: tenants.id })
    .from(tenants)
    .where(isNotNull(tenants.deletedAt))
    .limit(10);
  for (const { id } of deleted) {
    const rows = await db
      .select({ id: executions.id, tenantId: executions.tenantId, status: executions.status })
      .from(executions)
      .where(eq(executions.tenantId, id))
      .limit(PURGE_BATCH);
    await purgeAll(env, rows, true);
    if (rows.length < PURGE_BATCH) {
      const [left] = await db
        .select({ n: sql<number>`count(*)` })
        .from(executions)
        .where(eq(executions.tenantId, id));
      if ((left?.n ?? 0) === 0) {
        await governorStub(env, id).purge();
        await db.delete(tenants).where(and(eq(tenants.id, id), isNotNull(tenants.deletedAt)));
        teams += 1;
      }
    }
  }
  return { expired, teams };
}
