// Starting an execution: check the orchestration (active, every role present), pin its version, the
// roles it uses and the model each resolves to (start-prepare.ts), count it in the tenant's governor,
// then hand the snapshot to a new Durable Object, which
// writes the index row with the status its start reached (an idempotency key is claimed by inserting the
// row first). `execute` returns at once: steps the local model answers have run by then, the object's
// alarms run the rest.
// A retried request (same idempotency key within 24 hours) gets the execution it started, whatever
// happened to the definition since. Child executions (an `orchestration` step) and re-runs start here too.
import { newId } from "../../worker/auth/crypto";
import { openDb } from "../../worker/db/client";
import type { ExecutionRow } from "../../worker/db/executions";
import { TenantData } from "../../worker/db/tenant-data";
import type { Env } from "../../worker/env";
import { TroupeError } from "../../worker/errors";
import type { Limits } from "../../worker/limits";
import type { Budget, JsonValue } from "../engine/types";
import { admissionRefusal, admitExecution, governorStub } from "../governor/client";
import {
  childrenRefusal,
  confirmParentRunning,
  depthRefusal,
  limitRefusal,
  type StartOrigin,
} from "./admission";
import { claimChildRow, claimIdempotencyKey, markFailedToStart } from "./index-row";
import { rootPrincipalOf } from "./lineage";
import type { Result } from "./rpc";
import {
  checkMonth,
  type PinnedBudget,
  pinBudget,
  pinBudgetFromRun,
  tighterBudget,
  unpinBudget,
} from "./run-budget";
import { type Prepared, prepare, startRequest } from "./start-prepare";
import type { ExecutionStatus } from "./status-view";
import type { ExecutionMeta, OutboxEntry } from "./store";
import { type ExecutionRpc, executionStub } from "./stub";

