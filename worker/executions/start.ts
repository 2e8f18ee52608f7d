// Starting an execution: check the orchestration (active, every role present), pin its version and the
// roles it uses, then hand the snapshot to a new Durable Object, which writes the index row with the
// status its start reached (an idempotency key is claimed by inserting the row first). `execute`
// returns at once: steps the local model answers have run by then, the object's alarms run the rest.
// A retried request (same idempotency key within 24 hours) gets the execution it started, whatever
// happened to the definition since.
import { stagesOf } from "../../durable-objects/engine/plan";
import type { JsonValue, Plan, RoleSnapshot } from "../../durable-objects/engine/types";
import type { ExecutionStatus } from "../../durable-objects/status-view";
import { newId } from "../auth/crypto";
import type { ExecutionRow } from "../db/executions";
import type { Orchestration } from "../db/orchestrations";
import type { TenantData } from "../db/tenant-data";
import type { Env } from "../env";
import { TroupeError } from "../errors";
import { type ExecutionRpc, executionStub } from "./stub";

export interface ExecuteInput {
  orchestrationId: string;
  input: JsonValue;
  idempotencyKey?: string;
}

async function snapshotRoles(
  data: TenantData,
  roleNames: Set<string>,
): Promise<Record<string, RoleSnapshot>> {
  const roles: Record<string, RoleSnapshot> = {};
  for (const role of await data.roles.byNames([...roleNames])) {
    const { id, name, basePrompt, capabilities, contextLimits, hyperparameters, tools } = role;
    roles[name] = { id, name, basePrompt, capabilities, contextLimits, hyperparameters, tools };
  }
  return roles;
}

/** A key names one request: reusing it for another orchestration is a client bug, not a retry. */
function checkSameOrchestration(row: ExecutionRow, orchestrationIdOrName: string, key: string): void {
  if (row.orchestrationId === orchestrationIdOrName || row.orchestrationName === orchestrationIdOrName)
    return;
  const message = `was used within the last 24 hours to run orchestration "${row.orchestrationName}" (${row.id}); use a new key`;
  throw new TroupeError("CONFLICT", `idempotencyKey "${key}" ${message}`, [
    { path: "idempotencyKey", message },
  ]);
}

/** The status of the execution this key already started, or undefined when there is none to return. */
async function replay(
  data: TenantData,
  env: Env,
  request: ExecuteInput,
  now: number,
): Promise<ExecutionStatus | undefined> {
  if (request.idempotencyKey === undefined) return undefined;
  const row = await data.executions.findByIdempotencyKey(request.idempotencyKey, now);
  if (!row) return undefined;
  checkSameOrchestration(row, request.orchestrationId, request.idempotencyKey);
  // Not started yet (a concurrent first request, or one whose start failed): the full path starts it.
  const status = await executionStub(env, row.id).status();
  return status.ok ? status.value : undefined;
}

/** Roles and activity are checked at start; a definition saved with missing roles is only a warning. */
async function checkRunnable(
  data: TenantData,
  orchestration: Orchestration,
): Promise<Record<string, RoleSnapshot>> {
  if (!orchestration.isActive) {
    throw new TroupeError(
      "PRECONDITION_FAILED",
      `orchestration "${orchestration.name}" is inactive; set isActive: true to run it`,
      [{ path: "orchestrationId", message: "is inactive" }],
    );
  }
  const roleNames = new Set(
    orchestration.steps.flatMap((s) => (s.roleName === undefined ? [] : [s.roleName])),
  );
  const roles = await snapshotRoles(data, roleNames);
  const missing = orchestration.steps.flatMap((step, index) =>
    step.roleName !== undefined && !roles[step.roleName] ? [{ index, roleName: step.roleName }] : [],
  );
  if (missing.length > 0) {
    const names = [...new Set(missing.map((m) => JSON.stringify(m.roleName)))].join(", ");
    throw new TroupeError(
      "PRECONDITION_FAILED",
      `cannot start: missing role(s) ${names}; create them first`,
      missing.map((m) => ({
        path: `steps[${m.index}].roleName`,
        message: `role "${m.roleName}" does not exist; create it first`,
      })),
    );
  }
  return roles;
}

export async function startExecution(
  data: TenantData,
  env: Env,
  request: ExecuteInput,
  now: number,
): Promise<ExecutionStatus> {
  const replayed = await replay(data, env, request, now);
  if (replayed) return replayed;
  const orchestration = await data.orchestrations.get(request.orchestrationId, undefined, {
    warnings: false,
  });
  const roles = await checkRunnable(data, orchestration);

  const start = (executionId: string, indexed: boolean) => {
    const plan: Plan = {
      executionId,
      steps: orchestration.steps,
      stages: stagesOf(orchestration.steps),
      roles,
    };
    const meta = {
      v: 1 as const,
      executionId,
      tenantId: data.actor.tenantId,
      orchestrationId: orchestration.id,
      orchestrationName: orchestration.name,
      orchestrationVersion: orchestration.version,
      createdBy: data.actor.principal,
    };
    return executionStub(env, executionId).start({ meta, plan, input: request.input, indexed });
  };
  if (request.idempotencyKey === undefined) {
    // Nothing to claim first: the object writes the index row itself, with the status it reached.
    const id = newId("exe");
    return settleStart(data, env, id, await start(id, false).catch((error: Error) => error));
  }
  const { row, created } = await data.executions.claim({
    orchestrationId: orchestration.id,
    orchestrationName: orchestration.name,
    orchestrationVersion: orchestration.version,
    now,
    idempotencyKey: request.idempotencyKey,
  });
  if (!created) {
    checkSameOrchestration(row, orchestration.id, request.idempotencyKey);
    const existing = await executionStub(env, row.id).status();
    if (existing.ok) return existing.value;
  }
  return settleStart(data, env, row.id, await start(row.id, true).catch((error: Error) => error));
}

/**
 * Turns the object's answer into execute's. A start that failed leaves nothing running: a start whose
 * answer was lost is cancelled in case it landed (its index row then says so); otherwise an index row
 * written for it (the Worker's, or the object's own when its state did not land) is marked failed.
 */
async function settleStart(
  data: TenantData,
  env: Env,
  executionId: string,
  started: Awaited<ReturnType<ExecutionRpc["start"]>> | Error,
): Promise<ExecutionStatus> {
  if (!(started instanceof Error) && started.ok) return started.value;
  const error = started instanceof Error ? started : new Error(started.error);
  const reason = `could not start: ${error.message}`;
  const cancelled =
    started instanceof Error &&
    (await executionStub(env, executionId)
      .cancel(reason)
      .then((result) => result.ok)
      .catch(() => false));
  if (!cancelled) await data.executions.markFailedToStart(executionId, reason);
  throw error;
}
