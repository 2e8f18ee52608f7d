// One attempt's model call, made by the execution object: the role's model (with agent-code turns for
// roles holding `meta`), bounded by the attempt's deadline and abort signal, with the crash-test fault
// points around it. Answers undefined when the attempt was aborted or timed out meanwhile: the engine
// has settled it already.
import { callModelWithAgentCode } from "../../worker/agent-code/model-turns";
import type { Env } from "../../worker/env";
import type { AgentStep } from "../engine/definition";
import { nodeOf } from "../engine/tree";
import type { AttemptResult, Command } from "../engine/types";
import type { FaultPoint } from "./fault-points";
import type { Loaded } from "./store";

export async function callAttempt(
  env: Env,
  loaded: Loaded,
  command: Extract<Command, { type: "call_model" }>,
  controller: AbortController,
  crashAt: (point: FaultPoint) => void,
): Promise<AttemptResult | undefined> {
  const definition = nodeOf(loaded.plan.steps, command.instance) as AgentStep | undefined;
  const role = definition?.roleName === undefined ? undefined : loaded.plan.roles[definition.roleName];
  const timeout = AbortSignal.timeout(Math.max(1, command.deadline - Date.now()));
  const signal = AbortSignal.any([controller.signal, timeout]);
  const live = () => !controller.signal.aborted && !timeout.aborted;
  try {
    crashAt("before_call");
    const call = callModelWithAgentCode(
      env,
      role,
      command.input,
      definition?.outputFormat === "json",
      signal,
      {
        tenantId: loaded.meta.tenantId,
        executionId: loaded.meta.executionId,
        stepName: definition?.name ?? `step ${command.instance}`,
        deadline: command.deadline,
      },
    );
    crashAt("during_call");
    const result = await call;
    crashAt("after_reply");
    return live() ? result : undefined;
  } catch (error) {
    const message = `model call failed: ${(error as Error).message}`;
    return live() ? { ok: false, error: { kind: "provider", message, retryable: true } } : undefined;
  }
}
