// What a tenant's runs used (tokens, cost, executions), read from the executions index, and the ledger of
// its monthly budget. A run's usage lands on its index row when it ends; the ledger holds, per tenant and
// month, what ended runs spent and what running ones reserved at start, so parallel starts cannot together
// pass the month's budget.
import { and, eq, gte, lt, sql } from "drizzle-orm";
import type { Actor, Db } from "./client";
import { openDb } from "./client";
import { executions, tenantMonthlySpend } from "./schema";

export type UsageGroupBy = "day" | "orchestration" | "model";

export interface UsageFigures {
  executions: number;
  calls: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

export interface UsageGroup extends UsageFigures {
  /** The day ("2026-12-01", UTC), the orchestration's id or the model. */
  key: string;
  /** What a person reads: the day, the orchestration's name, the model. */
  label: string;
}

export interface UsageReport {
  from: string;
  to: string;
  groupBy: UsageGroupBy;
  groups: UsageGroup[];
  total: UsageFigures;
}

type Row = { key: string; label: string } & UsageFigures;

const figures = {
  calls: sql<number>`coalesce(sum(${executions.calls}), 0)`,
  tokensIn: sql<number>`coalesce(sum(${executions.tokensIn}), 0)`,
  tokensOut: sql<number>`coalesce(sum(${executions.tokensOut}), 0)`,
  costUsd: sql<number>`coalesce(sum(${executions.costUsd}), 0)`,
  executions: sql<number>`count(*)`,
};

export class UsageStore {
  constructor(
    private readonly db: Db,
    private readonly actor: Actor,
  ) {}

  /** Executions created in [from, to), grouped; usage counts once a run has ended. */
  async get(from: Date, to: Date, groupBy: UsageGroupBy): Promise<UsageReport> {
    const where = and(
      eq(executions.tenantId, this.actor.tenantId),
      gte(executions.createdAt, from),
      lt(executions.createdAt, to),
    );
    const rows = groupBy === "model" ? await this.byModel(from, to) : await this.byColumn(groupBy, where);
    const [total] = await this.db.select(figures).from(executions).where(where);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      groupBy,
      groups: rows.map((row) => ({ ...row, costUsd: Number(row.costUsd) })),
      total: total ?? { executions: 0, calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 },
    };
  }

  private byColumn(groupBy: "day" | "orchestration", where: ReturnType<typeof and>): Promise<Row[]> {
    const key =
      groupBy === "day"
        ? sql<string>`strftime('%Y-%m-%d', ${executions.createdAt} / 1000, 'unixepoch')`
        : sql<string>`${executions.orchestrationId}`;
    const label = groupBy === "day" ? key : sql<string>`max(${executions.orchestrationName})`;
    return this.db
      .select({ key, label, ...figures })
      .from(executions)
      .where(where)
      .groupBy(key)
      .orderBy(groupBy === "day" ? key : sql`sum(${executions.costUsd}) desc, ${key}`);
  }

  /** Per model, from each ended run's usage by model. */
  private async byModel(from: Date, to: Date): Promise<Row[]> {
    const result = await this.db.all<Row>(sql`
      select m.key as key, m.key as label, count(*) as executions,
        sum(json_extract(m.value, '$.calls')) as calls,
        sum(json_extract(m.value, '$.tokensIn')) as tokensIn,
        sum(json_extract(m.value, '$.tokensOut')) as tokensOut,
        sum(json_extract(m.value, '$.costUsd')) as costUsd
      from ${executions}, json_each(${executions.usageByModel}) as m
      where ${executions.tenantId} = ${this.actor.tenantId}
        and ${executions.createdAt} >= ${from.getTime()} and ${executions.createdAt} < ${to.getTime()}
        and ${executions.usageByModel} is not null
      group by m.key
      order by sum(json_extract(m.value, '$.costUsd')) desc, m.key`);
    return result;
  }
}

// The monthly ledger -------------------------------------------------------------------------------

/** Cost sums are floating point; a hair over the budget is not over it. */
const EPSILON_USD = 1e-9;

