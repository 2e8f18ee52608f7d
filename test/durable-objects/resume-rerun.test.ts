// Resume and re-run through the real API and runtime: a failed or cancelled run continues from what
// failed or was cancelled (completed steps are not called again, the failed one gets a fresh retry
// budget), anything else is refused; a re-run is a new execution of the same input and version.
import { describe, expect, it } from "vitest";
import { errorOf, newTenant } from "../helpers/client";
import {
  CallLog,
  flowWith,
  logNamed,
  logsNamed,
  runAlarmOf,
  runToEnd,
  startRun,
  statusOf,
  waitForStep,
} from "../helpers/control-flow";
import { waitFor, waitForEnd } from "../helpers/executions";
import { gate, providerFailure, untilAborted } from "../helpers/runs";

describe("resume", () => {
  it("continues a failed run from the failed step, with a fresh retry budget, without calling completed steps again", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    let failuresLeft = 2;
    const orchestration = await flowWith(
      trpc,
      [
        { name: "A", inputMapping: { step: "A" } },
        { name: "B", maxRetries: 1, retryDelay: 0, inputMapping: { step: "B" } },
        { name: "C", inputMapping: { step: "C", a: "{{context.A}}", b: "{{context.B}}" } },
      ],
      (input) => {
        const n = calls.record(input);
        if (input.step !== "B")
          return input.step === "A" ? "a out" : JSON.stringify({ a: input.a, b: input.b });
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          return providerFailure(`B down (call ${n})`);
        }
        return "b out";
      },
    );
    const failed = await runToEnd(trpc, orchestration.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe('step "B" failed after 2 attempts: B down (call 2)');
    expect(calls.counts).toEqual({ A: 1, B: 2 });

    // After the resume B fails once more, then works: two attempts, as maxRetries 1 allows again.
    failuresLeft = 1;
    const resumed = await trpc.orchestrationManagement.resume.mutate({ executionId: failed.id });
    expect(resumed).toMatchObject({ id: failed.id, status: "running", error: null, resumes: 1 });
    const status = await waitForEnd(trpc, failed.id);

    expect(status.status).toBe("completed");
    expect(calls.counts).toEqual({ A: 1, B: 4, C: 1 });
    expect(logNamed(status, "A").attempts).toHaveLength(1);
    expect(logNamed(status, "B").attempts.map((a) => [a.status, a.error])).toEqual([
      ["failed", "B down (call 1)"],
      ["failed", "B down (call 2)"],
      ["failed", "B down (call 3)"],
      ["succeeded", null],
    ]);
    expect(status.output).toEqual({ a: "a out", b: "b out" });
    expect(status).toMatchObject({ resumes: 1, error: null });
    const listed = await trpc.orchestrationManagement.listExecutions.query({});
    expect(listed.items.map((item) => [item.id, item.status])).toEqual([[failed.id, "completed"]]);
  });

  it("continues a cancelled run: the cancelled step runs again and the rest follows", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    let hold = true;
    const orchestration = await flowWith(
      trpc,
      [
        { name: "Long", inputMapping: { step: "Long" } },
        { name: "Next", inputMapping: { step: "Next" } },
      ],
      (input, signal) => {
        calls.record(input);
        return input.step === "Long" && hold ? untilAborted(signal) : `${input.step} done`;
      },
    );
    const id = await startRun(trpc, orchestration.id);
    await waitForStep(trpc, id, "Long", "running");
    const cancelled = await trpc.orchestrationManagement.cancel.mutate({ executionId: id });
    expect(cancelled.status).toBe("cancelled");

    hold = false;
    await trpc.orchestrationManagement.resume.mutate({ executionId: id });
    const status = await waitForEnd(trpc, id);

    expect(status.status).toBe("completed");
    expect(logNamed(status, "Long").attempts.map((a) => a.status)).toEqual(["cancelled", "succeeded"]);
    expect(calls.counts).toEqual({ Long: 2, Next: 1 });
    expect(status.output).toBe("Next done");
  });

  it("starts a new child when a run cancelled while its child ran is resumed", async () => {
    const { trpc } = await newTenant();
    let hold = true;
    await flowWith(trpc, [{ name: "Sub" }], (_input, signal) => (hold ? untilAborted(signal) : "child ok"), {
      name: "Child flow",
    });
    const parent = await trpc.orchestrationManagement.create.mutate({
      name: "Parent",
      steps: [{ name: "Delegate", stepType: "orchestration", orchestrationId: "Child flow" }],
    });
    const id = await startRun(trpc, parent.id);
    const waiting = await waitForStep(trpc, id, "Delegate", "waiting");
    const firstChild = logNamed(waiting, "Delegate").childExecutionId ?? "";
    await waitFor(
      () => statusOf(trpc, firstChild).catch(() => undefined),
      (child) => child !== undefined && logNamed(child, "Sub").status === "running",
    );
    await trpc.orchestrationManagement.cancel.mutate({ executionId: id });
    await waitFor(
      () => statusOf(trpc, firstChild),
      (child) => child.status === "cancelled",
    );

    hold = false;
    await trpc.orchestrationManagement.resume.mutate({ executionId: id });
    const status = await waitForEnd(trpc, id);

    expect(status).toMatchObject({ status: "completed", output: "child ok" });
    const attempts = logNamed(status, "Delegate").attempts;
    expect(attempts.map((a) => a.status)).toEqual(["cancelled", "succeeded"]);
    expect(attempts[0]?.childExecutionId).toBe(firstChild);
    expect(attempts[1]?.childExecutionId).not.toBe(firstChild);
  });

  it("waits again on an approval and a sleep that a cancel stopped", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(
      trpc,
      [
        { name: "Gate", stepType: "approval" },
        { name: "Nap", stepType: "sleep", duration: 200 },
        { name: "Done", inputMapping: { step: "Done" } },
      ],
      () => "done",
    );
    const id = await startRun(trpc, orchestration.id);
    await waitForStep(trpc, id, "Gate", "waiting");
    await trpc.orchestrationManagement.cancel.mutate({ executionId: id });

    const gateAgain = await trpc.orchestrationManagement.resume.mutate({ executionId: id });
    expect(logNamed(gateAgain, "Gate")).toMatchObject({ status: "waiting", wait: { kind: "approval" } });
    await trpc.orchestrationManagement.approve.mutate({ executionId: id, stepName: "Gate", approved: true });
    await waitForStep(trpc, id, "Nap", "waiting");
    await trpc.orchestrationManagement.cancel.mutate({ executionId: id });
    const napAgain = await trpc.orchestrationManagement.resume.mutate({ executionId: id });
    expect(logNamed(napAgain, "Nap")).toMatchObject({ status: "waiting", wait: { kind: "timer" } });
    const status = await waitForEnd(trpc, id);

    expect(status).toMatchObject({ status: "completed", resumes: 2, output: "done" });
  });

  it("refuses to resume a completed or a running run, changing nothing, and another tenant's run is not found", async () => {
    const { trpc } = await newTenant();
    const hold = gate<string>();
    const orchestration = await flowWith(
      trpc,
      [{ name: "Only", inputMapping: { hold: "{{context.input.hold}}" } }],
      (input) => (input.hold === true ? hold.promise : "done"),
    );
    const completed = await runToEnd(trpc, orchestration.id);
    const running = await startRun(trpc, orchestration.id, { hold: true });
    await waitForStep(trpc, running, "Only", "running");
    const runningBefore = await statusOf(trpc, running);

    const ofCompleted = await errorOf(
      trpc.orchestrationManagement.resume.mutate({ executionId: completed.id }),
    );
    const ofRunning = await errorOf(trpc.orchestrationManagement.resume.mutate({ executionId: running }));
    const stranger = await newTenant("stranger");
    const ofOther = await errorOf(
      stranger.trpc.orchestrationManagement.resume.mutate({ executionId: completed.id }),
    );

    expect([ofCompleted.code, ofCompleted.message]).toEqual([
      "PRECONDITION_FAILED",
      "the execution is completed; only a failed or cancelled execution can be resumed",
    ]);
    expect([ofRunning.code, ofRunning.message]).toEqual([
      "PRECONDITION_FAILED",
      "the execution is running; only a failed or cancelled execution can be resumed",
    ]);
    expect(ofOther.code).toBe("NOT_FOUND");
    expect(await statusOf(trpc, completed.id)).toEqual(completed);
    expect(await statusOf(trpc, running)).toEqual(runningBefore);
    hold.open("released");
    expect((await waitForEnd(trpc, running)).status).toBe("completed");
  });

  it("re-runs only the failed forEach item and the items after it", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    let broken = true;
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          items: ["x", "y", "z"],
          concurrency: 1,
          steps: [{ name: "Do", inputMapping: { step: "Do", item: "{{item}}" } }],
        },
      ],
      (input) => {
        calls.record(input);
        return input.item === "y" && broken ? providerFailure("y broke", false) : `did ${input.item}`;
      },
    );
    const failed = await runToEnd(trpc, orchestration.id);
    expect(failed.status).toBe("failed");

    broken = false;
    await trpc.orchestrationManagement.resume.mutate({ executionId: failed.id });
    const status = await waitForEnd(trpc, failed.id);

    expect(status.status).toBe("completed");
    expect(status.output).toEqual(["did x", "did y", "did z"]);
    expect(calls.of("Do").map((input) => input.item)).toEqual(["x", "y", "y", "z"]);
    expect(logsNamed(status, "Do").map((log) => log.attempts.map((a) => a.status))).toEqual([
      ["succeeded"],
      ["failed", "succeeded"],
      ["succeeded"],
    ]);
  });

  it("continues a loop in the iteration that failed", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    let broken = true;
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Rounds",
          stepType: "loop",
          maxIterations: 3,
          steps: [
            { name: "Steady", inputMapping: { step: "Steady", n: "{{iteration}}" } },
            { name: "Shaky", inputMapping: { step: "Shaky", n: "{{iteration}}" } },
          ],
        },
      ],
      (input) => {
        calls.record(input);
        return input.step === "Shaky" && input.n === 1 && broken
          ? providerFailure("shaky", false)
          : `${input.step} ${input.n}`;
      },
    );
    const failed = await runToEnd(trpc, orchestration.id);
    expect(failed.status).toBe("failed");
    expect(logNamed(failed, "Rounds").loop).toEqual({ iteration: 1, maxIterations: 3 });

    broken = false;
    await trpc.orchestrationManagement.resume.mutate({ executionId: failed.id });
    const status = await waitForEnd(trpc, failed.id);

    expect(status.status).toBe("completed");
    expect(status.output).toEqual({ iterations: 3, outputs: ["Shaky 0", "Shaky 1", "Shaky 2"] });
    expect(calls.of("Steady").map((input) => input.n)).toEqual([0, 1, 2]);
    expect(calls.of("Shaky").map((input) => input.n)).toEqual([0, 1, 1, 2]);
  });

  it("waits for a new decision when a run that failed on an approval's timeout is resumed", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(
      trpc,
      [
        { name: "Gate", stepType: "approval", timeout: 1000, onTimeout: "fail" },
        { name: "After", inputMapping: { step: "After" } },
      ],
      () => "after",
    );
    const id = await startRun(trpc, orchestration.id);
    await runAlarmOf(id);
    const failed = await waitForEnd(trpc, id);
    expect(failed.error).toBe('step "Gate" failed: no approval within 1000 ms');

    const resumed = await trpc.orchestrationManagement.resume.mutate({ executionId: id });
    expect(logNamed(resumed, "Gate")).toMatchObject({ status: "waiting", wait: { kind: "approval" } });
    await trpc.orchestrationManagement.approve.mutate({ executionId: id, stepName: "Gate", approved: true });
    const status = await waitForEnd(trpc, id);

    expect(status.status).toBe("completed");
    expect(logNamed(status, "Gate").output).toMatchObject({ approved: true });
  });

  it("starts a new child when an orchestration step whose child failed is resumed", async () => {
    const { trpc } = await newTenant();
    let broken = true;
    await flowWith(
      trpc,
      [{ name: "Sub", inputMapping: { step: "Sub" } }],
      () => (broken ? providerFailure("child broke", false) : "child ok"),
      { name: "Child flow" },
    );
    const parent = await trpc.orchestrationManagement.create.mutate({
      name: "Parent",
      steps: [{ name: "Delegate", stepType: "orchestration", orchestrationId: "Child flow" }],
    });
    const failed = await runToEnd(trpc, parent.id);
    expect(failed.status).toBe("failed");

    broken = false;
    await trpc.orchestrationManagement.resume.mutate({ executionId: failed.id });
    const status = await waitForEnd(trpc, failed.id);

    expect(status.status).toBe("completed");
    expect(status.output).toBe("child ok");
    const children = logNamed(status, "Delegate").attempts.map((a) => a.childExecutionId);
    expect(children).toHaveLength(2);
    expect(new Set(children).size).toBe(2);
  });
});

