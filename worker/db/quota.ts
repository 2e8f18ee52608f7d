// Count quotas (roles, orchestrations, API keys, providers per tenant). The count and the insert are one
// INSERT ... SELECT ... WHERE (count) < limit statement: D1 runs one statement at a time, so parallel
// creates cannot all pass the count before any of them writes.
import { getTableColumns, is, SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { TroupeError } from "../errors";
import type { Limits } from "../limits";
import type { Db } from "./client";

/** The row's values as a SELECT list in the table's column order, defaults filled as drizzle's insert does. */
function selectList<T extends SQLiteTable>(table: T, values: T["$inferInsert"]): SQL {
  const row = values as Record<string, unknown>;
  const list = Object.entries(getTableColumns(table))
    // Generated columns are left out of an insert's column list, as drizzle does.
    .filter(([, column]) => !(column as { shouldDisableInsert?(): boolean }).shouldDisableInsert?.())
    .map(([key, column]) => {
      const value = row[key] !== undefined ? row[key] : (column.default ?? column.defaultFn?.());
      if (value === undefined || value === null) return sql`null`;
      return is(value, SQL) ? value : sql.param(value, column);
    });
  return sql.join(list, sql`, `);
}

/** Inserts `values` only while `condition` holds, in one statement; `.returning()` tells whether it did. */
export function insertWhere<T extends SQLiteTable>(
  db: Db,
  table: T,
  values: T["$inferInsert"],
  condition: SQL,
) {
  return db.insert(table).select(sql`select ${selectList(table, values)} where ${condition}`);
}

/** True while fewer than `limit` rows of `table` match `where`. */
export function countBelow(table: SQLiteTable, where: SQL, limit: number): SQL {
  return sql`(select count(*) from ${table} where ${where}) < ${limit}`;
}

export async function countOf(db: Db, table: SQLiteTable, where: SQL): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(table).where(where);
  return row?.n ?? 0;
}

type CountLimit = "maxRoles" | "maxOrchestrations" | "maxApiKeys" | "maxProviders";

/** FORBIDDEN, naming the limit, the plan's value and how many the tenant has. */
export function quotaExceeded(what: string, current: number, limit: CountLimit, limits: Limits): TroupeError {
  return new TroupeError(
    "FORBIDDEN",
    `this team has ${current} ${what}, the most its plan allows (${limit}: ${limits[limit]}); delete one first, or ask the operator to raise ${limit}`,
  );
}
