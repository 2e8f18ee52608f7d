// Which instance an approval is for, and whether it may be decided now. The shell asks before it
// records a decision, so a wrong request changes nothing and says why. Pure.
import { allSteps } from "./definition";
import { ancestorsOf, nodeOf } from "./tree";
import type { Plan, RunState, StepInstance } from "./types";

export type ApprovalTarget =
  | { ok: true; instance: StepInstance }
  | {
      ok: false;
      code: "BAD_REQUEST" | "NOT_FOUND" | "PRECONDITION_FAILED" | "CONFLICT";
      message: string;
      /** The request field a BAD_REQUEST is about. */
      field?: "stepName" | "instanceId";
    };

/** Finds the approval step `stepName` (one instance, or the one `instanceId` names) that is waiting. */
export function approvalTarget(
  plan: Plan,
  run: RunState,
  stepName: string,
  instanceId?: string,
): ApprovalTarget {
  const step = [...allSteps(plan.steps)].find((visit) => visit.step.name === stepName)?.step;
  if (!step)
    return {
      ok: false,
      code: "BAD_REQUEST",
      message: `this execution has no step named "${stepName}"`,
      field: "stepName",
    };
  if (step.stepType !== "approval") {
    const kind = step.stepType ?? "agent";
    const article = /^[aeiou]/.test(kind) ? "an" : "a";
    return {
      ok: false,
      code: "BAD_REQUEST",
      message: `step "${stepName}" is ${article} ${kind} step, not an approval`,
      field: "stepName",
    };
  }
  const named = [...run.instances.values()].filter((found) => found.name === stepName);
  const candidates = instanceId === undefined ? named : named.filter((found) => found.id === instanceId);
  if (candidates.length === 0) {
    const why = instanceId === undefined ? "has not started yet" : `has no instance "${instanceId}"`;
    return {
      ok: false,
      code: "PRECONDITION_FAILED",
      message: `step "${stepName}" ${why}; it is not waiting for approval`,
    };
  }
  const waiting = candidates.filter((found) => found.wait?.kind === "approval");
  if (waiting.length > 1) {
    const ids = waiting.map((found) => found.id).join(", ");
    return {
      ok: false,
      code: "BAD_REQUEST",
      message: `step "${stepName}" waits in ${waiting.length} places (${ids}); pass instanceId`,
      field: "instanceId",
    };
  }
  const [target] = waiting;
  if (target) {
    if (run.header.status !== "running")
      return { ok: false, code: "PRECONDITION_FAILED", message: `the execution is ${run.header.status}` };
    return { ok: true, instance: target };
  }
  const [last] = candidates.slice(-1);
  if (
    last?.status === "completed" &&
    last.output &&
    typeof last.output === "object" &&
    "approved" in last.output
  ) {
    const decided = last.output as { approved: boolean; by: string; at: string };
    const already = `${decided.approved ? "approved" : "rejected"} by ${decided.by} at ${decided.at}`;
    // In a loop the step comes round again: deciding now is early, not a second decision.
    const loop = ancestorsOf(last.id).find((at) => nodeOf(plan.steps, at.id)?.stepType === "loop");
    if (loop && run.instances.get(loop.id)?.status === "running")
      return {
        ok: false,
        code: "PRECONDITION_FAILED",
        message: `step "${stepName}" is not waiting: iteration ${loop.slot}'s was ${already}, and the next iteration has not reached it`,
      };
    return { ok: false, code: "CONFLICT", message: `step "${stepName}" was already ${already}` };
  }
  return {
    ok: false,
    code: "PRECONDITION_FAILED",
    message: `step "${stepName}" is ${last?.status ?? "not started"}, not waiting for approval`,
  };
}
