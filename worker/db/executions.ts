// Reading the executions index of one tenant (D1). Each execution's Durable Object is the source of
// truth; these rows let executions be listed, filtered and paged, and carry the idempotency keys. Every
// write to them is in durable-objects/execution/index-row.ts.
import { and, asc, count, desc, eq, gt, gte, inArray, lt, or } from "drizzle-orm";
import { notFound } from "../errors";
import type { Actor, Db } from "./client";
import { executions } from "./schema";

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export type ExecutionRow = typeof executions.$inferSelect;
export type ExecutionStatusName = ExecutionRow["status"];

export interface ExecutionSummary {
  id: string;
  orchestrationId: string;
  orchestrationName: string;
  orchestrationVersion: number;
  /** The run whose `orchestration` step or agent code started this one, or null. */
  parentExecutionId: string | null;
  /** 0 for a run started from outside; one more than its parent's for a run started from a run. */
  depth: number;
  status: ExecutionStatusName;
  error: string | null;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export function toSummary(row: ExecutionRow): ExecutionSummary {
  return {
    id: row.id,
    orchestrationId: row.orchestrationId,
    orchestrationName: row.orchestrationName,
    orchestrationVersion: row.orchestrationVersion,
    parentExecutionId: row.parentExecutionId,
    depth: row.depth,
    status: row.status,
    error: row.error,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    durationMs: row.startedAt && row.finishedAt ? row.finishedAt.getTime() - row.startedAt.getTime() : null,
  };
}

/** Cursor = "<createdAt ms>:<id>" of the last row of the previous page. */
function parseCursor(cursor: string | undefined): { at: number; id: string } | undefined {
  const match = cursor ? /^(\d+):(.+)$/.exec(cursor) : null;
  return match?.[1] && match[2] ? { at: Number(match[1]), id: match[2] } : undefined;
}

export class ExecutionIndex {
  constructor(
    private readonly db: Db,
    private readonly actor: Actor,
  ) {}

  private get scope() {
    return eq(executions.tenantId, this.actor.tenantId);
  }

  /** The execution started with `idempotencyKey` in the 24 hours before `now`, if any. */
  async findByIdempotencyKey(idempotencyKey: string, now: number): Promise<ExecutionRow | undefined> {
    const [row] = await this.db
      .select()
      .from(executions)
      .where(
        and(
          this.scope,
          eq(executions.idempotencyKey, idempotencyKey),
          gte(executions.createdAt, new Date(now - IDEMPOTENCY_WINDOW_MS)),
        ),
      );
    return row;
  }

  async get(executionId: string): Promise<ExecutionRow> {
    const [row] = await this.db
      .select()
      .from(executions)
      .where(and(this.scope, eq(executions.id, executionId)));
    if (!row) throw notFound("execution", executionId);
    return row;
  }

  /**
   * Live executions (pending or running), oldest first, `limit` at a time after `after` (the last one of
   * the previous page); only those started from `parentExecutionId` when given. For cancelling in batches.
   */
  async live(filter: {
    parentExecutionId?: string;
    after?: ExecutionRow;
    limit: number;
  }): Promise<ExecutionRow[]> {
    const conditions = [this.scope, inArray(executions.status, ["pending", "running"])];
    if (filter.parentExecutionId) conditions.push(eq(executions.parentExecutionId, filter.parentExecutionId));
    const { after } = filter;
    if (after) {
      const later = or(
        gt(executions.createdAt, after.createdAt),
        and(eq(executions.createdAt, after.createdAt), gt(executions.id, after.id)),
      );
      if (later) conditions.push(later);
    }
    return this.db
      .select()
      .from(executions)
      .where(and(...conditions))
      .orderBy(asc(executions.createdAt), asc(executions.id))
      .limit(filter.limit);
  }

  /** How many executions ended cancelled at or after `since` (their rows' last update). */
  async cancelledSince(since: Date): Promise<number> {
    const [row] = await this.db
      .select({ count: count() })
      .from(executions)
      .where(and(this.scope, eq(executions.status, "cancelled"), gte(executions.updatedAt, since)));
    return row?.count ?? 0;
  }

  async list(filter: {
    orchestrationId?: string;
    parentExecutionId?: string;
    status?: ExecutionStatusName;
    limit: number;
    cursor?: string;
  }): Promise<{ items: ExecutionSummary[]; nextCursor: string | null }> {
    const conditions = [this.scope];
    if (filter.orchestrationId) conditions.push(eq(executions.orchestrationId, filter.orchestrationId));
    if (filter.status) conditions.push(eq(executions.status, filter.status));
    if (filter.parentExecutionId) conditions.push(eq(executions.parentExecutionId, filter.parentExecutionId));
    const cursor = parseCursor(filter.cursor);
    if (cursor) {
      const before = or(
        lt(executions.createdAt, new Date(cursor.at)),
        and(eq(executions.createdAt, new Date(cursor.at)), lt(executions.id, cursor.id)),
      );
      if (before) conditions.push(before);
    }
    const rows = await this.db
      .select()
      .from(executions)
      .where(and(...conditions))
      .orderBy(desc(executions.createdAt), desc(executions.id))
      .limit(filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > filter.limit && last ? `${last.createdAt.getTime()}:${last.id}` : null;
    return { items: page.map(toSummary), nextCursor };
  }
}
