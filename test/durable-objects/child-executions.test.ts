// Orchestration steps through the real API and runtime: a child execution's output becomes the step's,
// the child links to its parent and the parent's log to the child; a failing child fails the step and a
// retry starts a new child; a missing (or another tenant's) orchestration and nesting deeper than 5 are
// refused clearly; cancelling the parent cancels the child.
import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { newTenant, type TestClient } from "../helpers/client";
import {
  CallLog,
  flowWith,
  logNamed,
  runToEnd,
  type StepScript,
  startRun,
  statusOf,
  waitForStep,
} from "../helpers/control-flow";
import { waitFor, waitForEnd } from "../helpers/executions";
import { gate, providerFailure, type StepInput, untilAborted } from "../helpers/runs";

const delegate = (orchestrationId: string, extra: Partial<StepInput> = {}): StepInput[] => [
  {
    name: "Delegate",
    stepType: "orchestration",
    orchestrationId,
    inputMapping: { topic: "{{context.input.topic}}", from: "parent" },
    ...extra,
  } as StepInput,
  { name: "After", inputMapping: { step: "After", got: "{{context.Delegate}}" } },
];

/** A child orchestration "Child flow" (one step, "Sub") and a parent whose step "Delegate" runs it. */
async function parentAndChild(trpc: TestClient, script: StepScript, extra: Partial<StepInput> = {}) {
  const child = await flowWith(
    trpc,
    [
      {
        name: "Sub",
        inputMapping: { step: "Sub", topic: "{{context.input.topic}}", from: "{{context.input.from}}" },
      },
    ],
    script,
    { name: "Child flow" },
  );
  const parent = await trpc.orchestrationManagement.create.mutate({
    name: "Parent flow",
    steps: delegate("Child flow", extra).map((step) =>
      step.stepType === "orchestration" ? step : { ...step, roleName: "Worker" },
    ),
  });
  return { child, parent };
}

const childIdOf = (status: ExecutionStatus) => logNamed(status, "Delegate").childExecutionId ?? "";

/** Waits until the parent's step has started a child, and returns the child's id. */
async function childStarted(trpc: TestClient, parentId: string): Promise<string> {
  const status = await waitFor(
    () => statusOf(trpc, parentId),
    (current) => childIdOf(current) !== "",
  );
  const childId = childIdOf(status);
  // The id is chosen when the attempt starts; the child itself starts a moment later.
  await waitFor(
    () => statusOf(trpc, childId).catch(() => undefined),
    (child) => child !== undefined,
  );
  return childId;
}

