// Agent code and the control-flow kinds: a meta role creates and runs an orchestration with a loop and a
// forEach, approves a waiting step with approve_step, resumes a failed run with resume_execution and
// re-runs one with rerun_execution; bad requests throw the error each names (ValidationError,
// NotFoundError, PreconditionFailed, ConflictError) and change nothing.
import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { metaTenant, runCode } from "../helpers/agent-code";
import type { TestClient } from "../helpers/client";
import { flowWith, logNamed, startRun, statusOf, waitForStep } from "../helpers/control-flow";
import { waitForEnd } from "../helpers/executions";
import { providerFailure, type StepInput } from "../helpers/runs";

/** Runs `code` as the designer and returns its result, failing the test with the error when it threw. */
async function resultOf<T>(trpc: TestClient, code: string): Promise<T> {
  const run = await runCode(trpc, code);
  expect(run.error, JSON.stringify(run.error)).toBeNull();
  return run.result as T;
}

/** Code that makes each call in `calls` (an expression per label) and returns "ok" or "<name>: <message>". */
function outcomesCode(calls: Record<string, string>): string {
  const entries = Object.entries(calls)
    .map(([label, call]) => `  [${JSON.stringify(label)}, () => ${call}],`)
    .join("\n");
  return `const calls: [string, () => Promise<unknown>][] = [\n${entries}\n];
const outcomes: Record<string, string> = {};
for (const [label, call] of calls) {
  try {
    await call();
    outcomes[label] = "ok";
  } catch (e) {
    outcomes[label] = (e as Error).name + ": " + (e as Error).message;
  }
}
return outcomes;`;
}

const approvals: StepInput[] = [
  { name: "Sign off", stepType: "approval", message: "Ship {{context.input.release}}?" },
  { name: "Second look", stepType: "approval" },
  { name: "Ship", inputMapping: { decision: "{{context['Sign off']}}" } },
];

describe("agent code with loops and forEach", () => {
  it("creates an orchestration with a loop and a forEach, runs it, and gets each kind's output", async () => {
    const { trpc, designer } = await metaTenant();
    await flowWith(trpc, [{ name: "Warm up" }], (input) =>
      input.request ? JSON.stringify({ tasks: ["a", "b", "c"] }) : `done ${input.task ?? input.round}`,
    );
    const result = await resultOf<{ id: string; steps: unknown[]; executionId: string }>(
      trpc,
      `const flow = await create_orchestration({
  name: "Plan, fan out, polish",
  steps: [
    { name: "Plan", roleName: "Worker", inputMapping: { request: "{{context.input.request}}" }, outputFormat: "json", outputMapping: { plan: "{{output}}" } },
    { name: "Each task", stepType: "forEach", items: "{{context.plan.tasks}}", concurrency: 2, steps: [
      { name: "Do", roleName: "Worker", inputMapping: { task: "{{item}}" } },
    ] },
    { name: "Polish", stepType: "loop", maxIterations: 2, steps: [
      { name: "Pass", roleName: "Worker", inputMapping: { round: "{{iteration}}" } },
    ] },
  ],
});
const run = await execute_orchestration({ orchestrationId: flow.name, input: { request: "build it" } });
return { id: flow.id, steps: flow.steps, executionId: run.id };`,
    );
    expect(result.steps[1]).toMatchObject({
      stepType: "forEach",
      concurrency: 2,
      steps: [{ timeout: 300_000 }],
    });
    expect(result.steps[2]).toMatchObject({ stepType: "loop", maxIterations: 2 });
    const orchestration = await trpc.orchestrationManagement.get.query({ nameOrId: result.id });
    expect(orchestration).toMatchObject({ createdBy: `role:${designer.id}`, warnings: [] });

    const status = await waitForEnd(trpc, result.executionId);
    expect(status.status).toBe("completed");
    expect(status.context["Each task"]).toEqual(["done a", "done b", "done c"]);
    expect(status.context.Polish).toEqual({ iterations: 2, outputs: ["done 0", "done 1"] });
  });

  it("refuses a loop without maxIterations with a ValidationError naming the field", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(
      trpc,
      `await create_orchestration({ name: "Endless", steps: [{ name: "Again", stepType: "loop", steps: [{ name: "Once" }] }] });`,
    );
    expect(run.error).toMatchObject({
      name: "ValidationError",
      code: "BAD_REQUEST",
      message:
        "create_orchestration: steps[0].maxIterations: is required: the most times the body runs, from 1 to 100",
    });
    expect((await trpc.orchestrationManagement.list.query()).items).toEqual([]);
  });
});

