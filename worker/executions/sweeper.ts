// The cron sweeper: finds executions whose index row has not moved for a while and pokes their
// Durable Object, which re-arms its alarm if it has none (Cloudflare drops an alarm after repeated
// failures) and re-projects its status to D1 if that write was lost.
import { and, asc, eq, inArray, lt } from "drizzle-orm";
import { openDb } from "../db/client";
import { executions } from "../db/schema";
import type { Env } from "../env";
import { executionStub } from "./stub";

export const STALE_AFTER_MS = 2 * 60 * 1000;
const BATCH = 100;

export async function sweep(env: Env, now: number): Promise<{ checked: number; rearmed: number }> {
  const db = openDb(env.DB);
  const stale = await db
    .select({ id: executions.id, status: executions.status })
    .from(executions)
    .where(
      and(
        inArray(executions.status, ["pending", "running"]),
        lt(executions.updatedAt, new Date(now - STALE_AFTER_MS)),
      ),
    )
    .orderBy(asc(executions.updatedAt))
    .limit(BATCH);
  let rearmed = 0;
  for (const row of stale) {
    try {
      // The object re-projects its full status (error, finish time) when this row disagrees with it.
      const result = await executionStub(env, row.id).ensureAlarm(row.status);
      if (result.ok && result.value.armed) rearmed += 1;
      const status = result.ok ? result.value.status : "failed";
      const error = result.ok ? undefined : "the execution's state was lost before it started";
      await db
        .update(executions)
        .set({
          updatedAt: new Date(now),
          ...(status !== row.status ? { status } : {}),
          ...(error ? { error, finishedAt: new Date(now) } : {}),
        })
        // Only if the row is as read: a projection that landed meanwhile is newer than this sweep.
        .where(and(eq(executions.id, row.id), eq(executions.status, row.status)));
    } catch (error) {
      console.error(`sweeper: execution ${row.id}:`, (error as Error).message);
    }
  }
  return { checked: stale.length, rearmed };
}
