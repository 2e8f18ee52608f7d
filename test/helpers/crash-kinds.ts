// Crash tests of the control-flow kinds, on the crash rig's StepModel: definitions in which every model
// call's input names it uniquely (`step: "Work#2"`, `"Critic@1"`), so calls are counted per instance; what
// comparing a crashed run with an uncrashed one must ignore (approval times and principals, sleep times);
// the child executions and outbox of a run; and crashing a run at a fault point while a call is held.
import { runInDurableObject } from "cloudflare:test";
import { armFault, type FaultPoint } from "../../durable-objects/execution/fault-points";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import type { JsonValue } from "../../worker/schemas/common";
import type { OrchestrationInput } from "../../worker/schemas/orchestration";
import type { TestClient } from "./client";
import {
  crashed,
  crashRig,
  executionObject,
  outcomeOf,
  restart,
  statusOf,
  waitFor,
  waitForEnd,
} from "./crash";

/** A loop of Critic then Refine that ends after iteration 2 (of at most 5), then Final reads its output. */
export const loopFlow: OrchestrationInput = {
  name: "Crash loop",
  steps: [
    {
      name: "Refinement",
      stepType: "loop",
      maxIterations: 5,
      until: { field: "iteration", operator: ">=", value: 2 },
      steps: [
        {
          name: "Critic",
          roleName: "Worker",
          inputMapping: { step: "Critic@{{iteration}}", draft: "{{context.Refine}}" },
        },
        {
          name: "Refine",
          roleName: "Worker",
          inputMapping: { step: "Refine@{{iteration}}", critique: "{{context.Critic}}" },
        },
      ],
    },
    { name: "Final", roleName: "Worker", inputMapping: { step: "Final", loop: "{{context.Refinement}}" } },
  ],
};
export const loopCalls = ["Critic@0", "Refine@0", "Critic@1", "Refine@1", "Critic@2", "Refine@2", "Final"];

/** Five items, at most two at a time, then Join reads the forEach's output. */
export const forEachItems = ["a", "b", "c", "d", "e"];
export const forEachFlow: OrchestrationInput = {
  name: "Crash forEach",
  steps: [
    {
      name: "Each",
      stepType: "forEach",
      items: forEachItems,
      concurrency: 2,
      steps: [
        { name: "Work", roleName: "Worker", inputMapping: { step: "Work#{{index}}", item: "{{item}}" } },
      ],
    },
    { name: "Join", roleName: "Worker", inputMapping: { step: "Join", results: "{{context.Each}}" } },
  ],
};
export const forEachCalls = [...forEachItems.map((_, index) => `Work#${index}`), "Join"];

/** A branch taken on A's output: Left runs, Right (otherwise) never does. */
export const branchFlow: OrchestrationInput = {
  name: "Crash branch",
  steps: [
    { name: "A", roleName: "Worker", inputMapping: { step: "A" } },
    {
      name: "Route",
      stepType: "branch",
      branches: [
        {
          when: { field: "A.by", operator: "==", value: "A" },
          steps: [
            { name: "Left", roleName: "Worker", inputMapping: { step: "Left", from: "{{context.A}}" } },
          ],
        },
      ],
      otherwise: [{ name: "Right", roleName: "Worker", inputMapping: { step: "Right" } }],
    },
    { name: "After", roleName: "Worker", inputMapping: { step: "After", routed: "{{context.Route}}" } },
  ],
};
export const branchCalls = ["A", "Left", "Right", "After"];

/** The child orchestration: one step that echoes the input its parent mapped. */
export const childFlow: OrchestrationInput = {
  name: "Crash child",
  steps: [{ name: "Inner", roleName: "Worker", inputMapping: { step: "Inner", from: "{{context.input}}" } }],
};

/** A, then a child execution of "Crash child" (retried once if it fails), then After reads its output. */
export const parentFlow: OrchestrationInput = {
  name: "Crash parent",
  steps: [
    {
      name: "A",
      roleName: "Worker",
      inputMapping: { step: "A", topic: "{{context.input.topic}}" },
      outputMapping: { plan: "{{output}}" },
    },
    {
      name: "Sub",
      stepType: "orchestration",
      orchestrationId: "Crash child",
      inputMapping: { plan: "{{context.plan}}" },
      maxRetries: 1,
      retryDelay: 0,
    },
    { name: "After", roleName: "Worker", inputMapping: { step: "After", child: "{{context.Sub}}" } },
  ],
};
export const parentCalls = ["A", "Inner", "After"];

