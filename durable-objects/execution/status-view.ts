// The execution status as clients see it (`getExecutionStatus`, `get_execution_status`, the dashboard):
// derived from the stored state, with ISO dates and one stepLog per step instance — every top-level step
// (pending until it starts), and inside loops, forEach items and branch arms each instance that has
// started. `error` and `stepLogs` are what the guide's troubleshooting section reads.
import { runUsage } from "../engine/budget";
import { kindOf, type StepDefinition } from "../engine/definition";
import { contextOf } from "../engine/transition";
import { bodyOf, isTopLevel, nodeOf, parentOf, stageIndexOf, stagesOfBody } from "../engine/tree";
import type { AttemptRecord, JsonValue, StepInstance } from "../engine/types";
import type { Loaded } from "./store";

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
    /** The child execution an orchestration step's attempt started. */
    childExecutionId: attempt.childExecutionId ?? null,
    /** What the child execution spent (tokens in + out, US dollars), once it ended. */
    childSpent: attempt.childSpent ?? null,
    /** What the attempt holds of the run's budget while it is open. */
    reserved: attempt.outcome || !attempt.reserved ? null : attempt.reserved,
    /** A result that came after the attempt had ended (timed out, cut off, cancelled): noted, not used. */
    lateResult: attempt.lateResult
      ? {
          at: iso(attempt.lateResult.at),
          ok: attempt.lateResult.ok,
          error: attempt.lateResult.error ?? null,
        }
      : null,
  };
}

function waitView(instance: StepInstance) {
  const { wait } = instance;
  switch (wait?.kind) {
    case undefined:
      return null;
    case "call":
      return {
        kind: "call" as const,
        attempt: wait.attempt,
        deadline: iso(instance.attempts.at(-1)?.deadline),
      };
    case "child":
      return { kind: "child" as const, executionId: wait.executionId, deadline: iso(wait.deadline) };
    case "approval":
      return {
        kind: "approval" as const,
        message: wait.message,
        since: iso(wait.since),
        deadline: iso(wait.deadline),
      };
    case "timer":
      return { kind: "timer" as const, until: iso(wait.until) };
  }
}

/** What a container shows beyond its status: loop progress, forEach items, the branch arm taken. */
function containerView(step: StepDefinition, instance: StepInstance | undefined, loaded: Loaded) {
  const id = instance?.id;
  switch (step.stepType) {
    case "loop":
      return { loop: { iteration: instance?.iteration ?? null, maxIterations: step.maxIterations } };
    case "forEach": {
      const total = instance?.items?.length ?? null;
      const perItem = (instance?.items ?? []).map((_, item) => itemStatus(step, `${id}.${item}`, loaded));
      const count = (status: string) => perItem.filter((s) => s === status).length;
      const done = count("completed");
      return {
        forEach: {
          total,
          done,
          failed: count("failed"),
          running: count("running"),
          concurrency: step.concurrency,
          items: perItem,
        },
      };
    }
    case "branch": {
      const taken = instance?.branch;
      const arms = [
        ...step.branches.map((arm, index) => ({ index, label: `branches[${index}]`, when: arm.when })),
        ...(step.otherwise ? [{ index: step.branches.length, label: "otherwise", when: null }] : []),
      ].map((arm) => ({
        ...arm,
        status: taken === undefined ? "pending" : taken === arm.index ? "taken" : "skipped",
      }));
      return { branch: { taken: taken ?? null, arms } };
    }
    default:
      return {};
  }
}

/** One forEach item's state: not started, running, completed or failed (from its body's instances). */
function itemStatus(step: Extract<StepDefinition, { stepType: "forEach" }>, prefix: string, loaded: Loaded) {
  const instances = step.steps.map((_, j) => loaded.run.instances.get(`${prefix}.${j}`));
  if (instances.every((found) => found === undefined)) return "pending";
  if (instances.some((found) => found?.status === "failed" && !found.continued)) return "failed";
  if (instances.some((found) => found?.status === "cancelled")) return "cancelled";
  const finished = (found: StepInstance | undefined) =>
    found !== undefined &&
    (found.status === "completed" || found.status === "skipped" || found.status === "failed");
  return stagesOfBody(step.steps).every((stage) => stage.every((j) => finished(instances[j])))
    ? "completed"
    : "running";
}

/** A top-level step the run never reached: pending while it may still run, cancelled once the run has ended. */
function unreached(loaded: Loaded): Pick<StepInstance, "status" | "reason"> {
  const { status, error } = loaded.run.header;
  if (status === "cancelled") return { status: "cancelled", reason: error ?? "cancelled" };
  if (status === "failed")
    return { status: "cancelled", reason: `execution failed before this step started: ${error}` };
  return { status: "pending" };
}

/** The text a running attempt has streamed so far, by instance id (kept in memory, never stored). */
export type StreamedText = (instanceId: string) => string | undefined;

