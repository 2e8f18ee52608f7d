// Building blocks for tests of the control-flow step kinds (loop, forEach, branch, orchestration,
// approval, sleep): an orchestration whose agent steps at every depth use one scripted role, reading a
// run's step logs by name, a model script that dispatches on a `step` input key, and running an
// execution object's alarm now.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { ExecutionStatus, StepLog } from "../../durable-objects/execution/status-view";
import type { ModelReply } from "../../worker/models/types";
import type { JsonValue } from "../../worker/schemas/common";
import type { TestClient } from "./client";
import { scriptedModel, waitFor, waitForEnd } from "./executions";
import { type StepInput, stepInputOf } from "./runs";

type Reply = ModelReply | string | Promise<ModelReply | string>;
/** Answers one model call from the input its step rendered. */
export type StepScript = (input: Record<string, JsonValue>, signal: AbortSignal) => Reply;

/** `steps` with `roleName` set on every agent step (at any depth) that names none. */
export function withRole(steps: StepInput[], roleName: string): StepInput[] {
  return steps.map((step): StepInput => {
    switch (step.stepType) {
      case undefined:
      case "agent":
        return { roleName, ...step };
      case "loop":
      case "forEach":
        return { ...step, steps: withRole(step.steps, roleName) };
      case "branch":
        return {
          ...step,
          branches: step.branches.map((arm) => ({ ...arm, steps: withRole(arm.steps, roleName) })),
          ...(step.otherwise ? { otherwise: withRole(step.otherwise, roleName) } : {}),
        };
      default:
        return step;
    }
  });
}

/**
 * Creates the role `roleName` (default "Worker") answered by `script` and an orchestration of `steps`
 * whose agent steps use it unless they name another role.
 */
export async function flowWith(
  trpc: TestClient,
  steps: StepInput[],
  script: StepScript,
  options: { name?: string; roleName?: string } = {},
) {
  const roleName = options.roleName ?? "Worker";
  const model = scriptedModel((call) => script(stepInputOf(call) as Record<string, JsonValue>, call.signal));
  await trpc.role.create.mutate({
    name: roleName,
    basePrompt: `You are ${roleName}.`,
    hyperparameters: { model },
  });
  return trpc.orchestrationManagement.create.mutate({
    name: options.name ?? "Flow",
    steps: withRole(steps, roleName),
  });
}

/** Counts calls per `step` input key, so a test can say which steps ran and how often. */
export class CallLog {
  readonly counts: Record<string, number> = {};
  readonly inputs: Record<string, JsonValue>[] = [];

  record(input: Record<string, JsonValue>): number {
    const step = String(input.step);
    this.inputs.push(input);
    this.counts[step] = (this.counts[step] ?? 0) + 1;
    return this.counts[step];
  }

  of(step: string): Record<string, JsonValue>[] {
    return this.inputs.filter((input) => input.step === step);
  }
}

export const statusOf = (trpc: TestClient, executionId: string) =>
  trpc.orchestrationManagement.getExecutionStatus.query({ executionId }) as Promise<ExecutionStatus>;

export async function startRun(
  trpc: TestClient,
  orchestrationId: string,
  input: Record<string, JsonValue> = {},
): Promise<string> {
  return (await trpc.orchestrationManagement.execute.mutate({ orchestrationId, input })).id;
}

export async function runToEnd(
  trpc: TestClient,
  orchestrationId: string,
  input: Record<string, JsonValue> = {},
): Promise<ExecutionStatus> {
  return waitForEnd(trpc, await startRun(trpc, orchestrationId, input));
}

/** Every step log (instance) of the step named `name`, in tree order. */
export const logsNamed = (status: ExecutionStatus, name: string): StepLog[] =>
  status.stepLogs.filter((log) => log.name === name);

/** The one step log of `name`; fails the test when there is none. */
export function logNamed(status: ExecutionStatus, name: string): StepLog {
  const [log] = logsNamed(status, name);
  if (!log)
    throw new Error(`no step log named "${name}" in ${status.stepLogs.map((l) => l.name).join(", ")}`);
  return log;
}

/** Polls until the step `name` has a log in `state` (e.g. "waiting", "running"). */
export function waitForStep(trpc: TestClient, executionId: string, name: string, state: StepLog["status"]) {
  return waitFor(
    () => statusOf(trpc, executionId),
    (status) => logsNamed(status, name).some((log) => log.status === state),
  );
}

/** Runs the execution object's alarm now (if one is set), instead of waiting for it to fire. */
export function runAlarmOf(executionId: string): Promise<boolean> {
  return runDurableObjectAlarm(env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId)));
}

/** Tracks how many calls are in flight at once. */
export class InFlight {
  now = 0;
  peak = 0;

  async around<T>(work: () => Promise<T>): Promise<T> {
    this.now += 1;
    this.peak = Math.max(this.peak, this.now);
    try {
      return await work();
    } finally {
      this.now -= 1;
    }
  }
}
