// An execution's status for a tenant: its index row (tenant-scoped, so another tenant's id is NOT_FOUND)
// and then the status its Durable Object holds. Used by getExecutionStatus and agent code's
// get_execution_status.
import type { ExecutionStatus } from "../../durable-objects/status-view";
import type { ExecutionRow } from "../db/executions";
import type { TenantData } from "../db/tenant-data";
import type { Env } from "../env";
import { TroupeError } from "../errors";
import { executionStub } from "./stub";

export async function statusOfRow(env: Env, row: ExecutionRow): Promise<ExecutionStatus> {
  const result = await executionStub(env, row.id).status();
  if (result.ok) return result.value;
  throw new TroupeError("NOT_FOUND", `execution "${row.id}" never started: ${row.error ?? "unknown reason"}`);
}

/** By id, or else by the idempotency key it was started with in the last 24 hours. */
export async function findExecution(data: TenantData, idOrKey: string, now: number): Promise<ExecutionRow> {
  try {
    return await data.executions.get(idOrKey);
  } catch (error) {
    if (!(error instanceof TroupeError) || error.code !== "NOT_FOUND") throw error;
    const byKey = await data.executions.findByIdempotencyKey(idOrKey, now);
    if (byKey) return byKey;
    throw error;
  }
}
