// Crash-test rig: a scripted model that counts its calls per step and can hold a step's next call until
// the test releases it (so a fault is armed while the execution sits at a known point), hard crashes
// through the fault points, recovery through the object's pending alarm, and the D1 index row.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { isFaultArmed } from "../../durable-objects/execution/fault-points";
import { WATCHDOG_MS } from "../../durable-objects/execution/object";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import type { OrchestrationInput } from "../../worker/schemas/orchestration";
import { newTenant, type TestClient } from "./client";
import { scriptedModel, waitFor, waitForEnd } from "./executions";
import { providerFailure } from "./runs";

/**
 * A call the script is holding. Plain flags polled from each side: a promise resolved by the test would
 * run the Durable Object's continuation in the test's request context instead of the object's.
 */
export class HeldCall {
  arrived = false;
  released = false;

  /** Resolves once the held call has reached the model. */
  async called(): Promise<void> {
    await waitFor(
      async () => this.arrived,
      (arrived) => arrived,
    );
  }

  release(): void {
    this.released = true;
  }
}

/**
 * The model behind every crash-test role. Each step's input names the step (`{ step: "B", ... }`) and the
 * reply is a pure function of that input, so a crashed run and an uncrashed one end with equal outputs.
 */
export class StepModel {
  readonly model: string;
  /** Model calls per step name, over every instance of the execution's Durable Object. */
  readonly calls = new Map<string, number>();
  private readonly holds = new Map<string, HeldCall>();
  private readonly failures = new Map<string, number>();

  constructor() {
    this.model = scriptedModel(async ({ request }) => {
      const input = JSON.parse(request.messages.at(-1)?.content ?? "{}") as { step: string };
      this.calls.set(input.step, (this.calls.get(input.step) ?? 0) + 1);
      const failing = this.failures.get(input.step) ?? 0;
      if (failing > 0) {
        this.failures.set(input.step, failing - 1);
        return providerFailure(`${input.step} is failing on purpose`);
      }
      const hold = this.holds.get(input.step);
      if (hold) {
        this.holds.delete(input.step);
        hold.arrived = true;
        while (!hold.released) await scheduler.wait(1);
      }
      return JSON.stringify({ by: input.step, saw: input });
    });
  }

  /** Holds the next call of `step` (that call only: a re-run after a crash is answered at once). */
  hold(step: string): HeldCall {
    const call = new HeldCall();
    this.holds.set(step, call);
    return call;
  }

  /** Answers the next `times` calls of `step` with a retryable provider failure. */
  fail(step: string, times = 1): void {
    this.failures.set(step, times);
  }

  callsOf(steps: readonly string[]): Record<string, number> {
    return Object.fromEntries(steps.map((step) => [step, this.calls.get(step) ?? 0]));
  }
}

export const INPUT = { topic: "durable execution" };

/** A three-step chain A -> B -> C passing context through outputMapping and templates. */
export const chainSteps = ["A", "B", "C"];
export const chain: OrchestrationInput = {
  name: "Crash chain",
  steps: [
    {
      name: "A",
      roleName: "Worker",
      inputMapping: { step: "A", topic: "{{context.input.topic}}" },
      outputMapping: { plan: "{{output}}" },
    },
    { name: "B", roleName: "Worker", inputMapping: { step: "B", plan: "{{context.plan}}" } },
    { name: "C", roleName: "Worker", inputMapping: { step: "C", draft: "{{context.B}}" } },
  ],
};

/** A 10-wide parallelGroup, then a step that reads every member's output. */
export const fanMembers = Array.from({ length: 10 }, (_, i) => `M${i}`);
export const fanSteps = [...fanMembers, "Join"];
export const fanOut: OrchestrationInput = {
  name: "Crash fan-out",
  steps: [
    ...fanMembers.map((name) => ({
      name,
      roleName: "Worker",
      parallelGroup: "fan",
      inputMapping: { step: name, topic: "{{context.input.topic}}" },
    })),
    {
      name: "Join",
      roleName: "Worker",
      inputMapping: {
        step: "Join",
        parts: Object.fromEntries(fanMembers.map((name) => [name, `{{context.${name}}}`])),
      },
    },
  ],
};

/**
 * A fresh tenant whose one role ("Worker") is answered by a new StepModel, and the given orchestration
 * (after the `children` its orchestration steps start).
 */
export async function crashRig(definition: OrchestrationInput, children: OrchestrationInput[] = []) {
  const { trpc, tenant } = await newTenant("crash");
  const model = new StepModel();
  await trpc.role.create.mutate({
    name: "Worker",
    basePrompt: "You are a worker.",
    hyperparameters: { model: model.model },
  });
  for (const child of children) await trpc.orchestrationManagement.create.mutate(child);
  const orchestration = await trpc.orchestrationManagement.create.mutate(definition);
  const execute = async () => {
    const started = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: orchestration.id,
      input: INPUT,
    });
    return started.id;
  };
  return { trpc, tenantId: tenant.id, model, execute };
}

/** A fresh stub: after ctx.abort() the old one stays broken and a new one reaches a new instance. */
export function executionObject(executionId: string): DurableObjectStub {
  return env.EXECUTIONS.get(env.EXECUTIONS.idFromName(executionId));
}

