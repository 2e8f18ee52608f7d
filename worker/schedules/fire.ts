// The scheduled handler's part for cron schedules: each tick starts the runs that are due.
// Guarantees (README "Schedules"):
// - Each (schedule, minute) starts at most one execution: the minute is claimed first with an INSERT that
//   only one caller can win (schedule_runs' primary key), and the start's idempotency key is derived from
//   the schedule and the minute, so even two starts of one claim reach the same execution.
// - A crash between the claim and the start: the schedule's next_run_at has not moved, so a later tick
//   finds it due again; a claim older than STALE_CLAIM_MS without an outcome is started again with the
//   same idempotency key (the run starts once, or is found started). If a newer minute is due by then,
//   only that one runs. So a due minute runs exactly once unless the handler crashed at that minute and
//   a later minute was already due when it came back (then at most once).
// - Missed minutes (the handler down for an hour) are not made up in a burst: only the latest due one runs.
// - A schedule whose orchestration was deleted fails (status "failed", with the reason) and starts nothing.
// Work per tick is bounded (SCHEDULE_BATCH), taken round-robin across tenants like the sweeper.
import { startExecution } from "../../durable-objects/execution/start";
import { openDb } from "../db/client";
import { TenantData } from "../db/tenant-data";
import type { Env } from "../env";
import { TroupeError } from "../errors";
import { latestRunAtOrBefore, nextRunAfter, parseCron } from "./cron";

/** Schedules one tick starts at most. */
export const SCHEDULE_BATCH = 50;
/** A claim this old with no outcome is taken as its claimer having crashed. */
export const STALE_CLAIM_MS = 2 * 60 * 1000;
/** Claimed minutes kept per schedule (the newest), for "last runs". */
export const SCHEDULE_RUNS_KEPT = 20;

interface DueSchedule {
  id: string;
  tenant_id: string;
  orchestration_id: string;
  cron: string;
  timezone: string;
  input: string;
  next_run_at: number;
}

interface Claim {
  execution_id: string | null;
  error: string | null;
  claimed_at: number;
}

export type FireOutcome = "started" | "refused" | "skipped" | "failed" | "retry";

/** Active schedules due by `now`, of teams not deleted: each tenant's earliest first, tenants in turn. */
async function dueSchedules(env: Env, now: number): Promise<DueSchedule[]> {
  const { results } = await env.DB.prepare(
    `select id, tenant_id, orchestration_id, cron, timezone, input, next_run_at from (
       select s.*, row_number() over (partition by s.tenant_id order by s.next_run_at, s.id) as turn
       from schedules s join tenants t on t.id = s.tenant_id
       where s.status = 'active' and s.next_run_at <= ? and t.deleted_at is null
     )
     order by turn, next_run_at, id
     limit ?`,
  )
    .bind(now, SCHEDULE_BATCH)
    .all<DueSchedule>();
  return results;
}

export async function fireDueSchedules(env: Env, now: number): Promise<Record<FireOutcome, number>> {
  const counts: Record<FireOutcome, number> = { started: 0, refused: 0, skipped: 0, failed: 0, retry: 0 };
  for (const schedule of await dueSchedules(env, now)) {
    try {
      counts[await fireOne(env, schedule, now)] += 1;
    } catch (error) {
      counts.retry += 1;
      console.error(`schedule ${schedule.id}:`, (error as Error).message);
    }
  }
  return counts;
}

