// Whether a start may go ahead (issue 13, "Depth and breadth"): how deep runs started from runs nest
// (maxRunDepth) and how many executions one execution starts (maxChildrenPerExecution); the tenant's
// starts per minute are counted by its governor on admission (governor/starts.ts). Every start passes
// here: execute and rerun, an `orchestration` step's child, and agent code's execute_orchestration and
// rerun_execution inside a run. It only checks; starting is start.ts's job.
import { and, eq } from "drizzle-orm";
import type { Actor, Db } from "../../worker/db/client";
import { apiKeys } from "../../worker/db/schema";
import type { Env } from "../../worker/env";
import { TroupeError } from "../../worker/errors";
import type { Limits } from "../../worker/limits";
import { isTerminal } from "../engine/status";
import { executionStub } from "./stub";

/** Where a run started from another run comes from. */
export interface StartOrigin {
  /** The execution whose agent code starts the run. */
  startedFrom: string;
  /** The new run's depth: its parent's + 1. */
  depth: number;
  /** Who started the root of the tree (see ExecutionMeta.rootPrincipal). */
  rootPrincipal?: string;
}

/** A start refused by a limit that waiting does not lift (depth, children); the per-minute count says when. */
export const limitRefusal = (message: string) => new TroupeError("TOO_MANY_REQUESTS", message);

export function depthRefusal(depth: number, limits: Limits): string | undefined {
  if (depth <= limits.maxRunDepth) return undefined;
  return `would nest executions ${depth} deep; the limit is ${limits.maxRunDepth} (maxRunDepth)`;
}

export function childrenRefusal(parentExecutionId: string, count: number, limits: Limits): string {
  return `execution ${parentExecutionId} has started ${count} executions, the most one execution may start (maxChildrenPerExecution: ${limits.maxChildrenPerExecution})`;
}

/**
 * The origin of a run that the agent code of execution `executionId` starts, or a refusal: that run must
 * be the tenant's and still running (code left running by a cancelled step starts nothing), the new run
 * within the depth limit, and the API key that started the tree not revoked or expired.
 */
export async function originFromRun(
  env: Env,
  db: Db,
  actor: Actor,
  executionId: string,
  limits: Limits,
  now: number,
): Promise<StartOrigin> {
  const parent = await executionStub(env, executionId).lineage();
  if (!parent.ok || parent.value.tenantId !== actor.tenantId)
    throw new TroupeError(
      "PRECONDITION_FAILED",
      `the execution running this code (${executionId}) was not found`,
    );
  const { status, depth, rootPrincipal } = parent.value;
  if (isTerminal(status)) {
    throw new TroupeError(
      "PRECONDITION_FAILED",
      `the execution running this code (${executionId}) is ${status}; it starts no more runs`,
    );
  }
  await checkRootKey(db, actor.tenantId, rootPrincipal, now);
  const refusal = depthRefusal(depth + 1, limits);
  if (refusal) throw limitRefusal(`starting a run from execution ${executionId} ${refusal}`);
  return { startedFrom: executionId, depth: depth + 1, ...(rootPrincipal ? { rootPrincipal } : {}) };
}

/**
 * Runs started by agent code stop starting runs once the API key that started their tree is revoked or
 * has expired (a user's runs are not tied to a session). Engine children are not: their number is fixed
 * by the definition, and a key rotation must not fail runs under way.
 */
async function checkRootKey(db: Db, tenantId: string, rootPrincipal: string | undefined, now: number) {
  const keyId = rootPrincipal?.startsWith("apiKey:") ? rootPrincipal.slice("apiKey:".length) : undefined;
  if (!keyId) return;
  const [key] = await db
    .select({ revokedAt: apiKeys.revokedAt, expiresAt: apiKeys.expiresAt })
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, keyId)));
  const ended = !key
    ? "was deleted"
    : key.revokedAt
      ? "was revoked"
      : key.expiresAt && key.expiresAt.getTime() <= now
        ? "has expired"
        : undefined;
  if (!ended) return;
  throw new TroupeError(
    "FORBIDDEN",
    `PERMISSION_DENIED: the API key ${keyId} that started this run's tree ${ended}; the runs it started may not start more`,
  );
}

/**
 * Closes the race between a start from agent code and a cancel of the run the code belongs to: checked
 * after the new run has started, a parent that ended meanwhile gets its new run cancelled here (a cancel
 * that came before the new row was written could not have found it).
 */
export async function confirmParentRunning(env: Env, origin: StartOrigin, executionId: string) {
  const parent = await executionStub(env, origin.startedFrom).lineage();
  if (parent.ok && !isTerminal(parent.value.status)) return;
  const why = parent.ok ? parent.value.status : "gone";
  await executionStub(env, executionId).cancel(`execution ${origin.startedFrom} that started it is ${why}`);
  throw new TroupeError(
    "PRECONDITION_FAILED",
    `the execution running this code (${origin.startedFrom}) is ${why}; the run it started (${executionId}) was cancelled`,
  );
}
