// The meta functions agent code can call, by the names the usage guide gives them. Shared by the sandbox
// prelude (globals and `system.<name>`), the MetaTools entrypoint (dispatch) and the API declarations.
import type { MetaScope } from "../schemas/role";

export const META_FUNCTION_NAMES = [
  "create_role",
  "list_roles",
  "get_role",
  "update_role",
  "delete_role",
  "create_orchestration",
  "list_orchestrations",
  "get_orchestration",
  "update_orchestration",
  "delete_orchestration",
  "execute_orchestration",
  "get_execution_status",
  "approve_step",
  "resume_execution",
  "rerun_execution",
] as const;

export type MetaFunctionName = (typeof META_FUNCTION_NAMES)[number];

export function isMetaFunctionName(name: unknown): name is MetaFunctionName {
  return typeof name === "string" && (META_FUNCTION_NAMES as readonly string[]).includes(name);
}

/** The `meta:<scope>` tool each function needs (plain `meta` allows them all). */
export const META_FUNCTION_SCOPES: Record<MetaFunctionName, MetaScope> = {
  create_role: "write",
  list_roles: "read",
  get_role: "read",
  update_role: "write",
  delete_role: "write",
  create_orchestration: "write",
  list_orchestrations: "read",
  get_orchestration: "read",
  update_orchestration: "write",
  delete_orchestration: "write",
  execute_orchestration: "run",
  get_execution_status: "read",
  approve_step: "run",
  resume_execution: "run",
  rerun_execution: "run",
};
