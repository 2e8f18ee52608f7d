// What a tenant can do to an execution, for the tRPC API and agent code alike: read its status, cancel,
// resume, re-run, approve a waiting step. The index row (tenant-scoped, so another tenant's id answers
// NOT_FOUND exactly as an unknown one) comes first, then the execution's Durable Object.
import type { ExecutionRow } from "../../worker/db/executions";
import type { TenantData } from "../../worker/db/tenant-data";
import type { Env } from "../../worker/env";
import { TroupeError } from "../../worker/errors";
import type { JsonValue } from "../engine/types";
import type { Result } from "./rpc";
import { rerunExecution } from "./start";
import type { ExecutionStatus } from "./status-view";
import { executionStub } from "./stub";

/** The object's answer, or the refusal as a domain error naming the field it is about, if any. */
function answerOf<T>(row: ExecutionRow, result: Result<T>): T {
  if (result.ok) return result.value;
  // Without a code the object has no state: the start never landed.
  const code = result.code ?? "NOT_FOUND";
  const message = result.code
    ? result.error
    : `execution "${row.id}" never started: ${row.error ?? "unknown reason"}`;
  const issues =
    result.field && code === "BAD_REQUEST" ? [{ path: result.field, message: result.error }] : [];
  throw new TroupeError(code, message, issues);
}

export async function statusOfRow(env: Env, row: ExecutionRow): Promise<ExecutionStatus> {
  return answerOf(row, await executionStub(env, row.id).status());
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

export async function cancelExecution(
  data: TenantData,
  env: Env,
  executionId: string,
): Promise<ExecutionStatus> {
  const row = await data.executions.get(executionId);
  return answerOf(row, await executionStub(env, row.id).cancel(`cancelled by ${data.actor.principal}`));
}

/** One `cancelAll` call cancels at most this many executions; `more` tells the caller to call again. */
export const CANCEL_ALL_MAX = 500;
const CANCEL_ALL_PAGE = 100;
/** Cancels in flight at once (each also cancels the runs that execution started). */
const CANCEL_ALL_PARALLEL = 6;

/**
 * The emergency stop: cancels every live execution of the tenant, oldest first (so the roots of a
 * runaway tree go first and take their descendants with them), paged through the D1 index. Answers how
 * many ended cancelled meanwhile, how many could not be cancelled (a start that never landed), and
 * whether live ones are left past this call's CANCEL_ALL_MAX.
 */
export async function cancelAllExecutions(
  data: TenantData,
  env: Env,
  reason: string | undefined,
): Promise<{ cancelled: number; failed: number; more: boolean }> {
  const since = new Date();
  const why = `cancelled by ${data.actor.principal} (cancel all)${reason ? `: ${reason}` : ""}`;
  let failed = 0;
  let handled = 0;
  let after: ExecutionRow | undefined;
  let more = false;
  for (;;) {
    const page = await data.executions.live({ limit: CANCEL_ALL_PAGE, ...(after ? { after } : {}) });
    for (let at = 0; at < page.length; at += CANCEL_ALL_PARALLEL) {
      const batch = page.slice(at, at + CANCEL_ALL_PARALLEL);
      const answers = await Promise.all(
        batch.map((row) =>
          executionStub(env, row.id)
            .cancel(why)
            .then((result) => result.ok)
            .catch(() => false),
        ),
      );
      failed += answers.filter((ok) => !ok).length;
    }
    handled += page.length;
    after = page.at(-1);
    if (page.length < CANCEL_ALL_PAGE) break;
    if (handled >= CANCEL_ALL_MAX) {
      more = true;
      break;
    }
  }
  return { cancelled: await data.executions.cancelledSince(since), failed, more };
}

export async function resumeExecution(
  data: TenantData,
  env: Env,
  executionId: string,
): Promise<ExecutionStatus> {
  const row = await data.executions.get(executionId);
  return answerOf(row, await executionStub(env, row.id).resume());
}

export { rerunExecution };

export interface ApproveInput {
  executionId: string;
  stepName: string;
  instanceId?: string;
  approved: boolean;
  comment?: string;
  data?: JsonValue;
}

export async function approveStep(data: TenantData, env: Env, input: ApproveInput): Promise<ExecutionStatus> {
  const row = await data.executions.get(input.executionId);
  const result = await executionStub(env, row.id).approve({
    stepName: input.stepName,
    ...(input.instanceId === undefined ? {} : { instanceId: input.instanceId }),
    approved: input.approved,
    comment: input.comment ?? null,
    data: input.data ?? null,
    by: data.actor.principal,
  });
  return answerOf(row, result);
}