/** The month (UTC) a time falls in, as the ledger keys it: "2026-12". */
export function monthOf(at: number): string {
  return new Date(at).toISOString().slice(0, 7);
}

/** What a run holds of its month's budget while it runs (PERSISTED CONTRACT v1, in the run's meta). */
export interface MonthlyReserve {
  month: string;
  usd: number;
}

export interface MonthState {
  spentUsd: number;
  reservedUsd: number;
}

export async function monthState(d1: D1Database, tenantId: string, month: string): Promise<MonthState> {
  const [row] = await openDb(d1)
    .select({ spentUsd: tenantMonthlySpend.spentUsd, reservedUsd: tenantMonthlySpend.reservedUsd })
    .from(tenantMonthlySpend)
    .where(and(eq(tenantMonthlySpend.tenantId, tenantId), eq(tenantMonthlySpend.month, month)));
  return row ?? { spentUsd: 0, reservedUsd: 0 };
}

/**
 * Reserves up to `wantUsd` of the month's budget `limitUsd`: as much as is left, or undefined when
 * nothing is. The update only applies while the total stays within the budget, so parallel reservations
 * cannot pass it together; one that lost a race reads again.
 */
export async function reserveMonth(
  d1: D1Database,
  tenantId: string,
  month: string,
  wantUsd: number,
  limitUsd: number,
): Promise<{ reserved: number } | { reserved: undefined; state: MonthState }> {
  const db = openDb(d1);
  await db.insert(tenantMonthlySpend).values({ tenantId, month }).onConflictDoNothing();
  for (let tries = 0; ; tries++) {
    const state = await monthState(d1, tenantId, month);
    const left = limitUsd - state.spentUsd - state.reservedUsd;
    if (left <= EPSILON_USD) return { reserved: undefined, state };
    const amount = Math.min(wantUsd, left);
    const applied = await db
      .update(tenantMonthlySpend)
      .set({ reservedUsd: sql`${tenantMonthlySpend.reservedUsd} + ${amount}` })
      .where(
        and(
          eq(tenantMonthlySpend.tenantId, tenantId),
          eq(tenantMonthlySpend.month, month),
          sql`${tenantMonthlySpend.spentUsd} + ${tenantMonthlySpend.reservedUsd} + ${amount} <= ${limitUsd + EPSILON_USD}`,
        ),
      )
      .returning({ month: tenantMonthlySpend.month });
    if (applied.length > 0) return { reserved: amount };
    if (tries >= 10) return { reserved: undefined, state };
  }
}

/** Gives a reservation back unused (a start that did not happen). */
export async function releaseMonth(d1: D1Database, tenantId: string, reserve: MonthlyReserve): Promise<void> {
  await openDb(d1)
    .update(tenantMonthlySpend)
    .set({ reservedUsd: sql`max(0, ${tenantMonthlySpend.reservedUsd} - ${reserve.usd})` })
    .where(and(eq(tenantMonthlySpend.tenantId, tenantId), eq(tenantMonthlySpend.month, reserve.month)));
}

/**
 * The statement that turns a run's reservation into what it spent: the reservation is released once (while
 * the run's index row is not yet marked settled), the spend counted as what is new since the row's last
 * settlement (a resumed run that ends again adds only what it spent since). Batched with the row's write.
 */
export function settleMonth(
  db: Db,
  fields: { tenantId: string; executionId: string; reserve: MonthlyReserve; spentUsd: number },
) {
  const { tenantId, executionId, reserve, spentUsd } = fields;
  return db
    .update(tenantMonthlySpend)
    .set({
      reservedUsd: sql`max(0, ${tenantMonthlySpend.reservedUsd} - case when exists (select 1 from ${executions} where ${executions.id} = ${executionId} and ${executions.usageSettled} = 1) then 0 else ${reserve.usd} end)`,
      spentUsd: sql`${tenantMonthlySpend.spentUsd} + ${spentUsd} - coalesce((select ${executions.monthSpentUsd} from ${executions} where ${executions.id} = ${executionId}), 0)`,
    })
    .where(and(eq(tenantMonthlySpend.tenantId, tenantId), eq(tenantMonthlySpend.month, reserve.month)));
}
