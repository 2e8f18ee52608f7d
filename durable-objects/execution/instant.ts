// The model calls a decision may answer without leaving the isolate: the local model's (see
// `instantReply`), so a chain of local steps is one decision and one write, not an alarm per step.
import { instantReply, type ModelEnv } from "../../worker/models/gateway";
import type { InstantReply } from "../engine/decide";
import { nodeOf } from "../engine/tree";
import type { Plan } from "../engine/types";
import { checkedReply } from "./attempt-call";

/** Answers a plan's calls at once where the local model would. */
export function instantReplies(env: ModelEnv, plan: Plan): InstantReply {
  return (command) => {
    const step = nodeOf(plan.steps, command.instance);
    if (step === undefined || (step.stepType !== undefined && step.stepType !== "agent")) return undefined;
    const role = step.roleName === undefined ? undefined : plan.roles[step.roleName];
    // Held to the step's outputSchema like any other model's reply (attempt-call.ts).
    const { outputSchema } = step;
    const reply = instantReply(
      env,
      role,
      command.input,
      step.outputFormat === "json" || outputSchema !== undefined,
    );
    return reply?.ok && outputSchema ? checkedReply(reply, outputSchema) : reply;
  };
}