describe("orchestration step", () => {
  it("waits for its child; the child's output is the step's output, and the run goes on", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const { parent, child } = await parentAndChild(trpc, (input) => {
      calls.record(input);
      return input.step === "Sub"
        ? JSON.stringify({ summary: `child on ${input.topic} from ${input.from}` })
        : JSON.stringify({ after: input.got });
    });

    const status = await runToEnd(trpc, parent.id, { topic: "owls" });

    expect(status.status).toBe("completed");
    const step = logNamed(status, "Delegate");
    expect(step).toMatchObject({ status: "completed", stepType: "orchestration" });
    expect(step.output).toEqual({ summary: "child on owls from parent" });
    expect(status.output).toEqual({ after: { summary: "child on owls from parent" } });
    expect(calls.counts).toEqual({ Sub: 1, After: 1 });

    const childId = childIdOf(status);
    expect(childId).toMatch(/^exe_/);
    expect(step.attempts.map((a) => [a.status, a.childExecutionId])).toEqual([["succeeded", childId]]);
    const childStatus = await statusOf(trpc, childId);
    expect(childStatus).toMatchObject({
      status: "completed",
      orchestrationId: child.id,
      input: { topic: "owls", from: "parent" },
      output: { summary: "child on owls from parent" },
      parent: { executionId: status.id, stepName: "Delegate", instanceId: "0" },
      depth: 1,
    });
    expect(status.parent).toBeNull();

    const listed = await trpc.orchestrationManagement.listExecutions.query({ parentExecutionId: status.id });
    expect(listed.items.map((item) => [item.id, item.parentExecutionId, item.status])).toEqual([
      [childId, status.id, "completed"],
    ]);
  });

  it("shows the step waiting on its child while the child runs", async () => {
    const { trpc } = await newTenant();
    const hold = gate<string>();
    const { parent } = await parentAndChild(trpc, (input) => (input.step === "Sub" ? hold.promise : "after"));
    const parentId = await startRun(trpc, parent.id, { topic: "t" });
    const childId = await childStarted(trpc, parentId);
    await waitForStep(trpc, childId, "Sub", "running");

    const waiting = logNamed(await statusOf(trpc, parentId), "Delegate");
    hold.open("child done");

    expect(waiting).toMatchObject({ status: "waiting", wait: { kind: "child", executionId: childId } });
    expect((await waitForEnd(trpc, parentId)).status).toBe("completed");
  });

  it("fails the step and the run when the child fails", async () => {
    const { trpc } = await newTenant();
    const { parent } = await parentAndChild(trpc, () => providerFailure("child broke", false));

    const status = await runToEnd(trpc, parent.id);

    expect(status.status).toBe("failed");
    const childId = childIdOf(status);
    expect(status.error).toBe(
      `step "Delegate" failed after 1 attempt: child execution ${childId} failed: step "Sub" failed after 1 attempt: child broke`,
    );
    expect(logNamed(status, "After").status).toBe("cancelled");
    expect((await statusOf(trpc, childId)).status).toBe("failed");
  });

  it("starts a new child on retry (maxRetries), each attempt linked to its own child", async () => {
    const { trpc } = await newTenant();
    let subCalls = 0;
    const { parent } = await parentAndChild(
      trpc,
      (input) => {
        if (input.step !== "Sub") return "after";
        subCalls += 1;
        return subCalls === 1 ? providerFailure("first child fails", false) : "second child works";
      },
      { maxRetries: 2, retryDelay: 0 },
    );

    const status = await runToEnd(trpc, parent.id);

    expect(status.status).toBe("completed");
    const attempts = logNamed(status, "Delegate").attempts;
    expect(attempts.map((a) => a.status)).toEqual(["failed", "succeeded"]);
    const [first, second] = attempts.map((a) => a.childExecutionId ?? "");
    expect(first).not.toBe(second);
    expect(logNamed(status, "Delegate").childExecutionId).toBe(second);
    expect((await statusOf(trpc, first ?? "")).status).toBe("failed");
    expect((await statusOf(trpc, second ?? "")).output).toBe("second child works");
    const listed = await trpc.orchestrationManagement.listExecutions.query({ parentExecutionId: status.id });
    expect(listed.items.map((item) => item.id).sort()).toEqual([first, second].sort());
  });

  it("fails the step without retrying when the child orchestration does not exist", async () => {
    const { trpc } = await newTenant();
    await flowWith(trpc, [{ name: "Unused" }], () => "unused", { name: "Unused" });
    const parent = await trpc.orchestrationManagement.create.mutate({
      name: "Parent flow",
      steps: [
        {
          name: "Delegate",
          stepType: "orchestration",
          orchestrationId: "Nowhere",
          maxRetries: 3,
          retryDelay: 0,
        },
      ],
    });

    const status = await runToEnd(trpc, parent.id);

    expect(status.status).toBe("failed");
    const step = logNamed(status, "Delegate");
    expect(step.attempts).toHaveLength(1);
    expect(step.attempts[0]?.errorKind).toBe("config");
    expect(status.error).toMatch(
      /^step "Delegate" failed after 1 attempt: orchestration "Nowhere" was not found$/,
    );
    const listed = await trpc.orchestrationManagement.listExecutions.query({ parentExecutionId: status.id });
    expect(listed.items).toEqual([]);
  });

  it("does not find another tenant's orchestration, by name or by id", async () => {
    const other = await newTenant("other");
    const secret = await flowWith(other.trpc, [{ name: "Secret step" }], () => "secret output", {
      name: "Secret flow",
    });
    const { trpc } = await newTenant();

    for (const orchestrationId of ["Secret flow", secret.id]) {
      const parent = await trpc.orchestrationManagement.create.mutate({
        name: `Parent of ${orchestrationId}`,
        steps: [{ name: "Delegate", stepType: "orchestration", orchestrationId }],
      });
      const status = await runToEnd(trpc, parent.id);
      expect(status.status).toBe("failed");
      expect(status.error).toContain("not found");
    }
    expect((await other.trpc.orchestrationManagement.listExecutions.query({})).items).toEqual([]);
  });

  it("fails the step without retrying when its child is cancelled", async () => {
    const { trpc } = await newTenant();
    const { parent } = await parentAndChild(trpc, (_input, signal) => untilAborted(signal), {
      maxRetries: 2,
      retryDelay: 0,
    });
    const parentId = await startRun(trpc, parent.id);
    const childId = await childStarted(trpc, parentId);
    await waitForStep(trpc, childId, "Sub", "running");

    await trpc.orchestrationManagement.cancel.mutate({ executionId: childId });
    const status = await waitForEnd(trpc, parentId);

    expect(status.status).toBe("failed");
    expect(logNamed(status, "Delegate").attempts).toHaveLength(1);
    expect(status.error).toContain(`child execution ${childId} cancelled`);
  });

  it("cancels the running child when the parent is cancelled", async () => {
    const { trpc } = await newTenant();
    let childSawAbort = false;
    const { parent } = await parentAndChild(trpc, async ({ step }, signal) => {
      if (step !== "Sub") return "after";
      const reply = await untilAborted(signal);
      childSawAbort = true;
      return reply;
    });
    const parentId = await startRun(trpc, parent.id);
    const childId = await childStarted(trpc, parentId);
    await waitForStep(trpc, childId, "Sub", "running");

    const cancelled = await trpc.orchestrationManagement.cancel.mutate({ executionId: parentId });

    expect(cancelled.status).toBe("cancelled");
    expect(logNamed(cancelled, "Delegate")).toMatchObject({
      status: "cancelled",
      attempts: [{ status: "cancelled" }],
    });
    const child = await waitFor(
      () => statusOf(trpc, childId),
      (status) => status.status === "cancelled",
    );
    expect(logNamed(child, "Sub").status).toBe("cancelled");
    expect(childSawAbort).toBe(true);
    // The parent stays cancelled: the child's end notice changes nothing.
    expect(await statusOf(trpc, parentId)).toEqual(cancelled);
  });
});