describe("rerun", () => {
  it("starts a new execution with the same input and definition version, even after the orchestration changed", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(
      trpc,
      [{ name: "Version one", inputMapping: { step: "one", topic: "{{context.input.topic}}" } }],
      (input) => {
        calls.record(input);
        return `${input.step} on ${input.topic}`;
      },
    );
    const first = await runToEnd(trpc, orchestration.id, { topic: "owls" });
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: orchestration.id,
      updates: {
        steps: [
          {
            name: "Version two",
            roleName: "Worker",
            inputMapping: { step: "two", topic: "{{context.input.topic}}" },
          },
        ],
      },
    });

    const again = await trpc.orchestrationManagement.rerun.mutate({ executionId: first.id });
    const status = await waitForEnd(trpc, again.id);

    expect(again.id).not.toBe(first.id);
    expect(status).toMatchObject({
      status: "completed",
      orchestrationId: orchestration.id,
      orchestrationVersion: 1,
      input: { topic: "owls" },
      output: "one on owls",
    });
    expect(status.stepLogs.map((log) => log.name)).toEqual(["Version one"]);
    expect(calls.counts).toEqual({ one: 2 });
    expect(await statusOf(trpc, first.id)).toEqual(first);
    const fresh = await runToEnd(trpc, orchestration.id, { topic: "owls" });
    expect([fresh.orchestrationVersion, fresh.output]).toEqual([2, "two on owls"]);
  });

  it("lets execute run an earlier version by number, and refuses one that does not exist", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(
      trpc,
      [{ name: "Old", inputMapping: { v: 1 } }],
      (input) => `v${input.v}`,
    );
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: orchestration.id,
      updates: { steps: [{ name: "New", roleName: "Worker", inputMapping: { v: 2 } }] },
    });

    const pinned = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: orchestration.id,
      version: 1,
    });
    const missing = await errorOf(
      trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id, version: 9 }),
    );

    expect(await waitForEnd(trpc, pinned.id)).toMatchObject({ orchestrationVersion: 1, output: "v1" });
    expect(missing.code).toBe("NOT_FOUND");
  });

  it("re-runs a failed run as a new execution, and refuses another tenant's run as not found", async () => {
    const { trpc } = await newTenant();
    let broken = true;
    const orchestration = await flowWith(trpc, [{ name: "Only" }], () =>
      broken ? providerFailure("down", false) : "up",
    );
    const failed = await runToEnd(trpc, orchestration.id, { n: 1 });
    broken = false;

    const again = await trpc.orchestrationManagement.rerun.mutate({ executionId: failed.id });
    const stranger = await newTenant("stranger");
    const ofOther = await errorOf(
      stranger.trpc.orchestrationManagement.rerun.mutate({ executionId: failed.id }),
    );

    expect((await waitForEnd(trpc, again.id)).output).toBe("up");
    expect((await statusOf(trpc, failed.id)).status).toBe("failed");
    expect(ofOther.code).toBe("NOT_FOUND");
    expect((await stranger.trpc.orchestrationManagement.listExecutions.query({})).items).toEqual([]);
  });
});
