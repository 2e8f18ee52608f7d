// Cron schedules of one tenant: create (cron and time zone checked with croner, the next runs shown),
// list/get with the next and last runs, update, pause, resume, delete. The scheduled handler that
// starts their runs is worker/schedules/fire.ts; it keeps `next_run_at` moving.
import { and, desc, eq, inArray } from "drizzle-orm";
import { newId } from "../auth/crypto";
import { TroupeError } from "../errors";
import type { Limits } from "../limits";
import { DEFAULT_TIMEZONE, nextRunAfter, nextRuns, parseCron } from "../schedules/cron";
import type { JsonValue } from "../schemas/common";
import type { Page } from "../schemas/page";
import type { Actor, Db } from "./client";
import { afterNewest, newestKey, type PageRequest, pageOf } from "./paging";
import { countBelow, countOf, insertWhere } from "./quota";
import { executions, scheduleRuns, schedules } from "./schema";
import { countQuotaExceeded, requireOrchestration } from "./triggers";

const LAST_RUNS_SHOWN = 5;

type ScheduleRow = typeof schedules.$inferSelect;

export interface ScheduleRunView {
  /** The scheduled minute, ISO. */
  minute: string;
  executionId: string | null;
  /** The execution's status now, when it started. */
  status: string | null;
  /** Why it did not start (a quota, the budget, an inactive orchestration). */
  error: string | null;
}

export interface ScheduleView {
  id: string;
  orchestrationId: string;
  cron: string;
  timezone: string;
  input: JsonValue;
  status: "active" | "paused" | "failed";
  statusReason: string | null;
  /** The next times it runs (ISO, UTC); empty unless active. */
  nextRuns: string[];
  lastRunAt: string | null;
  createdBy: string;
  createdAt: string;
  lastRuns: ScheduleRunView[];
}

interface ScheduleInput {
  orchestrationId: string;
  cron: string;
  timezone?: string | undefined;
  input: JsonValue;
}

export class ScheduleStore {
  constructor(
    private readonly db: Db,
    private readonly actor: Actor,
    private readonly limits: () => Promise<Limits>,
    private readonly now: number,
  ) {}

  private get scope() {
    return eq(schedules.tenantId, this.actor.tenantId);
  }

  async create(input: ScheduleInput): Promise<ScheduleView> {
    const timezone = input.timezone ?? DEFAULT_TIMEZONE;
    const clock = parseCron(input.cron, timezone);
    await requireOrchestration(this.db, this.actor.tenantId, input.orchestrationId);
    const limits = await this.limits();
    const id = newId("sch");
    const inserted = await insertWhere(
      this.db,
      schedules,
      {
        id,
        tenantId: this.actor.tenantId,
        orchestrationId: input.orchestrationId,
        cron: input.cron.trim(),
        timezone,
        input: input.input,
        status: "active",
        nextRunAt: dateOrNull(nextRunAfter(clock, this.now)),
        createdBy: this.actor.principal,
        createdAt: new Date(this.now),
        updatedAt: new Date(this.now),
      },
      countBelow(schedules, this.scope, limits.maxSchedules),
    ).returning({ id: schedules.id });
    if (inserted.length === 0) {
      const count = await countOf(this.db, schedules, this.scope);
      throw countQuotaExceeded("schedules", count, "maxSchedules", limits);
    }
    return this.get(id);
  }

  /** Newest first; a page after `cursor`. */
  async list(filter: { orchestrationId?: string | undefined } & PageRequest): Promise<Page<ScheduleView>> {
    const rows = await this.db
      .select()
      .from(schedules)
      .where(
        and(
          this.scope,
          filter.orchestrationId ? eq(schedules.orchestrationId, filter.orchestrationId) : undefined,
          afterNewest(filter.cursor, schedules.createdAt, schedules.id),
        ),
      )
      .orderBy(desc(schedules.createdAt), desc(schedules.id))
      .limit(filter.limit + 1);
    const page = pageOf(rows, filter.limit, newestKey, (row) => row);
    return { items: await this.views(page.items), nextCursor: page.nextCursor };
  }

  async get(id: string): Promise<ScheduleView> {
    const [view] = await this.views([await this.row(id)]);
    if (!view) throw notFound(id);
    return view;
  }

