// The execution status as clients see it (`getExecutionStatus`, `get_execution_status`): derived from
// the stored state, with ISO dates and one stepLog per step. `error` and `stepLogs` are what the
// guide's troubleshooting section reads.
import { contextOf } from "./engine/transition";
import type { AttemptRecord, JsonValue, StepRun } from "./engine/types";
import type { Loaded } from "./execution-store";

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

function attemptLog(attempt: AttemptRecord) {
  return {
    attempt: attempt.attempt,
    status: attempt.outcome ?? "running",
    startedAt: iso(attempt.startedAt),
    endedAt: iso(attempt.endedAt),
    durationMs: attempt.endedAt === undefined ? null : attempt.endedAt - attempt.startedAt,
    error: attempt.error?.message ?? null,
    errorKind: attempt.error?.kind ?? null,
    model: attempt.usage?.model ?? null,
    tokensIn: attempt.usage?.tokensIn ?? null,
    tokensOut: attempt.usage?.tokensOut ?? null,
    costUsd: attempt.usage?.costUsd ?? null,
    input: attempt.input,
    output: attempt.output ?? null,
    /** A meta role's model turns and the agent code each ran; empty for other roles. */
    turns: attempt.turns ?? [],
  };
}

function stepLog(step: StepRun, loaded: Loaded, stage: number) {
  const definition = loaded.plan.steps[step.index];
  return {
    index: step.index,
    name: step.name,
    stage,
    roleName: definition?.roleName ?? null,
    parallelGroup: definition?.parallelGroup ?? null,
    // Waiting before its first attempt (left for the next alarm) is still pending to a reader.
    status:
      step.status === "waiting_retry"
        ? step.attempts.length > 0
          ? ("running" as const)
          : ("pending" as const)
        : step.status,
    waitingForRetry: step.status === "waiting_retry" && step.attempts.length > 0,
    retryAt: iso(step.retryAt),
    reason: step.reason ?? null,
    output: step.output ?? null,
    warnings: step.warnings,
    attempts: step.attempts.map(attemptLog),
  };
}

export type StepLog = ReturnType<typeof stepLog>;

export function statusView(loaded: Loaded) {
  const { meta, plan, run } = loaded;
  const { header } = run;
  const stageOf = new Map<number, number>();
  plan.stages.forEach((stage, s) => {
    for (const index of stage) stageOf.set(index, s);
  });
  const end = header.finishedAt;
  return {
    id: meta.executionId,
    orchestrationId: meta.orchestrationId,
    orchestrationName: meta.orchestrationName,
    orchestrationVersion: meta.orchestrationVersion,
    status: header.status,
    input: header.input,
    context: contextOf(run) as Record<string, JsonValue>,
    output: header.output ?? null,
    error: header.error ?? null,
    createdAt: iso(header.createdAt),
    startedAt: iso(header.startedAt),
    finishedAt: iso(end),
    durationMs: header.startedAt !== undefined && end !== undefined ? end - header.startedAt : null,
    stepLogs: run.steps.map((step) => stepLog(step, loaded, stageOf.get(step.index) ?? 0)),
  };
}

export type ExecutionStatus = ReturnType<typeof statusView>;
