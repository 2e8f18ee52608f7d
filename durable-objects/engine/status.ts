// Which statuses are final, defined once for the engine, the shell, the API and the dashboard. Pure.
import type { InstanceStatus, RunStatus } from "./types";

/** Every status a run can have, in life-cycle order (the D1 column, the list filter and the API use it). */
export const RUN_STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const;
export const TERMINAL_RUN_STATUSES = [
  "completed",
  "failed",
  "cancelled",
] as const satisfies readonly RunStatus[];

export function isTerminal(status: RunStatus): boolean {
  return (TERMINAL_RUN_STATUSES as readonly RunStatus[]).includes(status);
}

/** An instance that will not change again on its own: done, skipped, failed or cancelled. */
export function isSettled(status: InstanceStatus): boolean {
  return status === "completed" || status === "skipped" || status === "failed" || status === "cancelled";
}

/** Lets the run go on past it: completed, skipped, or failed with continueOnError. */
export function isFinished(instance: { status: InstanceStatus; continued?: boolean }): boolean {
  return (
    instance.status === "completed" ||
    instance.status === "skipped" ||
    (instance.status === "failed" && instance.continued === true)
  );
}