describe("approve_step", () => {
  it("approves a waiting step with a comment and data, which later steps read", async () => {
    const { trpc, designer } = await metaTenant();
    const flow = await flowWith(trpc, approvals, (input) => JSON.stringify(input.decision));
    const executionId = await startRun(trpc, flow.id, { release: "v2" });
    const waiting = await waitForStep(trpc, executionId, "Sign off", "waiting");
    expect(logNamed(waiting, "Sign off").wait).toMatchObject({ kind: "approval", message: "Ship v2?" });

    const approved = await resultOf<ExecutionStatus>(
      trpc,
      `return await approve_step({ executionId: ${JSON.stringify(executionId)}, stepName: "Sign off", approved: true, comment: "ship it", data: { ticket: 7 } });`,
    );
    const decision = {
      approved: true,
      comment: "ship it",
      data: { ticket: 7 },
      by: `role:${designer.id}`,
      at: expect.any(String),
    };
    expect(logNamed(approved, "Sign off")).toMatchObject({ status: "completed", output: decision });

    await waitForStep(trpc, executionId, "Second look", "waiting");
    await resultOf(
      trpc,
      `await system.approve_step({ executionId: "${executionId}", stepName: "Second look", approved: false });`,
    );
    const done = await waitForEnd(trpc, executionId);
    expect(done.status).toBe("completed");
    expect(logNamed(done, "Second look").output).toMatchObject({
      approved: false,
      comment: null,
      data: null,
    });
    expect(logNamed(done, "Ship").attempts[0]?.input).toEqual({ decision });
  });

  it("refuses what cannot be decided now with the error each names, changing nothing", async () => {
    const { trpc } = await metaTenant();
    const flow = await flowWith(trpc, approvals, () => "shipped");
    const executionId = await startRun(trpc, flow.id, { release: "v3" });
    await waitForStep(trpc, executionId, "Sign off", "waiting");
    await resultOf(
      trpc,
      `await approve_step({ executionId: "${executionId}", stepName: "Sign off", approved: true });`,
    );
    const before = await statusOf(trpc, executionId);

    const id = JSON.stringify(executionId);
    const outcomes = await resultOf<Record<string, string>>(
      trpc,
      outcomesCode({
        decided: `approve_step({ executionId: ${id}, stepName: "Sign off", approved: false })`,
        "not started": `approve_step({ executionId: ${id}, stepName: "Ship", approved: true })`,
        "no such step": `approve_step({ executionId: ${id}, stepName: "Deploy", approved: true })`,
        "no decision": `approve_step({ executionId: ${id}, stepName: "Second look" } as never)`,
        "no such execution": `approve_step({ executionId: "exe_missing", stepName: "Sign off", approved: true })`,
      }),
    );
    expect(outcomes).toEqual({
      decided: expect.stringMatching(
        /^ConflictError: approve_step: step "Sign off" was already approved by role:rol_\w+ at \d{4}-/,
      ),
      "not started": 'ValidationError: approve_step: step "Ship" is an agent step, not an approval',
      "no such step": 'ValidationError: approve_step: this execution has no step named "Deploy"',
      "no decision": "ValidationError: approve_step: approved: must be true (approve) or false (reject)",
      "no such execution": 'NotFoundError: approve_step: execution "exe_missing" was not found',
    });
    expect(await statusOf(trpc, executionId)).toEqual(before);
  });

  it("refuses a step that has not started yet with PreconditionFailed", async () => {
    const { trpc } = await metaTenant();
    const flow = await flowWith(trpc, approvals, () => "shipped");
    const executionId = await startRun(trpc, flow.id, { release: "v4" });
    const before = await waitForStep(trpc, executionId, "Sign off", "waiting");
    const run = await runCode(
      trpc,
      `await approve_step({ executionId: "${executionId}", stepName: "Second look", approved: true });`,
    );
    expect(run.error).toMatchObject({
      name: "PreconditionFailed",
      code: "PRECONDITION_FAILED",
      message: 'approve_step: step "Second look" has not started yet; it is not waiting for approval',
    });
    expect(await statusOf(trpc, executionId)).toEqual(before);
  });
});

