// Which statuses are final, defined once for the engine, the shell, the API and the dashboard. Pure.
import type { InstanceStatus, RunStatus } from "./types";

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
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
