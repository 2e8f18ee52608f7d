// Helpers for execution tests: wait for a condition on an execution's status (polling the real API,
// never a fixed sleep), and register scripted models.
import { isTerminal } from "../../durable-objects/engine/status";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { type ModelScript, registerScript } from "../../worker/models/scripted";
import type { TestClient } from "./client";

export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 20_000, everyMs = 5 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value).slice(0, 2000)}`,
      );
    await scheduler.wait(everyMs);
  }
}

export function waitForEnd(
  trpc: TestClient,
  executionId: string,
  timeoutMs?: number,
): Promise<ExecutionStatus> {
  return waitFor(
    () => trpc.orchestrationManagement.getExecutionStatus.query({ executionId }) as Promise<ExecutionStatus>,
    (status) => isTerminal(status.status),
    timeoutMs === undefined ? {} : { timeoutMs },
  );
}

/** Registers a scripted model under a fresh name and returns the model id for hyperparameters.model. */
export function scriptedModel(script: ModelScript): string {
  return registerScript(crypto.randomUUID(), script);
}
