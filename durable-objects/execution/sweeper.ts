// The cron sweeper: finds executions whose index row has not moved for a while and pokes their
// Durable Object, which re-arms its alarm if it has none (Cloudflare drops an alarm after repeated
// failures), re-projects its status to D1 if that write was lost, and asks the children it waits for
// how they are.
// Every row it checks moves to the back (its updated_at becomes the pass's time), whether the check
// worked or threw, so no row can hold the front of the queue; and a pass takes the tenants' rows in
// turn (each tenant's oldest, then each one's second oldest, ...), so no tenant's pile starves another's.
import type { Env } from "../../worker/env";
import type { RunStatus } from "../engine/types";
import { markSwept } from "./index-row";
import { executionStub } from "./stub";

export const STALE_AFTER_MS = 2 * 60 * 1000;
/** Rows one pass checks (the cron runs every minute). */
export const SWEEP_BATCH = 100;

/** The stale live rows to check, round-robin across tenants, each tenant's oldest first. */
async function staleRows(env: Env, now: number): Promise<{ id: string; status: RunStatus }[]> {
  const { results } = await env.DB.prepare(
    `select id, status from (
       select id, status, updated_at,
         row_number() over (partition by tenant_id order by updated_at, id) as turn
       from executions
       where status in ('pending', 'running') and updated_at < ?
     )
     order by turn, updated_at, id
     limit ?`,
  )
    .bind(now - STALE_AFTER_MS, SWEEP_BATCH)
    .all<{ id: string; status: RunStatus }>();
  return results;
}

export async function sweep(env: Env, now: number): Promise<{ checked: number; rearmed: number }> {
  const stale = await staleRows(env, now);
  let rearmed = 0;
  for (const row of stale) {
    let lost = false;
    try {
      // The object re-projects its full status (error, finish time) when this row disagrees with it.
      const result = await executionStub(env, row.id).ensureAlarm(row.status);
      if (result.ok && result.value.armed) rearmed += 1;
      lost = !result.ok;
    } catch (error) {
      console.error(`sweeper: execution ${row.id}:`, (error as Error).message);
    }
    try {
      await markSwept(env.DB, row, now, lost);
    } catch (error) {
      console.error(`sweeper: marking execution ${row.id} swept:`, (error as Error).message);
    }
  }
  return { checked: stale.length, rearmed };
}