describe("resume_execution and rerun_execution", () => {
  /** A run whose one step fails for good on its first call and succeeds on every later one. */
  async function failedRun(trpc: TestClient) {
    let calls = 0;
    const flow = await flowWith(
      trpc,
      [{ name: "Prepare" }, { name: "Flaky", inputMapping: { topic: "{{context.input.topic}}" } }],
      (input) => {
        if (input.topic === undefined) return "prepared";
        calls += 1;
        return calls === 1 ? providerFailure("provider down", false) : `answer ${calls}`;
      },
    );
    const executionId = await startRun(trpc, flow.id, { topic: "wasm" });
    const failed = await waitForEnd(trpc, executionId);
    expect(failed.status).toBe("failed");
    return { flow, executionId, failed };
  }

  it("resumes a failed run from the failed step, keeping what completed", async () => {
    const { trpc } = await metaTenant();
    const { executionId, failed } = await failedRun(trpc);
    const resumed = await resultOf<ExecutionStatus>(
      trpc,
      `return await resume_execution({ executionId: "${executionId}" });`,
    );
    expect(resumed).toMatchObject({ id: executionId, resumes: 1 });
    expect(["running", "completed"]).toContain(resumed.status);
    const done = await waitForEnd(trpc, executionId);
    expect(done).toMatchObject({ status: "completed", output: "answer 2", error: null });
    expect(logNamed(done, "Prepare")).toEqual(logNamed(failed, "Prepare"));

    const again = await runCode(trpc, `await resume_execution({ executionId: "${executionId}" });`);
    expect(again.error).toMatchObject({
      name: "PreconditionFailed",
      message:
        "resume_execution: the execution is completed; only a failed or cancelled execution can be resumed",
    });
  });

  it("re-runs an execution as a new one with the same input and definition version", async () => {
    const { trpc } = await metaTenant();
    const { flow, executionId, failed } = await failedRun(trpc);
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: flow.id,
      updates: { description: "v2" },
    });
    const rerun = await resultOf<ExecutionStatus>(
      trpc,
      `return await system.rerun_execution({ executionId: "${executionId}" });`,
    );
    expect(rerun.id).not.toBe(executionId);
    expect(rerun).toMatchObject({
      orchestrationId: flow.id,
      orchestrationVersion: 1,
      input: { topic: "wasm" },
    });
    expect(await waitForEnd(trpc, rerun.id)).toMatchObject({ status: "completed", output: "answer 2" });
    expect(await statusOf(trpc, executionId)).toEqual(failed);
  });

  it("refuses unknown executions and malformed arguments with NotFoundError and ValidationError", async () => {
    const { trpc } = await metaTenant();
    const outcomes = await resultOf<Record<string, string>>(
      trpc,
      outcomesCode({
        "resume unknown": `resume_execution({ executionId: "exe_missing" })`,
        "rerun unknown": `rerun_execution({ executionId: "exe_missing" })`,
        "resume without id": `resume_execution({} as never)`,
        "rerun with extra": `rerun_execution({ executionId: "exe_missing", input: {} } as never)`,
      }),
    );
    expect(outcomes).toEqual({
      "resume unknown": 'NotFoundError: resume_execution: execution "exe_missing" was not found',
      "rerun unknown": 'NotFoundError: rerun_execution: execution "exe_missing" was not found',
      "resume without id": expect.stringMatching(/^ValidationError: resume_execution: executionId: /),
      "rerun with extra":
        'ValidationError: rerun_execution: unknown field "input"; the fields are executionId',
    });
    expect(await trpc.orchestrationManagement.listExecutions.query()).toMatchObject({ items: [] });
  });
});
