// The save-time check of a role's model: a hyperparameters.model that names nothing this tenant or the
// platform offers is refused with the list of what exists, and a hyperparameters.maxTokens above what the
// model can answer (its output cap, or its context window) is refused naming that limit, so the mistake
// surfaces when the role is written (by the API or by agent code), not when a run reaches the step, and
// no role can ask to be billed for more than its model can reply.
import type { Db } from "../db/client";
import { ProviderStore } from "../db/providers";
import { invalid } from "../errors";
import { formatPath } from "../schemas/common";
import { outputTokenLimit } from "./catalog";
import type { ModelEnv } from "./gateway";
import { needsTenantModels, type RoleModelNeeds, resolveModel } from "./resolve";

/**
 * Throws BAD_REQUEST at `<at>.hyperparameters.model` when the role's model cannot be resolved, and at
 * `<at>.hyperparameters.maxTokens` when it is above what that model can answer. A role that names no
 * model is held to the one its needs pick today.
 */
export async function checkRoleModel(
  db: Db,
  tenantId: string,
  env: ModelEnv,
  role: RoleModelNeeds,
  at: string[] = [],
): Promise<void> {
  // Only reading: the actor's principal is never recorded by a read.
  const store = new ProviderStore(db, { tenantId, principal: "" }, env);
  const tenantModels = needsTenantModels(role) ? await store.models() : [];
  const resolved = resolveModel(role, tenantModels, env);
  if (!resolved.ok)
    throw invalid([{ path: formatPath([...at, "hyperparameters", "model"]), message: resolved.message }]);
  const limit = outputTokenLimit(resolved.model);
  const { maxTokens, model: named } = role.hyperparameters;
  if (maxTokens <= limit) return;
  const picked = named === undefined ? " (the model this role's needs pick; name one with model)" : "";
  throw invalid([
    {
      path: formatPath([...at, "hyperparameters", "maxTokens"]),
      message: `is ${maxTokens}, above the ${limit} tokens model "${resolved.model.providerName}:${resolved.model.id}"${picked} can answer; set at most ${limit}`,
    },
  ]);
}
