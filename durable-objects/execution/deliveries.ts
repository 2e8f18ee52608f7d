// Deliveries an execution owes other execution objects, kept in its outbox until they arrive: starting
// a child (the same id every time, so a repeated start finds the child already there), cancelling one,
// and telling the parent this run ended. Each receiver takes a repeat as a no-op, so delivering at least
// once is enough. A start that can never succeed (the orchestration is gone, too deep) is answered to
// the engine as the child's failure instead.
import type { Env } from "../../worker/env";
import type { ChildResult, EngineEvent } from "../engine/types";
import { startChildExecution } from "./start";
import type { ExecutionMeta, OutboxEntry } from "./store";
import { executionStub } from "./stub";

export type DeliveryOutcome =
  /** Arrived (or can never arrive and need not): drop it, and feed `event` to the engine if given. */
  | { delivered: true; event?: EngineEvent }
  /** Did not arrive this time: keep it for the next alarm. */
  | { delivered: false; error: string };

export async function deliver(env: Env, meta: ExecutionMeta, entry: OutboxEntry): Promise<DeliveryOutcome> {
  try {
    switch (entry.type) {
      case "start_child": {
        const started = await startChildExecution(env, meta, entry);
        if (started.ok) return { delivered: true };
        if (!started.final) return { delivered: false, error: started.error };
        const result: ChildResult = {
          ok: false,
          status: "refused",
          error: { kind: "config", message: started.error, retryable: false },
        };
        const { instance, attempt, executionId } = entry;
        return { delivered: true, event: { type: "child_finished", instance, attempt, executionId, result } };
      }
      case "cancel_child": {
        // "no such execution": it never started, so there is nothing to cancel.
        await executionStub(env, entry.executionId).cancel(entry.reason);
        return { delivered: true };
      }
      case "notify_parent": {
        const { parent, executionId, result } = entry;
        const notice = { instance: parent.instance, attempt: parent.attempt, executionId, result };
        await executionStub(env, parent.executionId).childFinished(notice);
        return { delivered: true };
      }
      default:
        return entry satisfies never;
    }
  } catch (error) {
    return { delivered: false, error: (error as Error).message };
  }
}