describe("cancelling down a chain", () => {
  it("cancels the grandchild too when the top run is cancelled", async () => {
    const { trpc } = await newTenant();
    await flowWith(trpc, [{ name: "Leaf" }], (_input, signal) => untilAborted(signal), { name: "L2" });
    await trpc.orchestrationManagement.create.mutate({
      name: "L1",
      steps: [{ name: "To L2", stepType: "orchestration", orchestrationId: "L2" }],
    });
    const top = await trpc.orchestrationManagement.create.mutate({
      name: "L0",
      steps: [{ name: "To L1", stepType: "orchestration", orchestrationId: "L1" }],
    });
    const id = await startRun(trpc, top.id);
    const runs = await waitFor(
      () => trpc.orchestrationManagement.listExecutions.query({}),
      (page) => page.items.length === 3,
    );
    const leafRun = runs.items.find((run) => run.orchestrationName === "L2")?.id ?? "";
    await waitForStep(trpc, leafRun, "Leaf", "running");

    await trpc.orchestrationManagement.cancel.mutate({ executionId: id });

    const ended = await waitFor(
      () => trpc.orchestrationManagement.listExecutions.query({}),
      (page) => page.items.every((run) => run.status === "cancelled"),
    );
    expect(ended.items.map((run) => run.orchestrationName).sort()).toEqual(["L0", "L1", "L2"]);
    expect(logNamed(await statusOf(trpc, leafRun), "Leaf").attempts.map((a) => a.status)).toEqual([
      "cancelled",
    ]);
  });
});

