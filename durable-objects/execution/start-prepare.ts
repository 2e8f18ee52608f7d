// What a start checks and pins before any object exists: the orchestration (active, the version asked
// for), the roles its steps use (each present, each model resolved and pinned), the tenant's size limits,
// and the start request an execution object receives. Reads only; start.ts decides and starts.
import type { Orchestration } from "../../worker/db/orchestrations";
import { ProviderStore } from "../../worker/db/providers";
import type { TenantData } from "../../worker/db/tenant-data";
import type { Env } from "../../worker/env";
import { TroupeError } from "../../worker/errors";
import { needsTenantModels, resolveModel } from "../../worker/models/resolve";
import { formatPath } from "../../worker/schemas/common";
import { allSteps } from "../engine/definition";
import type { RunLimits } from "../engine/limits";
import type { Plan, RoleSnapshot } from "../engine/types";
import type { PinnedBudget } from "./run-budget";
import type { ExecutionMeta, ParentLink } from "./store";

async function snapshotRoles(
  data: TenantData,
  roleNames: Set<string>,
): Promise<Record<string, RoleSnapshot>> {
  const roles: Record<string, RoleSnapshot> = {};
  if (roleNames.size === 0) return roles;
  for (const role of await data.roles.byNames([...roleNames])) {
    const { id, name, basePrompt, capabilities, contextLimits, hyperparameters, tools } = role;
    roles[name] = { id, name, basePrompt, capabilities, contextLimits, hyperparameters, tools };
  }
  return roles;
}

/**
 * Each role's model, resolved now and pinned in the plan: the run keeps it (and its prices) whatever
 * happens to the role or the tenant's providers meanwhile. A model that no longer resolves (its provider
 * was deleted or renamed) refuses the start, naming the steps that use the role.
 */
async function pinModels(
  data: TenantData,
  env: Env,
  roles: Record<string, RoleSnapshot>,
  named: { path: (string | number)[]; roleName: string }[],
): Promise<void> {
  const snapshots = Object.values(roles);
  const store = new ProviderStore(data.db, data.actor, env);
  const tenantModels = snapshots.some(needsTenantModels) ? await store.models() : [];
  const refused: { role: string; message: string }[] = [];
  for (const role of snapshots) {
    const resolved = resolveModel(role, tenantModels, env);
    if (resolved.ok) role.model = resolved.model;
    else refused.push({ role: role.name, message: `hyperparameters.model: ${resolved.message}` });
  }
  if (refused.length === 0) return;
  const why = new Map(refused.map((r) => [r.role, r.message]));
  throw new TroupeError(
    "PRECONDITION_FAILED",
    `cannot start: ${refused.map((r) => `role "${r.role}": ${r.message}`).join("; ")}`,
    named.flatMap((n) => {
      const message = why.get(n.roleName);
      return message
        ? [{ path: `${formatPath(n.path)}.roleName`, message: `role "${n.roleName}": ${message}` }]
        : [];
    }),
  );
}

/** Roles and activity are checked at start; a definition saved with missing roles is only a warning. */
async function checkRunnable(
  data: TenantData,
  env: Env,
  orchestration: Orchestration,
): Promise<Record<string, RoleSnapshot>> {
  if (!orchestration.isActive) {
    throw new TroupeError(
      "PRECONDITION_FAILED",
      `orchestration "${orchestration.name}" is inactive; set isActive: true to run it`,
      [{ path: "orchestrationId", message: "is inactive" }],
    );
  }
  const named = [...allSteps(orchestration.steps)].flatMap(({ step, path }) =>
    (step.stepType ?? "agent") === "agent" && "roleName" in step && step.roleName !== undefined
      ? [{ path, roleName: step.roleName }]
      : [],
  );
  const roles = await snapshotRoles(data, new Set(named.map((n) => n.roleName)));
  const missing = named.filter((n) => !roles[n.roleName]);
  if (missing.length > 0) {
    const names = [...new Set(missing.map((m) => JSON.stringify(m.roleName)))].join(", ");
    throw new TroupeError(
      "PRECONDITION_FAILED",
      `cannot start: missing role(s) ${names}; create them first`,
      missing.map((m) => ({
        path: `${formatPath(m.path)}.roleName`,
        message: `role "${m.roleName}" does not exist; create it first`,
      })),
    );
  }
  await pinModels(data, env, roles, named);
  return roles;
}

/**
 * The orchestration to run (the version asked for, or the current one), checked and with its roles, and
 * whether the team has an enabled webhook (read at the same time, for a run that ends within its start).
 */
export async function prepare(data: TenantData, env: Env, orchestrationId: string, version?: number) {
  const [orchestration, webhooks] = await Promise.all([
    data.orchestrations.get(orchestrationId, version, { warnings: false }),
    data.webhooksEnabled().catch(() => undefined),
  ]);
  const roles = await checkRunnable(data, env, orchestration);
  // The tenant's size limits as they are now: the run keeps them whatever its plan becomes meanwhile.
  const { maxStepInputChars, maxStepOutputChars, maxMappedValueChars, maxRunContextChars } =
    await data.limits();
  const limits: RunLimits = {
    maxStepInputChars,
    maxStepOutputChars,
    maxMappedValueChars,
    maxRunContextChars,
  };
  return { orchestration, roles, limits, webhooks };
}

export function startRequest(
  data: TenantData,
  executionId: string,
  prepared: Awaited<ReturnType<typeof prepare>>,
  lineage: { parent?: ParentLink; depth: number; startedFrom?: string; rootPrincipal?: string },
  pinned: PinnedBudget = {},
  /** False when the governor need not hear of the run's end (its admission said so). */
  notify = true,
) {
  const { orchestration, roles, limits } = prepared;
  const plan: Plan = {
    executionId,
    steps: orchestration.steps,
    roles,
    limits,
    ...(pinned.budget ? { budget: pinned.budget } : {}),
  };
  const meta: ExecutionMeta = {
    v: 2,
    executionId,
    tenantId: data.actor.tenantId,
    orchestrationId: orchestration.id,
    orchestrationName: orchestration.name,
    orchestrationVersion: orchestration.version,
    createdBy: data.actor.principal,
    ...(lineage.parent ? { parent: lineage.parent } : {}),
    depth: lineage.depth,
    ...(lineage.startedFrom ? { startedFrom: lineage.startedFrom } : {}),
    ...(lineage.rootPrincipal ? { rootPrincipal: lineage.rootPrincipal } : {}),
    ...(pinned.monthlyReserve ? { monthlyReserve: pinned.monthlyReserve } : {}),
    ...(pinned.budgetHeldBy ? { budgetHeldBy: pinned.budgetHeldBy } : {}),
    ...(notify ? {} : { endNotice: false as const }),
  };
  return { meta, plan, ...(prepared.webhooks === undefined ? {} : { webhooks: prepared.webhooks }) };
}

export type Prepared = Awaited<ReturnType<typeof prepare>>;