  /** A new cron, time zone or input; an active schedule's next run is computed again from now. */
  async update(input: {
    id: string;
    cron?: string;
    timezone?: string;
    input?: JsonValue;
  }): Promise<ScheduleView> {
    const row = await this.row(input.id);
    const cron = input.cron?.trim() ?? row.cron;
    const timezone = input.timezone ?? row.timezone;
    const clock = parseCron(cron, timezone);
    await this.write(row.id, {
      cron,
      timezone,
      ...(input.input === undefined ? {} : { input: input.input }),
      ...(row.status === "active" ? { nextRunAt: dateOrNull(nextRunAfter(clock, this.now)) } : {}),
    });
    return this.get(row.id);
  }

  async pause(id: string): Promise<ScheduleView> {
    const row = await this.row(id);
    await this.write(row.id, { status: "paused", statusReason: null, nextRunAt: null });
    return this.get(row.id);
  }

  /** Active again from now (missed times are not made up); a failed one only if its orchestration exists. */
  async resume(id: string): Promise<ScheduleView> {
    const row = await this.row(id);
    await requireOrchestration(this.db, this.actor.tenantId, row.orchestrationId);
    const next = nextRunAfter(parseCron(row.cron, row.timezone), this.now);
    await this.write(row.id, { status: "active", statusReason: null, nextRunAt: dateOrNull(next) });
    return this.get(row.id);
  }

  async delete(id: string): Promise<{ id: string; deleted: true }> {
    const row = await this.row(id);
    await this.db.delete(schedules).where(and(this.scope, eq(schedules.id, row.id)));
    return { id: row.id, deleted: true };
  }

  private async write(id: string, set: Partial<ScheduleRow>): Promise<void> {
    await this.db
      .update(schedules)
      .set({ ...set, updatedAt: new Date(this.now) })
      .where(and(this.scope, eq(schedules.id, id)));
  }

  private async row(id: string): Promise<ScheduleRow> {
    const [row] = await this.db
      .select()
      .from(schedules)
      .where(and(this.scope, eq(schedules.id, id)));
    if (!row) throw notFound(id);
    return row;
  }

  private async views(rows: ScheduleRow[]): Promise<ScheduleView[]> {
    if (rows.length === 0) return [];
    const runs = await lastRunsOf(
      this.db,
      rows.map((row) => row.id),
    );
    return rows.map((row) => ({
      id: row.id,
      orchestrationId: row.orchestrationId,
      cron: row.cron,
      timezone: row.timezone,
      input: row.input as JsonValue,
      status: row.status,
      statusReason: row.statusReason,
      nextRuns:
        row.status === "active"
          ? nextRuns(parseCron(row.cron, row.timezone), this.now).map((date) => date.toISOString())
          : [],
      lastRunAt: row.lastRunAt?.toISOString() ?? null,
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
      lastRuns: runs.get(row.id) ?? [],
    }));
  }
}

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function notFound(id: string) {
  return new TroupeError("NOT_FOUND", `schedule "${id}" was not found`, [
    { path: "id", message: `no schedule with id "${id}" in this team` },
  ]);
}

async function lastRunsOf(db: Db, scheduleIds: string[]): Promise<Map<string, ScheduleRunView[]>> {
  const rows = await db
    .select({
      scheduleId: scheduleRuns.scheduleId,
      minute: scheduleRuns.minute,
      executionId: scheduleRuns.executionId,
      error: scheduleRuns.error,
      status: executions.status,
    })
    .from(scheduleRuns)
    .leftJoin(executions, eq(executions.id, scheduleRuns.executionId))
    .where(inArray(scheduleRuns.scheduleId, scheduleIds))
    .orderBy(desc(scheduleRuns.minute));
  const bySchedule = new Map<string, ScheduleRunView[]>();
  for (const row of rows) {
    const list = bySchedule.get(row.scheduleId) ?? [];
    if (list.length < LAST_RUNS_SHOWN)
      list.push({
        minute: row.minute.toISOString(),
        executionId: row.executionId,
        status: row.status,
        error: row.error,
      });
    bySchedule.set(row.scheduleId, list);
  }
  return bySchedule;
}
