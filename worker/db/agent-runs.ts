// The record of agent-code runs of one tenant: written once per run by the agent-code runner, listed
// newest first for the dashboard's agent console.
import { and, desc, eq } from "drizzle-orm";
import { newId } from "../auth/crypto";
import type { Page } from "../schemas/page";
import type { Db } from "./client";
import { afterNewest, newestKey, type PageRequest, pageOf } from "./paging";
import { agentRuns } from "./schema";

export type AgentRunOutcome = (typeof agentRuns.$inferSelect)["outcome"];

export interface AgentRunRecord {
  roleId: string;
  executionId?: string;
  stepName?: string;
  turn?: number;
  codeHash: string;
  codeBytes: number;
  durationMs: number;
  calls: number;
  outcome: AgentRunOutcome;
  error?: string;
}

export interface AgentRunSummary extends AgentRunRecord {
  id: string;
  createdAt: string;
}

const ERROR_MAX_CHARS = 1000;

export class AgentRunLog {
  constructor(
    private readonly db: Db,
    private readonly tenantId: string,
  ) {}

  async record(run: AgentRunRecord): Promise<string> {
    const id = newId("arun");
    await this.db.insert(agentRuns).values({
      id,
      tenantId: this.tenantId,
      roleId: run.roleId,
      executionId: run.executionId ?? null,
      stepName: run.stepName ?? null,
      turn: run.turn ?? null,
      codeHash: run.codeHash,
      codeBytes: run.codeBytes,
      durationMs: Math.round(run.durationMs),
      calls: run.calls,
      outcome: run.outcome,
      error: run.error?.slice(0, ERROR_MAX_CHARS) ?? null,
    });
    return id;
  }

  /** Newest first; a page after `cursor` (the last time and id of the previous page). */
  async list(filter: { executionId?: string } & PageRequest): Promise<Page<AgentRunSummary>> {
    const conditions = [eq(agentRuns.tenantId, this.tenantId)];
    if (filter.executionId) conditions.push(eq(agentRuns.executionId, filter.executionId));
    const newer = afterNewest(filter.cursor, agentRuns.createdAt, agentRuns.id);
    if (newer) conditions.push(newer);
    const rows = await this.db
      .select()
      .from(agentRuns)
      .where(and(...conditions))
      .orderBy(desc(agentRuns.createdAt), desc(agentRuns.id))
      .limit(filter.limit + 1);
    return pageOf(rows, filter.limit, newestKey, toSummary);
  }
}

function toSummary(row: typeof agentRuns.$inferSelect): AgentRunSummary {
  return {
    id: row.id,
    roleId: row.roleId,
    codeHash: row.codeHash,
    codeBytes: row.codeBytes,
    durationMs: row.durationMs,
    calls: row.calls,
    outcome: row.outcome,
    createdAt: row.createdAt.toISOString(),
    ...(row.executionId ? { executionId: row.executionId } : {}),
    ...(row.stepName ? { stepName: row.stepName } : {}),
    ...(row.turn !== null ? { turn: row.turn } : {}),
    ...(row.error ? { error: row.error } : {}),
  };
}