function stepLog(
  id: string,
  step: StepDefinition,
  found: StepInstance | undefined,
  loaded: Loaded,
  streamed: StreamedText | undefined,
) {
  const instance = found ?? (parentOf(id) ? undefined : { ...unreached(loaded), attempts: [], warnings: [] });
  const parent = parentOf(id);
  const container = parent ? nodeOf(loaded.plan.steps, parent.id) : undefined;
  const body = container && parent ? (bodyOf(container, parent.slot) ?? []) : loaded.plan.steps;
  const index = Number(id.slice(id.lastIndexOf(".") + 1));
  const attempts = instance?.attempts ?? [];
  const status = instance?.status ?? "pending";
  const record = found;
  return {
    id,
    index,
    name: step.name,
    stepType: kindOf(step),
    stage: Math.max(0, stageIndexOf(body, index)),
    roleName: "roleName" in step ? (step.roleName ?? null) : null,
    parallelGroup: step.parallelGroup ?? null,
    /** The container instance this one runs in, and its slot there (loop iteration, forEach item, branch arm). */
    parentId: parent?.id ?? null,
    slot: parent?.slot ?? null,
    depth: parent ? id.split(".").length >> 1 : 0,
    // Waiting before its first attempt (left for the next alarm) is still pending to a reader.
    status:
      status === "waiting_retry"
        ? attempts.length > 0
          ? ("running" as const)
          : ("pending" as const)
        : status,
    waitingForRetry: status === "waiting_retry" && attempts.length > 0,
    retryAt: iso(record?.retryAt),
    reason: instance?.reason ?? null,
    error: record?.error ?? null,
    continued: record?.continued ?? false,
    output: record?.output ?? null,
    /** The reply so far while a streaming call runs; the output replaces it once the attempt ends. */
    streamingText: (record?.wait?.kind === "call" ? streamed?.(id) : undefined) ?? null,
    warnings: instance?.warnings ?? [],
    wait: record ? waitView(record) : null,
    childExecutionId: attempts.at(-1)?.childExecutionId ?? null,
    /** What the step spent over all its attempts: tokens (in + out) and US dollars, its child runs' included. */
    spent: stepSpent(attempts),
    attempts: attempts.map(attemptLog),
    ...containerView(step, record, loaded),
  };
}

export type StepLog = ReturnType<typeof stepLog>;

function stepSpent(attempts: readonly AttemptRecord[]) {
  const spent = { tokens: 0, costUsd: 0 };
  for (const attempt of attempts) {
    spent.tokens += (attempt.usage?.tokensIn ?? 0) + (attempt.usage?.tokensOut ?? 0);
    spent.costUsd += attempt.usage?.costUsd ?? 0;
    spent.tokens += attempt.childSpent?.tokens ?? 0;
    spent.costUsd += attempt.childSpent?.costUsd ?? 0;
  }
  return spent;
}

/** Instance ids in tree order: a container, then its slots in order, each with its body in order. */
function inTreeOrder(ids: Iterable<string>): string[] {
  const keyed = [...ids].map((id) => ({
    id,
    path: isTopLevel(id) ? [Number(id)] : id.split(".").map(Number),
  }));
  keyed.sort((a, b) => {
    for (let i = 0; i < Math.min(a.path.length, b.path.length); i++) {
      const d = (a.path[i] ?? 0) - (b.path[i] ?? 0);
      if (d !== 0) return d;
    }
    return a.path.length - b.path.length;
  });
  return keyed.map((entry) => entry.id);
}

export function statusView(loaded: Loaded, streamed?: StreamedText) {
  const { meta, plan, run } = loaded;
  const { header } = run;
  const ids = new Set([...plan.steps.keys()].map(String));
  for (const id of run.instances.keys()) ids.add(id);
  const stepLogs = inTreeOrder(ids).flatMap((id) => {
    const step = nodeOf(plan.steps, id);
    return step ? [stepLog(id, step, run.instances.get(id), loaded, streamed)] : [];
  });
  const end = header.finishedAt;
  return {
    id: meta.executionId,
    orchestrationId: meta.orchestrationId,
    orchestrationName: meta.orchestrationName,
    orchestrationVersion: meta.orchestrationVersion,
    status: header.status,
    /** Present (true) only while the run waits in the tenant's queue for a running slot (maxRunningExecutions). */
    ...(loaded.queued !== undefined && header.status === "pending" ? { queued: true as const } : {}),
    input: header.input,
    context: contextOf(plan, run) as Record<string, JsonValue>,
    output: header.output ?? null,
    error: header.error ?? null,
    /** "budget_exceeded" when the run failed because a call would have crossed its budget. */
    errorKind: header.errorKind ?? null,
    /** The budget pinned at start (null: unlimited). */
    budget: plan.budget ?? null,
    /** What the run has spent so far (final once it ended): its calls, by model, and its child runs. */
    usage: header.usage ?? runUsage(run.instances.values(), header),
    createdAt: iso(header.createdAt),
    startedAt: iso(header.startedAt),
    finishedAt: iso(end),
    durationMs: header.startedAt !== undefined && end !== undefined ? end - header.startedAt : null,
    /** The run whose orchestration step started this one. */
    parent: meta.parent
      ? {
          executionId: meta.parent.executionId,
          stepName: meta.parent.stepName,
          instanceId: meta.parent.instance,
        }
      : null,
    depth: meta.depth ?? 0,
    resumes: header.resumes ?? 0,
    stepLogs,
  };
}

export type ExecutionStatus = ReturnType<typeof statusView>;
