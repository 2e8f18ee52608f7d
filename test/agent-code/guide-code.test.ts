// Every agent-code block of the usage guide, verbatim, through agent.runCode: each runs in the tenant's
// sandbox and does what the guide says, and what it creates is attributed to the role that ran it.
import { describe, expect, it } from "vitest";
import { guideCode, metaTenant, runCode } from "../helpers/agent-code";
import type { TestClient } from "../helpers/client";
import { scriptedModel, waitForEnd } from "../helpers/executions";
import { providerFailure } from "../helpers/runs";

/** The orchestration the guide's placeholder id "clf..." names: one step answered by a scripted model. */
async function createClf(trpc: TestClient) {
  const model = scriptedModel(({ request }) => `handled: ${request.messages.at(-1)?.content.length} chars`);
  await trpc.role.create.mutate({
    name: "Form Builder",
    basePrompt: "You build forms.",
    hyperparameters: { model },
  });
  return trpc.orchestrationManagement.create.mutate({
    name: "clf...",
    tags: ["coding"],
    steps: [{ name: "Build", roleName: "Form Builder" }],
  });
}

const logText = (run: { logs: { message: string }[] }) => run.logs.map((entry) => entry.message).join("\n");

describe("the guide's code blocks through agent.runCode", () => {
  it("Example 1 creates the Code Reviewer role and logs it, attributed to the designer role", async () => {
    const { trpc, designer } = await metaTenant();
    const run = await runCode(trpc, guideCode.example1);
    expect(run).toMatchObject({ ok: true, error: null, calls: [{ name: "create_role", ok: true }] });
    const role = await trpc.role.get.query({ nameOrId: "Code Reviewer" });
    expect(role).toMatchObject({
      capabilities: { needsCoding: true, needsTools: false, needsReasoning: true },
      contextLimits: { minContext: 8000, maxContext: 128000 },
      hyperparameters: { temperature: 0.3, maxTokens: 4000 },
      createdBy: `role:${designer.id}`,
    });
    expect(role.basePrompt).toContain("- Performance issues  \n");
    expect(JSON.parse(logText(run))).toEqual(role);
  });

  it("Examples 2, 3 and 4 create their orchestrations, with warnings for the roles not created yet", async () => {
    const { trpc, designer } = await metaTenant();
    for (const code of [guideCode.example2, guideCode.example3, guideCode.example4]) {
      const run = await runCode(trpc, code);
      expect(run, JSON.stringify(run.error)).toMatchObject({
        ok: true,
        calls: [{ name: "create_orchestration" }],
      });
    }
    const byName = Object.fromEntries(
      (await trpc.orchestrationManagement.list.query()).items.map((o) => [o.name, o]),
    );
    expect(Object.keys(byName).sort()).toEqual([
      "Code Generation Pipeline",
      "Multi-Source Research",
      "Self-Correcting Coder",
    ]);
    expect(byName["Code Generation Pipeline"]?.steps[2]?.condition).toEqual({
      field: "code",
      operator: "exists",
      value: null,
    });
    expect(byName["Multi-Source Research"]?.steps.map((s) => s.parallelGroup ?? null)).toEqual([
      "search",
      "search",
      "search",
      null,
    ]);
    expect(byName["Self-Correcting Coder"]?.steps[0]).toMatchObject({
      maxRetries: 2,
      retryDelay: 1000,
      timeout: 60000,
    });
    expect(byName["Code Generation Pipeline"]?.warnings.map((w) => w.path)).toContain("steps[0].roleName");
    for (const orchestration of Object.values(byName))
      expect(orchestration.createdBy).toBe(`role:${designer.id}`);
  });

  it("Example 2 logs the orchestration it created, with its id", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(trpc, guideCode.example2);
    const logged = JSON.parse(logText(run));
    const stored = await trpc.orchestrationManagement.get.query({ nameOrId: "Code Generation Pipeline" });
    expect(logged.id).toBe(stored.id);
    expect(logged.steps).toEqual(stored.steps);
  });

  it("Executing: starts the orchestration, checks its status and logs it", async () => {
    const { trpc, designer } = await metaTenant();
    const clf = await createClf(trpc);
    const run = await runCode(trpc, guideCode.executing);
    expect(run, JSON.stringify(run.error)).toMatchObject({
      ok: true,
      calls: [
        { name: "execute_orchestration", ok: true },
        { name: "get_execution_status", ok: true },
      ],
    });
    const status = JSON.parse(logText(run));
    expect(status).toMatchObject({ orchestrationId: clf.id, orchestrationName: "clf..." });
    expect(status.input).toEqual({
      userRequest: "Create a React component for a login form",
      requirements: ["validation", "accessibility", "responsive"],
    });
    expect(status.stepLogs.map((s: { name: string }) => s.name)).toEqual(["Build"]);
    const finished = await waitForEnd(trpc, status.id);
    expect(finished.status).toBe("completed");
    const { items } = await trpc.orchestrationManagement.listExecutions.query({});
    expect(items.find((e) => e.id === status.id)?.createdBy).toBe(`role:${designer.id}`);
  });

  it("Listing and Managing: lists, filters, reads, disables and deletes", async () => {
    const { trpc } = await metaTenant();
    await runCode(trpc, guideCode.example2);
    const clf = await createClf(trpc);
    const run = await runCode(trpc, guideCode.listingAndManaging);
    expect(run, JSON.stringify(run.error)).toMatchObject({ ok: true, error: null });
    expect(run.calls.map((c) => [c.name, c.ok])).toEqual([
      ["list_orchestrations", true],
      ["list_orchestrations", true],
      ["get_orchestration", true],
      ["update_orchestration", true],
      ["delete_orchestration", true],
    ]);
    const remaining = (await trpc.orchestrationManagement.list.query()).items;
    expect(remaining.map((o) => o.name)).toEqual(["Code Generation Pipeline"]);
    expect(remaining.some((o) => o.id === clf.id)).toBe(false);
  });

  it("Troubleshooting: reads a failed execution's error and step logs", async () => {
    const { trpc } = await metaTenant();
    const model = scriptedModel(() => providerFailure("the provider is down", false));
    await trpc.role.create.mutate({ name: "Flaky", basePrompt: "You fail.", hyperparameters: { model } });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Fragile",
      steps: [{ name: "Call Provider", roleName: "Flaky" }],
    });
    // The guide's placeholder "..." is the idempotency key this execution was started with.
    const started = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: flow.id,
      idempotencyKey: "...",
    });
    const failed = await waitForEnd(trpc, started.id);
    expect(failed.status).toBe("failed");
    const run = await runCode(trpc, guideCode.executionFailed);
    expect(run, JSON.stringify(run.error)).toMatchObject({ ok: true });
    expect(run.logs[0]?.message).toBe(failed.error);
    expect(run.logs[0]?.message).toContain("Call Provider");
    const stepLogs = JSON.parse(run.logs[1]?.message ?? "null");
    expect(stepLogs[0]).toMatchObject({ name: "Call Provider", status: "failed" });
  });

  it("Troubleshooting: an execution id that does not exist is a NotFoundError at the call", async () => {
    const { trpc } = await metaTenant();
    const run = await runCode(trpc, guideCode.executionFailed);
    expect(run.error).toEqual({
      name: "NotFoundError",
      code: "NOT_FOUND",
      message: 'get_execution_status: execution "..." was not found',
      line: 1,
      column: 29,
    });
  });

  it("Role Not Found: lists every role of the tenant", async () => {
    const { trpc } = await metaTenant();
    await runCode(trpc, guideCode.example1);
    const run = await runCode(trpc, guideCode.roleNotFound);
    expect(run.ok).toBe(true);
    const roles = JSON.parse(logText(run));
    expect(roles.map((r: { name: string }) => r.name)).toEqual(["Code Reviewer", "Orchestration Designer"]);
  });
});