/** A, an approval gate, then After reads the decision. */
export const approvalFlow: OrchestrationInput = {
  name: "Crash approval",
  steps: [
    { name: "A", roleName: "Worker", inputMapping: { step: "A" } },
    { name: "Gate", stepType: "approval", message: "Ship what {{context.A.by}} made?" },
    {
      name: "After",
      roleName: "Worker",
      inputMapping: {
        step: "After",
        approved: "{{context.Gate.approved}}",
        note: "{{context.Gate.comment}}",
      },
    },
  ],
};
export const approvalCalls = ["A", "After"];

/** A, a nap of `durationMs`, then After. */
export function sleepFlow(durationMs: number): OrchestrationInput {
  return {
    name: "Crash sleep",
    steps: [
      { name: "A", roleName: "Worker", inputMapping: { step: "A" } },
      { name: "Nap", stepType: "sleep", duration: durationMs },
      { name: "After", roleName: "Worker", inputMapping: { step: "After", from: "{{context.A}}" } },
    ],
  };
}
export const sleepCalls = ["A", "After"];

export function approve(trpc: TestClient, executionId: string) {
  return trpc.orchestrationManagement.approve.mutate({
    executionId,
    stepName: "Gate",
    approved: true,
    comment: "ship it",
  });
}

/** `outcomeOf` with the values no two runs share blanked: an approval's time and principal, a sleep's end. */
export function timelessOutcome(status: ExecutionStatus) {
  return blankTimes(outcomeOf(status) as unknown as JsonValue);
}

function blankTimes(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(blankTimes);
  if (value === null || typeof value !== "object") return value;
  const decision = "approved" in value && "at" in value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (key === "sleptUntil" || (decision && (key === "at" || key === "by"))) return [key, "(varies)"];
      return [key, blankTimes(item)];
    }),
  );
}

/** The child executions `executionId` started, oldest first, as listExecutions shows them. */
export async function childrenOf(trpc: TestClient, executionId: string) {
  const { items } = await trpc.orchestrationManagement.listExecutions.query({
    parentExecutionId: executionId,
  });
  return items.toReversed();
}

/** The child execution ids in the order the run's orchestration step started them (its attempts). */
export function childIdsOf(status: ExecutionStatus, stepName = "Sub"): (string | null)[] {
  return status.stepLogs
    .filter((step) => step.name === stepName)
    .flatMap((step) => step.attempts.map((attempt) => attempt.childExecutionId));
}

/** The keys of what the execution still owes other objects (its outbox), read from storage. */
export async function outboxOf(executionId: string): Promise<string[]> {
  return runInDurableObject(executionObject(executionId), async (_, state) => [
    ...(await state.storage.list({ prefix: "outbox:" })).keys(),
  ]);
}

/** Forgets everything the execution owes other objects, standing in for a delivery that was lost. */
export async function loseOutbox(executionId: string): Promise<void> {
  await runInDurableObject(executionObject(executionId), async (_, state) => {
    await state.storage.delete([...(await state.storage.list({ prefix: "outbox:" })).keys()]);
  });
}

/** The approval the control run waits for, given once its gate waits. */
export async function approveWhenWaiting(trpc: Parameters<typeof approve>[0], executionId: string) {
  await waitFor(
    () => statusOf(trpc, executionId),
    (status) => status.stepLogs.some((step) => step.name === "Gate" && step.status === "waiting"),
  );
  await approve(trpc, executionId);
}

/**
 * Starts `definition` with the call `held` held, arms `point` and lets the call go: the object dies at
 * the next pass through `point`.
 */
export async function crashWhileHeld(
  definition: OrchestrationInput,
  held: string,
  point: FaultPoint,
  { children = [], skip = 0 }: { children?: OrchestrationInput[]; skip?: number } = {},
) {
  const rig = await crashRig(definition, children);
  const call = rig.model.hold(held);
  const executionId = await rig.execute();
  await call.called();
  armFault(executionId, point, { skip });
  call.release();
  await crashed(executionId);
  return { ...rig, executionId };
}

/** Restarts the crashed execution through its pending alarm and waits for the run to end. */
export async function finish(rig: Awaited<ReturnType<typeof crashWhileHeld>>) {
  await restart(rig.executionId);
  return waitForEnd(rig.trpc, rig.executionId);
}

/** Every call once, except those in `again` (called that many times). */
export function callsOnce(
  keys: readonly string[],
  again: Partial<Record<string, number>> = {},
): Record<string, number> {
  return Object.fromEntries(keys.map((key) => [key, again[key] ?? 1]));
}

/** Every call's attempts succeeded at once, except those in `cutOff` (interrupted first). */
export function succeededOnce(keys: readonly string[], cutOff: readonly string[] = []) {
  return Object.fromEntries(
    keys.map((key) => [key, cutOff.includes(key) ? ["interrupted", "succeeded"] : ["succeeded"]]),
  );
}
