// Every flow of the usage guide — examples 2, 3, 4 and the four fundamental patterns — runs end to end
// through the real API, Durable Objects and alarms, with a scripted model standing in for the LLM.
import { describe, expect, it } from "vitest";
import type { ModelScript } from "../../worker/models/scripted";
import type { JsonValue } from "../../worker/schemas/common";
import { newTenant, type TestClient } from "../helpers/client";
import { scriptedModel, waitForEnd } from "../helpers/executions";
import { example2, example3, example4, guideRoleNames, patterns } from "../helpers/guide";

/** Replies by role: the system prompt names the role; the user message is the rendered input. */
function roleScript(replies: Record<string, (input: string) => string>): ModelScript {
  return ({ request }) => {
    const system = request.messages[0]?.content ?? "";
    const input = request.messages.at(-1)?.content ?? "";
    const role = Object.keys(replies).find((name) => system.startsWith(`You are the ${name}.`));
    return role ? (replies[role]?.(input) ?? "") : `unscripted: ${system}`;
  };
}

async function createGuideRoles(trpc: TestClient, script: ModelScript) {
  const model = scriptedModel(script);
  for (const name of guideRoleNames) {
    await trpc.role.create.mutate({ name, basePrompt: `You are the ${name}.`, hyperparameters: { model } });
  }
}

async function run(trpc: TestClient, orchestrationId: string, input: { [key: string]: JsonValue }) {
  const execution = await trpc.orchestrationManagement.execute.mutate({ orchestrationId, input });
  return waitForEnd(trpc, execution.id);
}

const steps = (status: Awaited<ReturnType<typeof run>>) =>
  Object.fromEntries(status.stepLogs.map((s) => [s.name, s.status]));