export function statusOf(trpc: TestClient, executionId: string): Promise<ExecutionStatus> {
  return trpc.orchestrationManagement.getExecutionStatus.query({ executionId }) as Promise<ExecutionStatus>;
}

/** Waits until the fault armed for this execution has fired its last time (the object is then dead). */
export async function crashed(executionId: string): Promise<void> {
  await waitFor(
    async () => !isFaultArmed(executionId),
    (fired) => fired,
  );
}

/** The object's pending alarm (ms since epoch), read through a fresh stub. */
export function pendingAlarm(executionId: string): Promise<number | null> {
  return runInDurableObject(executionObject(executionId), (_, state) => state.storage.getAlarm());
}

/**
 * Restarts a crashed execution the way Cloudflare would: a fresh instance runs its pending alarm (the
 * watchdog the crashed invocation armed before doing any work), then the run ends through the API.
 */
export async function recover(trpc: TestClient, executionId: string): Promise<ExecutionStatus> {
  expect(await pendingAlarm(executionId)).not.toBeNull();
  await runDurableObjectAlarm(executionObject(executionId));
  return waitForEnd(trpc, executionId);
}

/**
 * Restarts an execution that crashed inside an alarm, without waiting for its end: a fresh instance runs
 * the pending alarm, the watchdog the crashed invocation armed (so due within a watchdog's length).
 */
export async function restart(executionId: string): Promise<void> {
  const alarm = await pendingAlarm(executionId);
  expect(alarm).not.toBeNull();
  expect(alarm).toBeLessThanOrEqual(Date.now() + WATCHDOG_MS);
  await runDurableObjectAlarm(executionObject(executionId));
}

/**
 * Picks up an execution that crashed outside an alarm (in an API call, or answering a child's notice):
 * the alarm written with its state is due at once (or a delivery retry's few seconds on), so it is run
 * now if it has not fired by itself already. A run left with only a far alarm, or none, never ends.
 */
export async function pickUp(executionId: string): Promise<void> {
  const alarm = await pendingAlarm(executionId);
  // Fired by itself meanwhile, it was re-armed for the run's next wake-up: nothing to hurry then.
  if (alarm !== null && alarm <= Date.now() + WATCHDOG_MS)
    await runDurableObjectAlarm(executionObject(executionId));
}

/**
 * An uncrashed run of `definition`: the result every crashed run must reproduce. `drive` does what the
 * run waits for from outside (an approval).
 */
export async function controlRun(
  definition: OrchestrationInput,
  children: OrchestrationInput[] = [],
  drive?: (trpc: TestClient, executionId: string) => Promise<void>,
): Promise<ExecutionStatus> {
  const { trpc, execute } = await crashRig(definition, children);
  const executionId = await execute();
  await drive?.(trpc, executionId);
  return waitForEnd(trpc, executionId);
}

/** What two runs of one definition must agree on, whatever crashed in between. */
export function outcomeOf(status: ExecutionStatus) {
  return {
    status: status.status,
    output: status.output,
    context: status.context,
    steps: status.stepLogs.map((step) => ({ name: step.name, status: step.status, output: step.output })),
  };
}

/** Each step's attempt outcomes in order, e.g. `{ B: ["interrupted", "succeeded"] }`. */
export function attemptsOf(status: ExecutionStatus): Record<string, string[]> {
  return Object.fromEntries(status.stepLogs.map((step) => [step.name, step.attempts.map((a) => a.status)]));
}

/**
 * Attempt outcomes per model call key (the `step` its input names, e.g. "Work#2" or "Critic@1"), for runs
 * where one step has many instances.
 */
export function attemptsByCall(status: ExecutionStatus): Record<string, string[]> {
  return Object.fromEntries(
    status.stepLogs.flatMap((step) => {
      const key = (step.attempts[0]?.input as { step?: string } | null)?.step;
      return key === undefined ? [] : [[key, step.attempts.map((a) => a.status)]];
    }),
  );
}

export interface IndexRow {
  status: string;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

/** The execution's row in D1's executions index, as stored. */
export async function indexRow(executionId: string): Promise<IndexRow | null> {
  return env.DB.prepare(
    "select status, error, started_at, finished_at, updated_at from executions where id = ?",
  )
    .bind(executionId)
    .first<IndexRow>();
}

/** Asserts that D1's index row agrees with the object's final status (status, error and times). */
export async function expectIndexMatches(status: ExecutionStatus): Promise<void> {
  expect(await indexRow(status.id)).toMatchObject({
    status: status.status,
    error: status.error,
    started_at: status.startedAt === null ? null : Date.parse(status.startedAt),
    finished_at: status.finishedAt === null ? null : Date.parse(status.finishedAt),
  });
}

/** Overwrites columns of an execution's index row, standing in for a D1 write that was lost. */
export async function rewriteIndexRow(executionId: string, columns: Partial<IndexRow>): Promise<void> {
  const names = Object.keys(columns);
  await env.DB.prepare(`update executions set ${names.map((name) => `${name} = ?`).join(", ")} where id = ?`)
    .bind(...Object.values(columns), executionId)
    .run();
}

export { waitFor, waitForEnd };