describe("orchestration step options", () => {
  it("runs the child version the step pins, or the current one", async () => {
    const { trpc } = await newTenant();
    const child = await flowWith(trpc, [{ name: "V1", inputMapping: { v: 1 } }], (input) => `v${input.v}`, {
      name: "Child flow",
    });
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: child.id,
      updates: { steps: [{ name: "V2", roleName: "Worker", inputMapping: { v: 2 } }] },
    });
    const parent = await trpc.orchestrationManagement.create.mutate({
      name: "Parent flow",
      steps: [
        {
          name: "Pinned",
          stepType: "orchestration",
          orchestrationId: "Child flow",
          version: 1,
          parallelGroup: "g",
        },
        { name: "Current", stepType: "orchestration", orchestrationId: child.id, parallelGroup: "g" },
        {
          name: "No such version",
          stepType: "orchestration",
          orchestrationId: "Child flow",
          version: 7,
          continueOnError: true,
        },
      ],
    });

    const status = await runToEnd(trpc, parent.id);

    expect(status.status).toBe("completed");
    expect([status.context.Pinned, status.context.Current]).toEqual(["v1", "v2"]);
    expect(status.context["No such version"]).toEqual({
      error:
        'step "No such version" failed after 1 attempt: version 7 of orchestration "Child flow" does not exist yet; "Child flow" is at version 2',
    });
  });

  it("refuses an inactive child orchestration and one whose role is missing, without retrying", async () => {
    const { trpc } = await newTenant();
    await trpc.orchestrationManagement.create.mutate({
      name: "Off",
      isActive: false,
      steps: [{ name: "L" }],
    });
    await trpc.orchestrationManagement.create.mutate({
      name: "No role",
      steps: [{ name: "L", roleName: "Ghost" }],
    });
    const parent = await trpc.orchestrationManagement.create.mutate({
      name: "Parent flow",
      steps: [
        {
          name: "A",
          stepType: "orchestration",
          orchestrationId: "Off",
          continueOnError: true,
          maxRetries: 2,
        },
        {
          name: "B",
          stepType: "orchestration",
          orchestrationId: "No role",
          continueOnError: true,
          maxRetries: 2,
        },
      ],
    });

    const status = await runToEnd(trpc, parent.id);

    expect(status.status).toBe("completed");
    expect(status.context.A).toEqual({
      error: 'step "A" failed after 1 attempt: orchestration "Off" is inactive; set isActive: true to run it',
    });
    expect(status.context.B).toEqual({
      error: 'step "B" failed after 1 attempt: cannot start: missing role(s) "Ghost"; create them first',
    });
    // Neither child ever existed, so neither step links to one.
    expect(logNamed(status, "A").attempts.map((a) => a.childExecutionId)).toEqual([null]);
    expect(logNamed(status, "B").childExecutionId).toBeNull();
    expect(
      await trpc.orchestrationManagement.listExecutions.query({ parentExecutionId: status.id }),
    ).toMatchObject({
      items: [],
    });
  });

  it("cancels a child that outlives the step's timeout, and the attempt times out", async () => {
    const { trpc } = await newTenant();
    const { parent } = await parentAndChild(trpc, (_input, signal) => untilAborted(signal), {
      timeout: 1000,
    });

    const status = await runToEnd(trpc, parent.id);

    const childId = childIdOf(status);
    const error = `child execution ${childId} did not finish within 1000 ms`;
    expect(status.status).toBe("failed");
    expect(status.error).toBe(`step "Delegate" failed after 1 attempt: ${error}`);
    expect(logNamed(status, "Delegate").attempts.map((a) => [a.status, a.error])).toEqual([
      ["timed_out", error],
    ]);
    const child = await waitFor(
      () => statusOf(trpc, childId),
      (current) => current.status === "cancelled",
    );
    expect(child.error).toBe("timeout");
  });
});

describe("nesting depth", () => {
  /** Orchestrations L0 -> L1 -> ... -> L<levels>, each calling the next; the last one is a model step. */
  async function chain(trpc: TestClient, levels: number) {
    const first = await flowWith(
      trpc,
      [{ name: "Leaf", inputMapping: { step: "Leaf" } }],
      () => "leaf output",
      {
        name: `L${levels}`,
      },
    );
    let top = first;
    for (let level = levels - 1; level >= 0; level--) {
      top = await trpc.orchestrationManagement.create.mutate({
        name: `L${level}`,
        steps: [{ name: `Call L${level + 1}`, stepType: "orchestration", orchestrationId: `L${level + 1}` }],
      });
    }
    return top;
  }

  it("runs a chain of children 5 deep", async () => {
    const { trpc } = await newTenant();
    const top = await chain(trpc, 5);

    const status = await runToEnd(trpc, top.id);

    expect(status.status).toBe("completed");
    expect(status.output).toBe("leaf output");
  });

  it("refuses to start a child 6 deep, failing the chain with a clear error", async () => {
    const { trpc } = await newTenant();
    const top = await chain(trpc, 6);

    const status = await runToEnd(trpc, top.id);

    const refusal =
      'step "Call L6" failed after 1 attempt: starting "L6" would nest executions 6 deep; the limit is 5 (maxRunDepth)';
    expect(status.status).toBe("failed");
    expect(status.error).toContain(refusal);
    const runs = (await trpc.orchestrationManagement.listExecutions.query({})).items;
    expect(runs.map((run) => run.orchestrationName).sort()).toEqual(["L0", "L1", "L2", "L3", "L4", "L5"]);
    const l5 = await statusOf(trpc, runs.find((run) => run.orchestrationName === "L5")?.id ?? "");
    expect(l5).toMatchObject({ status: "failed", depth: 5 });
    expect(logNamed(l5, "Call L6").error).toBe(refusal);
  });
});
