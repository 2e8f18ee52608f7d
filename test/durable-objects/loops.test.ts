// Loops through the real API and runtime: the guide's Ping-Pong as a loop of Critic then Refine until
// the score is good enough, the maxIterations cap, {{iteration}} in the body, and the loop's output.
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../worker/schemas/common";
import { newTenant } from "../helpers/client";
import { CallLog, flowWith, logNamed, logsNamed, runToEnd } from "../helpers/control-flow";
import { pingPongLoop } from "../helpers/guide";
import { providerFailure, type StepInput } from "../helpers/runs";

/** The guide's Ping-Pong pattern as a loop: Creator, then Critic / Refine until Critic.score >= 0.8. */
const pingPong = (maxIterations: number): StepInput[] => [
  { name: "Creator", inputMapping: { step: "Creator" }, outputMapping: { draft: "{{output}}" } },
  {
    name: "Refinement",
    stepType: "loop",
    maxIterations,
    until: { field: "Critic.score", operator: ">=", value: 0.8 },
    steps: [
      {
        name: "Critic",
        inputMapping: { step: "Critic", draft: "{{context.draft}}", iteration: "{{iteration}}" },
      },
      {
        name: "Refine",
        condition: { field: "Critic.score", operator: "<", value: 0.8 },
        inputMapping: { step: "Refine", draft: "{{context.draft}}", feedback: "{{context.Critic.note}}" },
        outputMapping: { draft: "{{output}}" },
      },
    ],
  },
];

/** Creator writes "draft 0", each Refine the next draft; the Critic scores each draft from `scores`. */
function pingPongScript(calls: CallLog, scores: number[]) {
  return (input: Record<string, JsonValue>) => {
    const n = calls.record(input);
    if (input.step === "Creator") return "draft 0";
    if (input.step === "Refine") return `draft ${n}`;
    const score = scores[n - 1] ?? 0;
    return JSON.stringify({ score, note: `scored ${input.draft} ${score}` });
  };
}

