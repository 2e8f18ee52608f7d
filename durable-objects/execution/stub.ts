// Reaching an execution's Durable Object: one object per execution, named by the execution id.
// The RPC surface is restated as a plain interface: the generated stub type recurses through the
// JSON value types until TypeScript gives up, while these are the exact types the object returns.
import type { Env } from "../../worker/env";
import type { ExecutionObject } from "./object";

export type ExecutionRpc = Pick<
  ExecutionObject,
  | "start"
  | "status"
  | "cancel"
  | "resume"
  | "approve"
  | "childFinished"
  | "budgetHold"
  | "attemptResults"
  | "attemptText"
  | "ensureAlarm"
  | "waitForEnd"
  | "watch"
  | "lineage"
  | "purge"
>;

export function executionStub(env: Pick<Env, "EXECUTIONS">, executionId: string): ExecutionRpc {
  return env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId)) as unknown as ExecutionRpc;
}
