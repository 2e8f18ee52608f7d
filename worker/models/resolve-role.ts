// The save-time check of a role's model: a hyperparameters.model that names nothing this tenant or the
// platform offers is refused with the list of what exists, so the mistake surfaces when the role is
// written (by the API or by agent code), not when a run reaches the step.
import type { Db } from "../db/client";
import { ProviderStore } from "../db/providers";
import { invalid } from "../errors";
import { formatPath } from "../schemas/common";
import type { ModelEnv } from "./gateway";
import { needsTenantModels, type RoleModelNeeds, resolveModel } from "./resolve";

/** Throws BAD_REQUEST at `<at>.hyperparameters.model` when the role's model cannot be resolved. */
export async function checkRoleModel(
  db: Db,
  tenantId: string,
  env: ModelEnv,
  role: RoleModelNeeds,
  at: string[] = [],
): Promise<void> {
  if (role.hyperparameters.model === undefined) return;
  // Only reading: the actor's principal is never recorded by a read.
  const store = new ProviderStore(db, { tenantId, principal: "" }, env);
  const tenantModels = needsTenantModels(role) ? await store.models() : [];
  const resolved = resolveModel(role, tenantModels, env);
  if (!resolved.ok)
    throw invalid([{ path: formatPath([...at, "hyperparameters", "model"]), message: resolved.message }]);
}