describe("loop", () => {
  it("runs the guide's Ping-Pong: Critic and Refine repeat until Critic.score >= 0.8, then stop", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(trpc, pingPong(5), pingPongScript(calls, [0.3, 0.6, 0.9]));

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(calls.counts).toEqual({ Creator: 1, Critic: 3, Refine: 2 });
    // Each iteration's Critic read the draft the previous Refine wrote, and its own iteration number.
    expect(calls.of("Critic").map((input) => [input.draft, input.iteration])).toEqual([
      ["draft 0", 0],
      ["draft 1", 1],
      ["draft 2", 2],
    ]);
    expect(calls.of("Refine").map((input) => input.feedback)).toEqual([
      "scored draft 0 0.3",
      "scored draft 1 0.6",
    ]);
    const loop = logNamed(status, "Refinement");
    expect(loop).toMatchObject({
      status: "completed",
      stepType: "loop",
      loop: { iteration: 2, maxIterations: 5 },
    });
    expect(loop.reason).toContain("ended after iteration 2");
    expect(loop.output).toEqual({
      iterations: 3,
      outputs: ["draft 1", "draft 2", { score: 0.9, note: "scored draft 2 0.9" }],
    });
    expect(logsNamed(status, "Critic").map((log) => [log.id, log.status])).toEqual([
      ["1.0.0", "completed"],
      ["1.1.0", "completed"],
      ["1.2.0", "completed"],
    ]);
    expect(logsNamed(status, "Refine").map((log) => [log.id, log.status])).toEqual([
      ["1.0.1", "completed"],
      ["1.1.1", "completed"],
      ["1.2.1", "skipped"],
    ]);
    // The latest iteration's outputs stay in the context after the loop.
    expect(status.context.Critic).toEqual({ score: 0.9, note: "scored draft 2 0.9" });
    expect(status.context.draft).toBe("draft 2");
    expect(status.output).toEqual(loop.output);
  });

  it("stops after maxIterations when until never holds, and the run completes", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(trpc, pingPong(3), pingPongScript(calls, [0.1, 0.2, 0.3, 0.4]));

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(calls.counts).toEqual({ Creator: 1, Critic: 3, Refine: 3 });
    const loop = logNamed(status, "Refinement");
    expect(loop.output).toEqual({ iterations: 3, outputs: ["draft 1", "draft 2", "draft 3"] });
    expect(loop.reason).toContain("ended after 3 iterations (maxIterations)");
  });

  it("without until runs exactly maxIterations times, {{iteration}} counting from 0", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Repeat",
          stepType: "loop",
          maxIterations: 4,
          steps: [
            { name: "Tick", inputMapping: { step: "Tick", n: "{{iteration}}", label: "tick {{iteration}}" } },
          ],
        },
      ],
      (input) => {
        calls.record(input);
        return `tock ${input.n}`;
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("completed");
    expect(calls.of("Tick").map((input) => [input.n, input.label])).toEqual([
      [0, "tick 0"],
      [1, "tick 1"],
      [2, "tick 2"],
      [3, "tick 3"],
    ]);
    expect(status.output).toEqual({ iterations: 4, outputs: ["tock 0", "tock 1", "tock 2", "tock 3"] });
  });

  it("hands {{iteration}} to a body step without inputMapping as part of its default input", async () => {
    const { trpc } = await newTenant();
    const seen: unknown[] = [];
    const orchestration = await flowWith(
      trpc,
      [{ name: "Twice", stepType: "loop", maxIterations: 2, steps: [{ name: "Plain" }] }],
      (input) => {
        seen.push(input.iteration);
        return "ok";
      },
    );

    const status = await runToEnd(trpc, orchestration.id, { topic: "t" });

    expect(status.status).toBe("completed");
    expect(seen).toEqual([0, 1]);
  });

  it("fails the loop and the run when a body step fails, naming the step, and runs no further iteration", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Attempts",
          stepType: "loop",
          maxIterations: 5,
          steps: [{ name: "Try", inputMapping: { step: "Try", n: "{{iteration}}" } }],
        },
        { name: "After", inputMapping: { step: "After" } },
      ],
      (input) => {
        calls.record(input);
        return input.n === 1 ? providerFailure("broken on 1", false) : "fine";
      },
    );

    const status = await runToEnd(trpc, orchestration.id);

    expect(status.status).toBe("failed");
    expect(status.error).toBe('step "Try" failed after 1 attempt: broken on 1');
    expect(calls.counts).toEqual({ Try: 2 });
    const loop = logNamed(status, "Attempts");
    expect(loop).toMatchObject({ status: "failed", loop: { iteration: 1, maxIterations: 5 } });
    expect(loop.reason).toBe('step "Try" failed inside it');
    expect(logNamed(status, "After").status).toBe("cancelled");
  });

  it("runs a loop over the local model inside the execute call", async () => {
    const { trpc } = await newTenant();
    const orchestration = await trpc.orchestrationManagement.create.mutate({
      name: "Local loop",
      steps: [{ name: "Spin", stepType: "loop", maxIterations: 10, steps: [{ name: "Local" }] }],
    });

    const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });

    expect(started.status).toBe("completed");
    expect((started.output as { iterations: number }).iterations).toBe(10);
    expect(logsNamed(started, "Local")).toHaveLength(10);
  });
});

describe("the shipped Ping-Pong template (pingPongLoop, the dashboard's and the README's)", () => {
  it("refines until the Critic scores 0.8, as the guide describes, with the template's own mappings", async () => {
    const { trpc } = await newTenant();
    const scores = [0.4, 0.85];
    let critiques = 0;
    let drafts = 0;
    // The template's inputs have no `step` key: tell the steps apart by what they are given.
    const orchestration = await flowWith(trpc, pingPongLoop.steps as StepInput[], (input) => {
      if ("task" in input) return `draft 0 of ${input.task}`;
      if ("feedback" in input) return `draft ${++drafts} after "${input.feedback}" in round ${input.round}`;
      const score = scores[critiques++] ?? 0;
      return JSON.stringify({ score, feedback: `scored ${score}` });
    });
    const status = await runToEnd(trpc, orchestration.id, { task: "a haiku" });

    expect(status.status).toBe("completed");
    expect(logNamed(status, "Refinement").output).toEqual({
      iterations: 2,
      outputs: ['draft 1 after "scored 0.4" in round 0', { score: 0.85, feedback: "scored 0.85" }],
    });
    expect(logsNamed(status, "Refine").map((log) => log.status)).toEqual(["completed", "skipped"]);
    expect(status.context.draft).toBe('draft 1 after "scored 0.4" in round 0');
  });
});
