// The cron sweeper: finds executions whose index row has not moved for a while and pokes their
// Durable Object, which re-arms its alarm if it has none (Cloudflare drops an alarm after repeated
// failures), re-projects its status to D1 if that write was lost, and asks the children it waits for
// how they are.
import { and, asc, inArray, lt } from "drizzle-orm";
import { openDb } from "../../worker/db/client";
import { executions } from "../../worker/db/schema";
import type { Env } from "../../worker/env";
import { markSwept } from "./index-row";
import { executionStub } from "./stub";

export const STALE_AFTER_MS = 2 * 60 * 1000;
const BATCH = 100;

export async function sweep(env: Env, now: number): Promise<{ checked: number; rearmed: number }> {
  const stale = await openDb(env.DB)
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
      await markSwept(env.DB, row, now, !result.ok);
    } catch (error) {
      console.error(`sweeper: execution ${row.id}:`, (error as Error).message);
    }
  }
  return { checked: stale.length, rearmed };
}
