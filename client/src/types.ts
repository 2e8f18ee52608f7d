// The API's shapes, inferred from the server's AppRouter (type-only: nothing of the Worker is loaded).
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../worker/trpc/routers/_app.ts";

export type { AppRouter };
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export type Role = RouterOutputs["role"]["get"];
export type RoleInput = RouterInputs["role"]["create"];
export type Orchestration = RouterOutputs["orchestrationManagement"]["get"];
export type OrchestrationInput = RouterInputs["orchestrationManagement"]["create"];
export type ExecutionStatus = RouterOutputs["orchestrationManagement"]["getExecutionStatus"];
export type ExecutionSummary = RouterOutputs["orchestrationManagement"]["listExecutions"]["items"][number];
export type StepLog = ExecutionStatus["stepLogs"][number];
export type RunStatus = ExecutionStatus["status"];
export type Budget = NonNullable<RouterInputs["orchestrationManagement"]["execute"]["budget"]>;

/** The statuses after which a run changes no more unless someone resumes it. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
