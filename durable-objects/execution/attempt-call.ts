// One attempt's model call, made by the execution object itself or by a call runner object: the role's
// model (with agent-code turns for roles holding `meta`), bounded by the attempt's deadline and abort
// signal, its reply checked against the step's outputSchema, with the crash-test fault points around it.
// Answers undefined when the attempt was aborted or timed out meanwhile: the engine has settled it already.
import { callModelWithAgentCode } from "../../worker/agent-code/model-turns";
import type { Env } from "../../worker/env";
import { validateOutput } from "../../worker/models/output-schema";
import type { AgentStep } from "../engine/definition";
import { nodeOf } from "../engine/tree";
import type { AttemptResult, Command, JsonValue, RoleSnapshot } from "../engine/types";
import type { FaultPoint } from "./fault-points";
import type { Loaded } from "./store";

/** Everything a call needs, so it can be made by another object than the execution's. */
export interface CallJob {
  executionId: string;
  tenantId: string;
  instance: string;
  attempt: number;
  input: JsonValue;
  deadline: number;
  stepName: string;
  role?: RoleSnapshot;
  json: boolean;
  outputSchema?: Record<string, unknown>;
}

export function callJobOf(loaded: Loaded, command: Extract<Command, { type: "call_model" }>): CallJob {
  const step = nodeOf(loaded.plan.steps, command.instance) as AgentStep | undefined;
  const role = step?.roleName === undefined ? undefined : loaded.plan.roles[step.roleName];
  const outputSchema = step?.outputSchema;
  return {
    executionId: loaded.meta.executionId,
    tenantId: loaded.meta.tenantId,
    instance: command.instance,
    attempt: command.attempt,
    input: command.input,
    deadline: command.deadline,
    stepName: step?.name ?? `step ${command.instance}`,
    ...(role ? { role } : {}),
    json: step?.outputFormat === "json" || outputSchema !== undefined,
    ...(outputSchema ? { outputSchema } : {}),
  };
}

export async function callAttempt(
  env: Env,
  job: CallJob,
  controller: AbortController,
  crashAt: (point: FaultPoint) => void,
  onText?: (text: string) => void,
): Promise<AttemptResult | undefined> {
  const timeout = AbortSignal.timeout(Math.max(1, job.deadline - Date.now()));
  const signal = AbortSignal.any([controller.signal, timeout]);
  const live = () => !controller.signal.aborted && !timeout.aborted;
  const context = {
    tenantId: job.tenantId,
    executionId: job.executionId,
    stepName: job.stepName,
    deadline: job.deadline,
    ...(onText ? { onText } : {}),
    ...(job.outputSchema ? { outputSchema: job.outputSchema } : {}),
  };
  try {
    crashAt("before_call");
    const call = callModelWithAgentCode(env, job.role, job.input, job.json, signal, context);
    crashAt("during_call");
    const result = await call;
    crashAt("after_reply");
    if (!live()) return undefined;
    return job.outputSchema && result.ok ? checkedReply(result, job.outputSchema) : result;
  } catch (error) {
    const message = `model call failed: ${(error as Error).message}`;
    return live() ? { ok: false, error: { kind: "provider", message, retryable: true } } : undefined;
  }
}

/** A reply that does not match the step's outputSchema is a retryable failure naming what is wrong. */
export function checkedReply(
  result: Extract<AttemptResult, { ok: true }>,
  schema: Record<string, unknown>,
): AttemptResult {
  const verdict = validateOutput(schema, result.text);
  if (verdict.ok) return result;
  const message = `the reply does not match outputSchema: ${verdict.errors.join("; ")}`;
  return {
    ok: false,
    error: { kind: "invalid_output", message, retryable: true },
    usage: result.usage,
    text: result.text,
    ...(result.turns ? { turns: result.turns } : {}),
  };
}