export interface ExecuteInput {
  orchestrationId: string;
  /** Run this version of the definition instead of the current one. */
  version?: number;
  input: JsonValue;
  idempotencyKey?: string;
  /** This run's budget; the orchestration's, when it has one, caps it too. */
  budget?: Budget;
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

export async function startExecution(
  data: TenantData,
  env: Env,
  request: ExecuteInput,
  now: number,
  /** Set when agent code inside a run starts this one (admission.ts `originFromRun`). */
  origin?: StartOrigin,
): Promise<ExecutionStatus> {
  const replayed = await replay(data, env, request, now);
  if (replayed) return replayed;
  if (origin) {
    const { prepared, limits } = await prepareChecked(data, env, request, now);
    return startFromRun(data, env, request, now, { prepared, origin, limits });
  }
  const { idempotencyKey } = request;
  if (idempotencyKey === undefined) return startUnkeyed(data, env, request, now);
  return startKeyed(data, env, { ...request, idempotencyKey }, now);
}

/**
 * A start with an idempotency key: the key is claimed (an index row, "pending") before it is admitted,
 * so a repeat finds the run this key started.
 */
async function startKeyed(
  data: TenantData,
  env: Env,
  request: ExecuteInput & { idempotencyKey: string },
  now: number,
): Promise<ExecutionStatus> {
  const checked = await prepareChecked(data, env, request, now);
  const start = starter(data, env, request, checked, now);
  const { orchestration } = checked.prepared;
  const { row, created } = await claimIdempotencyKey(env.DB, data.actor, {
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
  const admitted = await admitClaimed(env, data, row.id, created, { queue: true, countStart: true });
  return settleStart(data, env, row.id, await start(row.id, true, admitted).catch((error: Error) => error));
}

/** The definition to run, checked, and the tenant's limits with its month's budget checked. */
async function prepareChecked(data: TenantData, env: Env, request: ExecuteInput, now: number) {
  const prepared = await prepare(data, env, request.orchestrationId, request.version);
  const limits = await data.limits();
  await checkMonth(env.DB, data.actor.tenantId, limits, now);
  return { prepared, limits };
}

/** The start function of a run of `prepared`, to call once it is admitted (or queued). */
function starter(data: TenantData, env: Env, request: ExecuteInput, checked: Checked, now: number) {
  const { prepared, limits } = checked;
  const budget = tighterBudget(prepared.orchestration.budget, request.budget);
  // Past maxRunningExecutions the run is queued (pending, no alarm) until the governor releases it.
  return (executionId: string, indexed: boolean, { queued, notify }: { queued: boolean; notify: boolean }) =>
    startWithBudget(data, env, { limits, budget, now, executionId }, (pinned) =>
      executionStub(env, executionId).start({
        ...startRequest(data, executionId, prepared, { depth: 0 }, pinned, notify),
        input: request.input,
        indexed,
        queued,
      }),
    );
}

type Checked = Awaited<ReturnType<typeof prepareChecked>>;

/**
 * A start with no key to claim first: the governor admits it while the definition is read and checked
 * (one wait instead of two), and the object writes the index row itself, with the status it reached. A
 * start the checks refuse gives its admission back.
 */
async function startUnkeyed(data: TenantData, env: Env, request: ExecuteInput, now: number) {
  const id = newId("exe");
  const { tenantId } = data.actor;
  const [checked, admitted] = await Promise.allSettled([
    prepareChecked(data, env, request, now),
    admitExecution(env, tenantId, id, { queue: true, countStart: true }),
  ]);
  if (checked.status === "rejected") {
    if (admitted.status === "fulfilled")
      await governorStub(env, tenantId)
        .withdrawAdmission({ tenantId, executionId: id })
        .catch((error: Error) => console.error(`execution ${id}: withdrawing its admission:`, error.message));
    throw checked.reason;
  }
  if (admitted.status === "rejected") throw admitted.reason;
  const start = starter(data, env, request, checked.value, now);
  return settleStart(data, env, id, await start(id, false, admitted.value).catch((error: Error) => error));
}

/**
 * Counts a start whose idempotency key was claimed against maxRunningExecutions (or queues it); a refused
 * start takes back the row it claimed, so nothing is written and a retry with the same key can start it later.
 */
async function admitClaimed(
  env: Env,
  data: TenantData,
  executionId: string,
  claimed: boolean,
  options: { queue?: boolean; countStart?: boolean } = {},
) {
  try {
    return await admitExecution(env, data.actor.tenantId, executionId, options);
  } catch (error) {
    if (claimed && error instanceof TroupeError) await forgetClaim(env, data.actor.tenantId, executionId);
    throw error;
  }
}

/** Takes back an index row claimed for a start that was refused before anything ran. */
async function forgetClaim(env: Env, tenantId: string, executionId: string): Promise<void> {
  await env.DB.prepare("delete from executions where tenant_id = ? and id = ? and status = 'pending'")
    .bind(tenantId, executionId)
    .run();
}

/**
 * A run that agent code of execution `origin.startedFrom` starts: one of that execution's children (its
 * index row claimed within maxChildrenPerExecution), one level deeper. Should the parent end meanwhile,
 * the new run is cancelled again (admission.ts `confirmParentRunning`).
 */
async function startFromRun(
  data: TenantData,
  env: Env,
  request: ExecuteInput,
  now: number,
  { prepared, origin, limits }: { prepared: Prepared; origin: StartOrigin; limits: Limits },
): Promise<ExecutionStatus> {
  const { orchestration } = prepared;
  const claim = await claimChildRow(env.DB, data.actor, {
    executionId: newId("exe"),
    parentExecutionId: origin.startedFrom,
    depth: origin.depth,
    orchestrationId: orchestration.id,
    orchestrationName: orchestration.name,
    orchestrationVersion: orchestration.version,
    ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
    now,
    maxChildren: limits.maxChildrenPerExecution,
  });
  if (!claim.claimed) throw limitRefusal(childrenRefusal(origin.startedFrom, claim.count, limits));
  const { row, created } = claim;
  if (!created) {
    checkSameOrchestration(row, orchestration.id, request.idempotencyKey ?? "");
    const existing = await executionStub(env, row.id).status();
    if (existing.ok) return existing.value;
  }
  await admitClaimed(env, data, row.id, created, { countStart: true });
  const budget = tighterBudget(orchestration.budget, request.budget);
  const run = { limits, budget, now, executionId: row.id, parentId: origin.startedFrom };
  const started = await startWithBudget(data, env, run, (pinned) =>
    executionStub(env, row.id).start({
      ...startRequest(data, row.id, prepared, origin, pinned),
      input: request.input,
      indexed: true,
    }),
  );
  const status = await settleStart(data, env, row.id, started);
  await confirmParentRunning(env, origin, row.id);
  return status;
}

/**
 * Pins the run's budget (holding its share of the month's, or of the budget of the run whose agent code
 * starts it), then starts it; a start the object answered it did not make gives the hold back. (A start
 * whose answer was lost keeps it: settleStart cancels the run, whose end settles it, or the hold stays,
 * which errs on the side of spending less.) A budget refused is returned as the error, like a failed start.
 */
async function startWithBudget(
  data: TenantData,
  env: Env,
  run: { limits: Limits; budget: Budget | undefined; now: number; executionId: string; parentId?: string },
  start: (pinned: PinnedBudget) => ReturnType<ExecutionRpc["start"]>,
): Promise<Awaited<ReturnType<ExecutionRpc["start"]>> | Error> {
  const { tenantId } = data.actor;
  const pinned = await (run.parentId === undefined
    ? pinBudget(env.DB, tenantId, run.limits, run.budget, run.now)
    : pinBudgetFromRun(env, tenantId, run.limits, { ...run, parentId: run.parentId })
  ).catch((error: Error) => error);
  if (pinned instanceof Error) return pinned;
  const started = await start(pinned).catch((error: Error) => error);
  if (!(started instanceof Error) && !started.ok) await unpinBudget(env, tenantId, run.executionId, pinned);
  return started;
}

/** A new execution with the same input and definition version as `executionId` (roles as they are now). */
export async function rerunExecution(
  data: TenantData,
  env: Env,
  executionId: string,
  now: number,
  origin?: StartOrigin,
) {
  const row = await data.executions.get(executionId);
  const previous = await executionStub(env, row.id).status();
  if (!previous.ok)
    throw new TroupeError("NOT_FOUND", `execution "${row.id}" never started, so it cannot be re-run`);
  const { orchestrationId, orchestrationVersion, input } = previous.value;
  return startExecution(data, env, { orchestrationId, version: orchestrationVersion, input }, now, origin);
}

type ChildStart = { ok: true } | { ok: false; final: boolean; error: string };

/**
 * Starts the child execution an `orchestration` step asked for, under the id the parent recorded (so a
 * repeated delivery finds it started). Refusals that no retry can mend (the orchestration is missing or
 * inactive, a role is missing, the nesting is too deep, the parent has started its most children) are
 * final; the tenant's starts per minute used up is not: the outbox tries again a few seconds later.
 */
export async function startChildExecution(
  env: Env,
  parentMeta: ExecutionMeta,
  entry: Extract<OutboxEntry, { type: "start_child" }>,
): Promise<ChildStart> {
  const depth = (parentMeta.depth ?? 0) + 1;
  // The engine puts the step's name in front ("step "X" failed after 1 attempt: ...").
  const refuse = (error: string): ChildStart => ({ ok: false, final: true, error });
  const principal = `execution:${parentMeta.executionId}`;
  const data = new TenantData(openDb(env.DB), { tenantId: parentMeta.tenantId, principal }, env);
  const limits = await data.limits();
  const tooDeep = depthRefusal(depth, limits);
  if (tooDeep) return refuse(`starting "${entry.orchestrationId}" ${tooDeep}`);
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(data, env, entry.orchestrationId, entry.version);
  } catch (error) {
    if (error instanceof TroupeError) return refuse(error.message);
    throw error;
  }
  const parent = {
    executionId: parentMeta.executionId,
    instance: entry.instance,
    attempt: entry.attempt,
    stepName: entry.stepName,
  };
  const now = Date.now();
  const { orchestration } = prepared;
  const claim = await claimChildRow(env.DB, data.actor, {
    executionId: entry.executionId,
    parentExecutionId: parentMeta.executionId,
    depth,
    orchestrationId: orchestration.id,
    orchestrationName: orchestration.name,
    orchestrationVersion: orchestration.version,
    now,
    maxChildren: limits.maxChildrenPerExecution,
  });
  if (!claim.claimed)
    return refuse(
      `starting "${entry.orchestrationId}": ${childrenRefusal(parentMeta.executionId, claim.count, limits)}`,
    );
  // Children count against maxRunningExecutions too; refused, the step fails (waiting could deadlock
  // parents that hold every running slot while they wait for their children).
  const admission = await governorStub(env, parentMeta.tenantId).admitExecution({
    tenantId: parentMeta.tenantId,
    executionId: entry.executionId,
    countStart: true,
  });
  if (!admission.ok && admission.reason === "per_minute") {
    // Worth another try once the minute is over: the claim is taken back, so the retry claims it afresh.
    if (claim.created) await forgetClaim(env, parentMeta.tenantId, entry.executionId);
    return { ok: false, final: false, error: admissionRefusal(admission) };
  }
  if (!admission.ok) {
    const reason = admissionRefusal(admission);
    await markFailedToStart(env.DB, data.actor, entry.executionId, reason);
    return refuse(reason);
  }
  const rootPrincipal = rootPrincipalOf(parentMeta);
  const lineage = { parent, depth, ...(rootPrincipal ? { rootPrincipal } : {}) };
  const started = await executionStub(env, entry.executionId).start({
    // At most what the parent had left (its engine holds that much until this run ends).
    ...startRequest(data, entry.executionId, prepared, lineage, {
      budget: tighterBudget(prepared.orchestration.budget, entry.budget),
    }),
    input: entry.input,
    indexed: true,
  });
  return started.ok ? { ok: true } : { ok: false, final: false, error: started.error };
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
  if (!cancelled) await markFailedToStart(env.DB, data.actor, executionId, reason);
  throw error;
}

export type { Result };