describe("the usage guide's flows", () => {
  it("Example 2: plans, generates and reviews, passing context through outputMapping", async () => {
    const { trpc } = await newTenant();
    await createGuideRoles(
      trpc,
      roleScript({
        Architect: (input) => JSON.stringify({ tasks: ["form", "validation"], from: JSON.parse(input).task }),
        Coder: () => "export function LoginForm() {}",
        "Code Reviewer": (input) => `LGTM for ${JSON.parse(input).code}`,
      }),
    );
    const orchestration = await trpc.orchestrationManagement.create.mutate(example2);
    expect(orchestration.warnings).toEqual([]);
    const status = await run(trpc, orchestration.id, {
      userRequest: "Create a React component for a login form",
      requirements: ["validation", "accessibility", "responsive"],
    });
    expect(status.status).toBe("completed");
    expect(steps(status)).toEqual({ Plan: "completed", "Generate Code": "completed", Review: "completed" });
    expect(status.context.plan).toEqual({
      tasks: ["form", "validation"],
      from: "Create a React component for a login form",
    });
    expect(status.context.code).toBe("export function LoginForm() {}");
    expect(status.context.review).toBe("LGTM for export function LoginForm() {}");
    expect(status.output).toBe("LGTM for export function LoginForm() {}");
    const review = status.stepLogs[2];
    expect(review?.attempts[0]?.input).toEqual({
      code: "export function LoginForm() {}",
      requirements: { tasks: ["form", "validation"], from: "Create a React component for a login form" },
    });
  });

  it("Example 3: runs the three searches in parallel, then synthesizes from all of them", async () => {
    const { trpc } = await newTenant();
    let inFlight = 0;
    let peak = 0;
    await createGuideRoles(trpc, async ({ request }) => {
      const system = request.messages[0]?.content ?? "";
      const input = JSON.parse(request.messages.at(-1)?.content ?? "{}");
      if (system.includes("Synthesizer")) return JSON.stringify({ report: Object.keys(input.sources) });
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await scheduler.wait(20);
      inFlight -= 1;
      return `results for ${input.query}`;
    });
    const orchestration = await trpc.orchestrationManagement.create.mutate(example3);
    const status = await run(trpc, orchestration.id, { topic: "WebAssembly performance" });
    expect(status.status).toBe("completed");
    expect(peak).toBe(3);
    const searches = status.stepLogs.slice(0, 3);
    expect(new Set(searches.map((s) => s.stage))).toEqual(new Set([0]));
    const windows = searches.map((s) => s.attempts[0]);
    const latestStart = Math.max(...windows.map((w) => Date.parse(w?.startedAt ?? "")));
    const earliestEnd = Math.min(...windows.map((w) => Date.parse(w?.endedAt ?? "")));
    expect(latestStart).toBeLessThanOrEqual(earliestEnd);
    expect(status.stepLogs[3]?.attempts[0]?.input).toEqual({
      sources: {
        academic: "results for WebAssembly performance site:arxiv.org",
        docs: "results for WebAssembly performance site:developer.mozilla.org",
        github: "results for WebAssembly performance site:github.com",
      },
    });
    expect(status.context.report).toEqual({ report: ["academic", "docs", "github"] });
  });

  it.each([
    { passed: 0.5, fix: "completed" },
    { passed: 1.0, fix: "skipped" },
  ])("Example 4: runs Fix Failures only when testResults.passed ($passed) < 1.0", async ({ passed, fix }) => {
    const { trpc } = await newTenant();
    await createGuideRoles(
      trpc,
      roleScript({
        Coder: () => "function add(a, b) { return a - b }",
        Tester: () =>
          `Results:\n\`\`\`json\n${JSON.stringify({ passed, failures: ["add(1, 2) !== 3"] })}\n\`\`\``,
        Debugger: (input) => `fixed ${JSON.parse(input).failures.length} failure(s)`,
      }),
    );
    const orchestration = await trpc.orchestrationManagement.create.mutate(example4);
    const status = await run(trpc, orchestration.id, { userRequest: "add two numbers" });
    expect(status.status).toBe("completed");
    expect(steps(status)["Fix Failures"]).toBe(fix);
    expect(status.context.testResults).toEqual({ passed, failures: ["add(1, 2) !== 3"] });
    if (fix === "completed") {
      expect(status.stepLogs[2]?.attempts[0]?.input).toEqual({
        code: "function add(a, b) { return a - b }",
        failures: ["add(1, 2) !== 3"],
      });
      expect(status.output).toBe("fixed 1 failure(s)");
    } else {
      expect(status.stepLogs[2]?.reason).toContain("testResults.passed");
      expect(status.output).toEqual({ passed, failures: ["add(1, 2) !== 3"] });
    }
    expect(status.stepLogs[0]?.attempts[0]?.input).toEqual({
      input: { userRequest: "add two numbers" },
    });
  });

  it("Planner-Executor-Reviewer pattern: each step receives the previous step's output", async () => {
    const { trpc } = await newTenant();
    await createGuideRoles(trpc, ({ request }) => `${request.messages[0]?.content} done`);
    const orchestration = await trpc.orchestrationManagement.create.mutate({
      name: "Planner-Executor-Reviewer",
      ...patterns["Planner-Executor-Reviewer"],
    });
    const status = await run(trpc, orchestration.id, { task: "ship it" });
    expect(status.status).toBe("completed");
    expect(status.stepLogs[1]?.attempts[0]?.input).toEqual({
      input: { task: "ship it" },
      previous: { Plan: "You are the Architect. done" },
    });
    expect(status.output).toBe("You are the Reviewer. done");
  });

  it.each(["Map-Reduce", "Tree of Thoughts"] as const)(
    "%s pattern runs with the default model",
    async (name) => {
      const { trpc } = await newTenant();
      const orchestration = await trpc.orchestrationManagement.create.mutate({ name, ...patterns[name] });
      const status = await run(trpc, orchestration.id, { topic: "edge computing" });
      expect(status.status).toBe("completed");
      expect(status.stepLogs.every((s) => s.status === "completed")).toBe(true);
      const fanOut = status.stepLogs.filter((s) => s.stage === 0);
      expect(fanOut).toHaveLength(3);
      expect(status.stepLogs[3]?.attempts[0]?.input).toMatchObject({
        previous: Object.fromEntries(fanOut.map((s) => [s.name, s.output])),
      });
      expect(String(status.stepLogs[0]?.output)).toContain("Simulated reply");
      expect(status.stepLogs[0]?.attempts[0]?.model).toBe("local/simulated");
    },
  );

  it.each([
    { score: 0.5, refine: "completed" },
    { score: 0.9, refine: "skipped" },
  ])("Ping-Pong pattern refines only when Critic.score ($score) < 0.8", async ({ score, refine }) => {
    const { trpc } = await newTenant();
    const orchestration = await trpc.orchestrationManagement.create.mutate({
      name: "Ping-Pong",
      ...patterns["Ping-Pong"],
    });
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: orchestration.id,
      updates: {
        steps: patterns["Ping-Pong"].steps.map((step) => ({ ...step, roleName: step.name })),
      },
    });
    const model = scriptedModel(({ request }) => {
      const system = request.messages[0]?.content;
      return system === "Critic" ? JSON.stringify({ score }) : `${system} says hi`;
    });
    for (const name of ["Creator", "Critic", "Refine"]) {
      await trpc.role.create.mutate({ name, basePrompt: name, hyperparameters: { model } });
    }
    const status = await run(trpc, orchestration.id, {});
    expect(status.status).toBe("completed");
    expect(steps(status).Refine).toBe(refine);
    expect(status.context.Critic).toEqual({ score });
  });
});
