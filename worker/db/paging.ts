// Keyset paging for the stores' lists: a page is the rows after the cursor's (sort key, id) in the list's
// order, one extra row read to know whether another page follows. No offsets, so a page costs the same
// however deep it is and rows added meanwhile neither repeat nor vanish.
import { and, eq, gt, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { invalid } from "../errors";
import type { Limits } from "../limits";
import { CURSOR_MESSAGE, type CursorKey, decodeCursor, encodeCursor, type Page } from "../schemas/page";

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/** The page size asked for, or the tenant's default; above the tenant's maxPageSize is refused. */
export function pageSize(limit: number | undefined, limits: Limits): number {
  if (limit === undefined) return Math.max(1, Math.min(limits.defaultPageSize, limits.maxPageSize));
  if (limit > limits.maxPageSize) {
    throw invalid([{ path: "limit", message: `must be at most ${limits.maxPageSize} (maxPageSize)` }]);
  }
  return limit;
}

/** The cursor's key, checked to be of this list's kind (a name, or a number such as a time or version). */
export function cursorKey(cursor: string | undefined, kind: "string" | "number"): CursorKey | undefined {
  if (cursor === undefined) return undefined;
  const key = decodeCursor(cursor);
  if (!key || typeof key[0] !== kind) throw invalid([{ path: "cursor", message: CURSOR_MESSAGE }]);
  return key;
}

/** Rows strictly after (key, id) in a list ordered by (sortColumn, idColumn) ascending or descending. */
export function after(
  order: "asc" | "desc",
  sortColumn: SQLiteColumn,
  idColumn: SQLiteColumn,
  sortValue: unknown,
  id: string,
): SQL {
  const beyond = order === "asc" ? gt : lt;
  return or(beyond(sortColumn, sortValue), and(eq(sortColumn, sortValue), beyond(idColumn, id))) as SQL;
}

/**
 * For the lists ordered newest first by (createdAt, id): the condition for the rows after `cursor` (none
 * without one), and each row's cursor key. The cursor holds the time in ms; the column compares Dates.
 */
export function afterNewest(
  cursor: string | undefined,
  createdAtColumn: SQLiteColumn,
  idColumn: SQLiteColumn,
): SQL | undefined {
  const key = cursorKey(cursor, "number");
  return key ? after("desc", createdAtColumn, idColumn, new Date(Number(key[0])), key[1]) : undefined;
}

export const newestKey = (row: { createdAt: Date; id: string }): CursorKey => [
  row.createdAt.getTime(),
  row.id,
];

/** The page of `rows` (read with limit + 1) and the cursor of its last item when more follow. */
export function pageOf<Row, Item>(
  rows: Row[],
  limit: number,
  keyOf: (row: Row) => CursorKey,
  toItem: (row: Row) => Item,
): Page<Item> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor = rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null;
  return { items: page.map(toItem), nextCursor };
}