async function fireOne(env: Env, schedule: DueSchedule, now: number): Promise<FireOutcome> {
  let clock: ReturnType<typeof parseCron>;
  try {
    clock = parseCron(schedule.cron, schedule.timezone);
  } catch (error) {
    await failSchedule(env, schedule, `its cron no longer parses: ${(error as Error).message}`, now);
    return "failed";
  }
  // The latest due minute only: minutes missed while the handler was down are not made up.
  const minute = Math.max(latestRunAtOrBefore(clock, now) ?? schedule.next_run_at, schedule.next_run_at);
  const orchestration = await env.DB.prepare("select 1 from orchestrations where tenant_id = ? and id = ?")
    .bind(schedule.tenant_id, schedule.orchestration_id)
    .first();
  if (!orchestration) {
    await failSchedule(env, schedule, `orchestration "${schedule.orchestration_id}" was deleted`, now);
    return "failed";
  }
  const claimed = await env.DB.prepare(
    `insert into schedule_runs (schedule_id, tenant_id, minute, claimed_at) values (?, ?, ?, ?)
     on conflict do nothing returning minute`,
  )
    .bind(schedule.id, schedule.tenant_id, minute, now)
    .first();
  if (!claimed) {
    const claim = await env.DB.prepare(
      "select execution_id, error, claimed_at from schedule_runs where schedule_id = ? and minute = ?",
    )
      .bind(schedule.id, minute)
      .first<Claim>();
    if (claim && (claim.execution_id !== null || claim.error !== null)) {
      // Settled by a tick that stopped before moving the schedule on: move it on now.
      await advance(env, schedule, nextRunAfter(clock, now), minute, now);
      return "skipped";
    }
    // A claim with no outcome yet is another tick at work (it moves the schedule on), unless it is old.
    const stale = claim !== null && claim.claimed_at < now - STALE_CLAIM_MS;
    if (!stale) return "skipped";
  }
  const outcome = await start(env, schedule, minute, now);
  if (outcome === "retry") return outcome; // left due and claimed: a later tick tries again
  await advance(env, schedule, nextRunAfter(clock, now), minute, now);
  return outcome;
}

/** Starts the minute's execution and records the outcome on its claim; "retry" when it may not have started. */
async function start(env: Env, schedule: DueSchedule, minute: number, now: number): Promise<FireOutcome> {
  const data = new TenantData(
    openDb(env.DB),
    { tenantId: schedule.tenant_id, principal: `schedule:${schedule.id}` },
    env,
  );
  const request = {
    orchestrationId: schedule.orchestration_id,
    input: JSON.parse(schedule.input),
    idempotencyKey: `schedule:${schedule.id}:${new Date(minute).toISOString()}`,
  };
  let executionId: string | null = null;
  let error: string | null = null;
  try {
    executionId = (await startExecution(data, env, request, now)).id;
  } catch (cause) {
    if (!(cause instanceof TroupeError)) {
      console.error(
        `schedule ${schedule.id}: start at ${new Date(minute).toISOString()}:`,
        (cause as Error).message,
      );
      return "retry";
    }
    if (cause.code === "NOT_FOUND") {
      await failSchedule(env, schedule, `orchestration "${schedule.orchestration_id}" was deleted`, now);
      return "failed";
    }
    error = cause.message;
  }
  await env.DB.prepare(
    "update schedule_runs set execution_id = ?, error = ? where schedule_id = ? and minute = ?",
  )
    .bind(executionId, error, schedule.id, minute)
    .run();
  return executionId ? "started" : "refused";
}

/** The next due minute (strictly after now), unless another tick moved it already; old claims pruned. */
async function advance(env: Env, schedule: DueSchedule, next: number | null, minute: number, now: number) {
  await env.DB.batch([
    env.DB.prepare(
      `update schedules set next_run_at = ?, last_run_at = ?, updated_at = ?
       where id = ? and status = 'active' and next_run_at = ?`,
    ).bind(next, minute, now, schedule.id, schedule.next_run_at),
    env.DB.prepare(
      `delete from schedule_runs where schedule_id = ? and minute < (
         select minute from schedule_runs where schedule_id = ? order by minute desc limit 1 offset ?)`,
    ).bind(schedule.id, schedule.id, SCHEDULE_RUNS_KEPT - 1),
  ]);
}

async function failSchedule(env: Env, schedule: DueSchedule, reason: string, now: number) {
  await env.DB.prepare(
    "update schedules set status = 'failed', status_reason = ?, next_run_at = null, updated_at = ? where id = ?",
  )
    .bind(reason, now, schedule.id)
    .run();
}
