// Building blocks for tests that run executions: a tenant's scripted role plus an orchestration over it,
// gates that hold a scripted model until the test lets go, and reading what a step asked its model.
// Tests change data only through the Worker, except `ageExecution`, which stands in for the passing of a day.
import { env } from "cloudflare:workers";
import type { ModelScript, ScriptCall } from "../../worker/models/scripted";
import type { ModelReply } from "../../worker/models/types";
import type { OrchestrationInput } from "../../worker/schemas/orchestration";
import type { TestClient } from "./client";
import { scriptedModel } from "./executions";

export type StepInput = OrchestrationInput["steps"][number];

export { TERMINAL_RUN_STATUSES as TERMINAL_STATUSES } from "../../durable-objects/engine/status";

/** A promise the test settles: a scripted model awaits `promise`, the test calls `open`. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open: (value: T) => void = () => undefined;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Lets callers through only once `parties` of them have arrived: proof that they ran at the same time. */
export function barrier(parties: number): () => Promise<void> {
  const all = gate();
  let arrived = 0;
  return () => {
    arrived += 1;
    if (arrived === parties) all.open();
    return all.promise;
  };
}

/** A provider failure as a scripted model returns it. */
export function providerFailure(message: string, retryable = true): Extract<ModelReply, { ok: false }> {
  return { ok: false, error: { kind: "provider", message, retryable } };
}

/** Settles with a reply once the call's signal aborts (a cancel, a timeout, a failed sibling). */
export function untilAborted(signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve("aborted");
    else signal.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
}

/** The input a step rendered for its model (the user message), parsed back from JSON. */
export function stepInputOf(call: ScriptCall): Record<string, unknown> {
  return JSON.parse(call.request.messages.at(-1)?.content ?? "{}") as Record<string, unknown>;
}

/**
 * Creates a role answered by `script` and an orchestration of `steps`; steps without a roleName use
 * that role. Returns the orchestration as created, the role and the scripted model id.
 */
export async function orchestrationWith(
  trpc: TestClient,
  steps: StepInput[],
  script: ModelScript,
  options: { name?: string; roleName?: string; isActive?: boolean } = {},
) {
  const model = scriptedModel(script);
  const roleName = options.roleName ?? "Worker";
  const role = await trpc.role.create.mutate({
    name: roleName,
    basePrompt: `You are ${roleName}.`,
    hyperparameters: { model },
  });
  const orchestration = await trpc.orchestrationManagement.create.mutate({
    name: options.name ?? "Flow",
    ...(options.isActive === undefined ? {} : { isActive: options.isActive }),
    steps: steps.map((step) => ({ roleName, ...step })),
  });
  return { orchestration, role, model };
}

/** Moves an execution's creation time back by `ms` in D1, as if it had been started that long ago. */
export async function ageExecution(executionId: string, ms: number): Promise<void> {
  await env.DB.prepare("update executions set created_at = created_at - ? where id = ?")
    .bind(ms, executionId)
    .run();
}

/** The milliseconds between an ISO timestamp pair, for comparing attempt windows. */
export const msBetween = (from: string | null | undefined, to: string | null | undefined) =>
  Date.parse(to ?? "") - Date.parse(from ?? "");
