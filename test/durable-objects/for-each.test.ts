// forEach through the real API and runtime: a planner's list drives one body run per item, at most
// `concurrency` at once, the output in item order; bad item lists fail clearly; an empty list gives [];
// 100 items over the local model finish inside the execute call, as a 100-wide parallel group does.
import { describe, expect, it } from "vitest";
import { newTenant } from "../helpers/client";
import { CallLog, flowWith, InFlight, logNamed, logsNamed, runToEnd } from "../helpers/control-flow";
import { providerFailure, type StepInput } from "../helpers/runs";

const planThenEach = (tasks: unknown, concurrency?: number): StepInput[] => [
  {
    name: "Plan",
    inputMapping: { step: "Plan", tasks: JSON.stringify(tasks) },
    outputMapping: { plan: "{{output}}" },
  },
  {
    name: "Each",
    stepType: "forEach",
    items: "{{context.plan.tasks}}",
    ...(concurrency === undefined ? {} : { concurrency }),
    steps: [{ name: "Do", inputMapping: { step: "Do", task: "{{item}}", index: "{{index}}" } }],
  },
  { name: "Report", inputMapping: { step: "Report", results: "{{context.Each}}" } },
];

describe("forEach", () => {
  it("runs the body once per item of a planner's list, at most `concurrency` at once, output in item order", async () => {
    const { trpc } = await newTenant();
    const tasks = ["a", "b", "c", "d", "e", "f", "g"];
    const calls = new CallLog();
    const inFlight = new InFlight();
    const orchestration = await flowWith(trpc, planThenEach(tasks, 3), async (input) => {
      calls.record(input);
      if (input.step === "Plan") return JSON.stringify({ tasks: JSON.parse(String(input.tasks)) });
      if (input.step === "Report") return JSON.stringify({ got: input.results });
      // Earlier items take longer, so they finish out of order.
      return inFlight.around(async () => {
        await scheduler.wait(5 + (tasks.length - Number(input.index)) * 4);
        return `did ${input.task}`;
      });
    });

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(inFlight.peak).toBe(3);
    expect(calls.of("Do").map((input) => [input.index, input.task])).toEqual(
      tasks.map((task, index) => [index, task]),
    );
    const each = logNamed(status, "Each");
    const expected = tasks.map((task) => `did ${task}`);
    expect(each.output).toEqual(expected);
    expect(each.forEach).toEqual({
      total: 7,
      done: 7,
      failed: 0,
      running: 0,
      concurrency: 3,
      items: tasks.map(() => "completed"),
    });
    expect(logsNamed(status, "Do").map((log) => [log.id, log.parentId, log.slot])).toEqual(
      tasks.map((_, item) => [`1.${item}.0`, "1", item]),
    );
    expect(status.output).toEqual({ got: expected });
  });

  it("starts items in order and never more than `concurrency` at once, shown per item in the status", async () => {
    const { trpc } = await newTenant();
    const inFlight = new InFlight();
    const started: number[] = [];
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          items: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
          concurrency: 2,
          steps: [{ name: "Do", inputMapping: { n: "{{item}}" } }],
        },
      ],
      (input) =>
        inFlight.around(async () => {
          started.push(Number(input.n));
          await scheduler.wait(3);
          return String(input.n);
        }),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(inFlight.peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(status.output).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("runs at most 10 items at once by default", async () => {
    const { trpc } = await newTenant();
    const inFlight = new InFlight();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          items: Array.from({ length: 25 }, (_, i) => i),
          steps: [{ name: "Do", inputMapping: { n: "{{item}}" } }],
        },
      ],
      (input) =>
        inFlight.around(async () => {
          await scheduler.wait(3);
          return String(input.n);
        }),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(inFlight.peak).toBe(10);
    expect(logNamed(status, "Each").forEach?.concurrency).toBe(10);
    expect(status.output).toHaveLength(25);
  });

  it("fails the step with a clear error when items do not resolve to an array", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(trpc, planThenEach("not a list"), (input) => {
      calls.record(input);
      return input.step === "Plan" ? JSON.stringify({ tasks: "not a list" }) : "unexpected";
    });

    const status = await runToEnd(trpc, orchestration.id);

    const error =
      'step "Each" failed: items {{context.plan.tasks}} must resolve to an array, got "not a list"';
    expect(status.status).toBe("failed");
    expect(status.error).toBe(error);
    expect(logNamed(status, "Each")).toMatchObject({ status: "failed", error });
    expect(logNamed(status, "Report").status).toBe("cancelled");
    expect(calls.counts).toEqual({ Plan: 1 });
  });

  it("fails clearly when the items path resolves to nothing", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(trpc, planThenEach([]), () => JSON.stringify({ other: 1 }));

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("failed");
    expect(status.error).toBe(
      'step "Each" failed: items {{context.plan.tasks}} must resolve to an array, got nothing',
    );
  });

  it("gives [] for an empty list without running the body, and the run goes on", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(trpc, planThenEach([]), (input) => {
      calls.record(input);
      if (input.step === "Plan") return JSON.stringify({ tasks: [] });
      return JSON.stringify({ got: input.results });
    });

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(calls.counts).toEqual({ Plan: 1, Report: 1 });
    expect(logNamed(status, "Each")).toMatchObject({ status: "completed", output: [] });
    expect(logNamed(status, "Each").forEach).toMatchObject({ total: null, done: 0, items: [] });
    expect(status.output).toEqual({ got: [] });
  });

  it("fails the forEach when one item's body fails, naming the step, and starts no further item", async () => {
    const { trpc } = await newTenant();
    const seen: number[] = [];
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          items: [0, 1, 2, 3],
          concurrency: 1,
          steps: [{ name: "Do", inputMapping: { n: "{{item}}" } }],
        },
      ],
      (input) => {
        seen.push(Number(input.n));
        return input.n === 1 ? providerFailure("item 1 is broken", false) : "ok";
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("failed");
    expect(status.error).toBe('step "Do" failed after 1 attempt: item 1 is broken');
    expect(seen).toEqual([0, 1]);
    expect(logNamed(status, "Each").forEach).toMatchObject({
      total: 4,
      done: 1,
      failed: 1,
      items: ["completed", "failed", "pending", "pending"],
    });
  });

  it("keeps each item's body outputs to that item", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          items: ["x", "y", "z"],
          steps: [
            { name: "First", inputMapping: { step: "First", item: "{{item}}" } },
            { name: "Second", inputMapping: { step: "Second", first: "{{context.First}}" } },
          ],
        },
      ],
      (input) => (input.step === "First" ? `first of ${input.item}` : `second after ${input.first}`),
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(status.output).toEqual([
      "second after first of x",
      "second after first of y",
      "second after first of z",
    ]);
    // Item outputs are not in the run's context; the forEach's output is.
    expect(status.context.First).toBeUndefined();
    expect(status.context.Each).toEqual(status.output);
  });
});

describe("forEach over the local model", () => {
  const items = Array.from({ length: 100 }, (_, i) => `item ${i}`);

  it("completes a forEach of 100 items inside the execute call", async () => {
    const { trpc } = await newTenant();
    const orchestration = await trpc.orchestrationManagement.create.mutate({
      name: "Local forEach",
      steps: [
        { name: "Each", stepType: "forEach", items, concurrency: 10, steps: [{ name: "Local" }] },
        { name: "Join" },
      ],
    });

    const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });

    expect(started.status).toBe("completed");
    const each = logNamed(started, "Each");
    expect(each.output).toHaveLength(100);
    expect(each.forEach).toMatchObject({ total: 100, done: 100 });
    expect(logsNamed(started, "Local").every((log) => log.status === "completed")).toBe(true);
  });

  it("as a 100-wide parallel group does", async () => {
    const { trpc } = await newTenant();
    const orchestration = await trpc.orchestrationManagement.create.mutate({
      name: "Local group",
      steps: [...items.map((name) => ({ name, parallelGroup: "fan" })), { name: "Join" }],
    });

    const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });

    expect(started.status).toBe("completed");
  });
});
