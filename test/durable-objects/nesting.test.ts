// Control-flow kinds inside each other, through the real API and runtime: a forEach inside a loop, a
// branch inside a forEach, a loop per forEach item, child executions per item, and a cancel that
// reaches every nested instance.
import { describe, expect, it } from "vitest";
import { newTenant } from "../helpers/client";
import {
  CallLog,
  flowWith,
  logNamed,
  logsNamed,
  runToEnd,
  startRun,
  statusOf,
  waitForStep,
} from "../helpers/control-flow";
import { waitFor, waitForEnd } from "../helpers/executions";
import { untilAborted } from "../helpers/runs";

describe("nesting", () => {
  it("runs a forEach inside a loop: every item in every iteration, outputs per iteration", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Rounds",
          stepType: "loop",
          maxIterations: 2,
          steps: [
            {
              name: "Each",
              stepType: "forEach",
              items: "{{context.input.items}}",
              steps: [
                {
                  name: "Do",
                  inputMapping: { step: "Do", item: "{{item}}", index: "{{index}}", round: "{{iteration}}" },
                },
              ],
            },
          ],
        },
      ],
      (input) => {
        calls.record(input);
        return `${input.item}@${input.round}`;
      },
    );

    const status = await runToEnd(trpc, orchestration.id, { items: ["p", "q"] });

    expect(status.status).toBe("completed");
    expect(calls.of("Do").map((input) => [input.round, input.index, input.item])).toEqual([
      [0, 0, "p"],
      [0, 1, "q"],
      [1, 0, "p"],
      [1, 1, "q"],
    ]);
    expect(status.output).toEqual({
      iterations: 2,
      outputs: [
        ["p@0", "q@0"],
        ["p@1", "q@1"],
      ],
    });
    expect(logsNamed(status, "Each").map((log) => [log.id, log.forEach?.done])).toEqual([
      ["0.0.0", 2],
      ["0.1.0", 2],
    ]);
    expect(logsNamed(status, "Do").map((log) => [log.id, log.depth])).toEqual([
      ["0.0.0.0.0", 2],
      ["0.0.0.1.0", 2],
      ["0.1.0.0.0", 2],
      ["0.1.0.1.0", 2],
    ]);
  });

  it("runs a branch inside a forEach: each item takes its own arm", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          items: [1, 5, 10],
          steps: [
            {
              name: "Size",
              stepType: "branch",
              branches: [
                {
                  when: { field: "item", operator: ">", value: 3 },
                  steps: [{ name: "Big", inputMapping: { step: "Big", n: "{{item}}" } }],
                },
              ],
              otherwise: [{ name: "Small", inputMapping: { step: "Small", n: "{{item}}" } }],
            },
          ],
        },
      ],
      (input) => {
        calls.record(input);
        return `${String(input.step).toLowerCase()} ${input.n}`;
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(status.output).toEqual(["small 1", "big 5", "big 10"]);
    expect(calls.counts).toEqual({ Big: 2, Small: 1 });
    expect(logsNamed(status, "Size").map((log) => log.branch?.arms.map((arm) => arm.status))).toEqual([
      ["skipped", "taken"],
      ["taken", "skipped"],
      ["taken", "skipped"],
    ]);
    expect(logsNamed(status, "Big").map((log) => log.id)).toEqual(["0.1.0.0.0", "0.2.0.0.0"]);
  });

  it("runs a loop per forEach item, each item's until reading only its own body outputs", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          items: [2, 3, 1],
          steps: [
            {
              name: "Count up",
              stepType: "loop",
              maxIterations: 10,
              until: { field: "Count.done", operator: "==", value: true },
              steps: [{ name: "Count", inputMapping: { target: "{{item}}", round: "{{iteration}}" } }],
            },
          ],
        },
      ],
      (input) => JSON.stringify({ done: Number(input.round) + 1 >= Number(input.target), at: input.round }),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect((status.output as { iterations: number }[]).map((loop) => loop.iterations)).toEqual([2, 3, 1]);
  });

  it("starts a child execution per forEach item and collects their outputs in item order", async () => {
    const { trpc } = await newTenant();
    await flowWith(
      trpc,
      [{ name: "Sub", inputMapping: { topic: "{{context.input.topic}}" } }],
      (input) => `about ${input.topic}`,
      {
        name: "Child flow",
      },
    );
    const parent = await trpc.orchestrationManagement.create.mutate({
      name: "Fan out",
      steps: [
        {
          name: "Each",
          stepType: "forEach",
          items: ["a", "b", "c"],
          concurrency: 2,
          steps: [
            {
              name: "Delegate",
              stepType: "orchestration",
              orchestrationId: "Child flow",
              inputMapping: { topic: "{{item}}" },
            },
          ],
        },
      ],
    });

    const status = await runToEnd(trpc, parent.id);

    expect(status.status).toBe("completed");
    expect(status.output).toEqual(["about a", "about b", "about c"]);
    const children = logsNamed(status, "Delegate").map((log) => log.childExecutionId);
    const listed = await trpc.orchestrationManagement.listExecutions.query({ parentExecutionId: status.id });
    expect(listed.items.map((item) => item.id).sort()).toEqual([...children].sort());
    const second = await statusOf(trpc, children[1] ?? "");
    expect(second.parent).toEqual({ executionId: status.id, stepName: "Delegate", instanceId: "0.1.0" });
  });

  it("runs a forEach inside a forEach, the inner items from the outer item, reading the run's context", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(
      trpc,
      [
        { name: "Plan", inputMapping: { step: "Plan" } },
        {
          name: "Outer",
          stepType: "forEach",
          items: [[1, 2], [3]],
          steps: [
            {
              name: "Inner",
              stepType: "forEach",
              items: "{{item}}",
              steps: [
                {
                  name: "Do",
                  inputMapping: { step: "Do", n: "{{item}}", at: "{{index}}", plan: "{{context.Plan}}" },
                },
              ],
            },
          ],
        },
      ],
      (input) => (input.step === "Plan" ? "plan" : `${input.n}#${input.at} of ${input.plan}`),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(status.output).toEqual([["1#0 of plan", "2#1 of plan"], ["3#0 of plan"]]);
  });

  it("revises in a loop until a person approves, the approval's comment reaching the next draft", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Revise",
          stepType: "loop",
          maxIterations: 3,
          until: { field: "Review.approved", operator: "==", value: true },
          steps: [
            {
              name: "Draft",
              inputMapping: { step: "Draft", note: "{{context.Review.comment}}", n: "{{iteration}}" },
            },
            { name: "Review", stepType: "approval", message: "Draft {{iteration}}: {{context.Draft}}" },
          ],
        },
      ],
      (input) => {
        calls.record(input);
        return `draft ${input.n}`;
      },
    );
    const id = await startRun(trpc, orchestration.id);
    const first = await waitForStep(trpc, id, "Review", "waiting");
    expect(logNamed(first, "Review").wait).toMatchObject({ message: "Draft 0: draft 0" });

    await trpc.orchestrationManagement.approve.mutate({
      executionId: id,
      stepName: "Review",
      approved: false,
      comment: "shorter",
    });
    const second = await waitFor(
      () => statusOf(trpc, id),
      (status) => logsNamed(status, "Review").some((log) => log.id === "0.1.1" && log.status === "waiting"),
    );
    expect(
      logsNamed(second, "Review").map((log) => log.wait?.kind === "approval" && log.wait.message),
    ).toEqual([false, "Draft 1: draft 1"]);
    await trpc.orchestrationManagement.approve.mutate({
      executionId: id,
      stepName: "Review",
      approved: true,
    });
    const status = await waitForEnd(trpc, id);

    expect(status.status).toBe("completed");
    expect(calls.of("Draft").map((input) => input.note)).toEqual(["", "shorter"]);
    expect(status.output).toMatchObject({
      iterations: 2,
      outputs: [{ approved: false, comment: "shorter" }, { approved: true }],
    });
  });

  it("cancels every running instance at every depth when the run is cancelled", async () => {
    const { trpc } = await newTenant();
    let aborted = 0;
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Rounds",
          stepType: "loop",
          maxIterations: 3,
          steps: [{ name: "Each", stepType: "forEach", items: [1, 2, 3], steps: [{ name: "Do" }] }],
        },
        { name: "After" },
      ],
      async (_input, signal) => {
        const reply = await untilAborted(signal);
        aborted += 1;
        return reply;
      },
    );
    const id = await startRun(trpc, orchestration.id);
    await waitFor(
      () => statusOf(trpc, id),
      (status) => logsNamed(status, "Do").filter((log) => log.status === "running").length === 3,
    );

    const cancelled = await trpc.orchestrationManagement.cancel.mutate({ executionId: id });

    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.stepLogs.map((log) => [log.id, log.name, log.status])).toEqual([
      ["0", "Rounds", "cancelled"],
      ["0.0.0", "Each", "cancelled"],
      ["0.0.0.0.0", "Do", "cancelled"],
      ["0.0.0.1.0", "Do", "cancelled"],
      ["0.0.0.2.0", "Do", "cancelled"],
      ["1", "After", "cancelled"],
    ]);
    expect(logNamed(cancelled, "Each").forEach?.items).toEqual(["cancelled", "cancelled", "cancelled"]);
    await waitFor(
      async () => aborted,
      (count) => count === 3,
    );
  });
});
