// What a decision owes other execution objects, derived from it before it is saved: the children it
// starts or cancels, and — when a child run has just ended — the notice to its parent.
import { isTerminal } from "../engine/status";
import type { ChildResult, Decision, RunHeader } from "../engine/types";
import type { ExecutionMeta, OutboxEntry } from "./store";

export function owedBy(meta: ExecutionMeta, decision: Decision): OutboxEntry[] {
  const owed: OutboxEntry[] = [];
  for (const command of decision.commands) {
    if (command.type === "start_child") {
      const { type: _, ...start } = command;
      owed.push({ type: "start_child", ...start });
    }
    if (command.type === "cancel_child") owed.push(command);
    if (command.type === "status_changed" && meta.parent && isTerminal(command.status)) {
      const result = childResultOf(meta.executionId, decision.header);
      owed.push({ type: "notify_parent", parent: meta.parent, executionId: meta.executionId, result });
    }
  }
  return owed;
}

/** How a child run that ended looks to its parent's orchestration step. */
export function childResultOf(
  executionId: string,
  header: Pick<RunHeader, "status" | "output" | "error">,
): ChildResult {
  if (header.status === "completed") return { ok: true, output: header.output ?? null };
  const status = header.status === "cancelled" ? "cancelled" : "failed";
  return {
    ok: false,
    status,
    error: {
      kind: status === "cancelled" ? "cancelled" : "provider",
      message: `child execution ${executionId} ${status}: ${header.error ?? "no reason given"}`,
      // A failed child is worth another try (a retry starts a new child); a cancelled one was stopped on purpose.
      retryable: status === "failed",
    },
  };
}
