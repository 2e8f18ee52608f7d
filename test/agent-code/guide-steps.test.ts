// The guide's code blocks inside an orchestration: a step whose role has `meta` gets the API in its system
// prompt, its model replies with the blocks one turn at a time, each runs in the tenant's sandbox, the
// logs and result go back to the model, every turn is in the step log, and the final reply is the output.
import { describe, expect, it } from "vitest";
import type { ScriptCall } from "../../worker/models/scripted";
import { codeReply, DESIGNER, guideCode, metaTenant } from "../helpers/agent-code";
import type { TestClient } from "../helpers/client";
import { scriptedModel, waitForEnd } from "../helpers/executions";
import { providerFailure } from "../helpers/runs";

const turnOf = (call: ScriptCall) => call.request.messages.filter((m) => m.role === "assistant").length;

/** Replies with `blocks[turn]` as code while there are blocks, then with `done`. */
function plan(blocks: string[], done: string) {
  return (call: ScriptCall) => {
    const block = blocks[turnOf(call)];
    return block === undefined ? done : codeReply(block);
  };
}

const SCRIPTS: Record<string, (call: ScriptCall) => string> = {
  roles: plan([guideCode.example1], "Created the Code Reviewer role."),
  flows: plan([guideCode.example2, guideCode.example3, guideCode.example4], "Created three orchestrations."),
  run: plan([guideCode.executing], "Started clf... and checked it."),
  manage: plan([guideCode.listingAndManaging], "Disabled and deleted clf..."),
  troubleshoot: plan([guideCode.executionFailed, guideCode.roleNotFound], "The provider is down."),
};

async function prepareGuidePlaceholders(trpc: TestClient) {
  const helper = scriptedModel(() => "done");
  const failing = scriptedModel(() => providerFailure("the provider is down", false));
  await trpc.role.create.mutate({
    name: "Form Builder",
    basePrompt: "Build.",
    hyperparameters: { model: helper },
  });
  await trpc.role.create.mutate({ name: "Flaky", basePrompt: "Fail.", hyperparameters: { model: failing } });
  await trpc.orchestrationManagement.create.mutate({
    name: "clf...",
    steps: [{ name: "Build", roleName: "Form Builder" }],
  });
  const fragile = await trpc.orchestrationManagement.create.mutate({
    name: "Fragile",
    steps: [{ name: "Call Provider", roleName: "Flaky" }],
  });
  const failed = await trpc.orchestrationManagement.execute.mutate({
    orchestrationId: fragile.id,
    idempotencyKey: "...",
  });
  return waitForEnd(trpc, failed.id);
}

describe("agent code inside an orchestration step", () => {
  it("runs every guide block a scripted model replies with, turn by turn", async () => {
    const { trpc, designer } = await metaTenant();
    const failed = await prepareGuidePlaceholders(trpc);
    const calls: ScriptCall[] = [];
    const model = scriptedModel((call) => {
      calls.push(call);
      const task = String(JSON.parse(call.request.messages[1]?.content ?? "{}").task);
      return SCRIPTS[task]?.(call) ?? "unknown task";
    });
    await trpc.role.update.mutate({ roleId: designer.id, updates: { hyperparameters: { model } } });
    const tasks = Object.keys(SCRIPTS);
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Agent Designer",
      steps: tasks.map((task, order) => ({ name: task, order, roleName: DESIGNER, inputMapping: { task } })),
    });
    const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id });
    const status = await waitForEnd(trpc, started.id);
    expect(status.status, status.error ?? "").toBe("completed");

    const steps = Object.fromEntries(status.stepLogs.map((s) => [s.name, s]));
    expect(steps.flows?.output).toBe("Created three orchestrations.");
    const flowTurns = steps.flows?.attempts[0]?.turns ?? [];
    expect(flowTurns.map((t) => [t.turn, t.run?.ok ?? null, t.run?.calls ?? null])).toEqual([
      [1, true, 1],
      [2, true, 1],
      [3, true, 1],
      [4, null, null],
    ]);
    expect(flowTurns[0]?.code).toBe(guideCode.example2);
    for (const task of tasks) {
      const turns = steps[task]?.attempts[0]?.turns ?? [];
      expect(
        turns.every((t) => t.run === undefined || t.run.ok),
        `${task}: ${JSON.stringify(turns)}`,
      ).toBe(true);
    }

    // The model saw the API, then each run's console output.
    expect(calls[0]?.request.messages[0]?.content).toContain("declare function create_orchestration(");
    const afterExample1 = calls.find(
      (c) => turnOf(c) === 1 && c.request.messages[1]?.content.includes('"roles"'),
    );
    expect(afterExample1?.request.messages.at(-1)?.content).toContain('"name": "Code Reviewer"');
    const troubleshooting = steps.troubleshoot?.attempts[0]?.turns ?? [];
    expect(troubleshooting[0]?.run?.logs).toContain(failed.error ?? "no error?");
    expect(troubleshooting[1]?.run?.logs).toContain("Code Reviewer");

    // What the code created is attributed to the role and the execution that ran it.
    const principal = `role:${designer.id}/execution:${started.id}`;
    expect((await trpc.role.get.query({ nameOrId: "Code Reviewer" })).createdBy).toBe(principal);
    const orchestrations = (await trpc.orchestrationManagement.list.query()).items;
    expect(orchestrations.map((o) => o.name).sort()).toEqual([
      "Agent Designer",
      "Code Generation Pipeline",
      "Fragile",
      "Multi-Source Research",
      "Self-Correcting Coder",
    ]);
    expect(orchestrations.find((o) => o.name === "Self-Correcting Coder")?.createdBy).toBe(principal);
    const { items } = await trpc.orchestrationManagement.listExecutions.query({});
    expect(items.find((e) => e.orchestrationName === "clf...")?.createdBy).toBe(principal);

    const runs = (await trpc.agent.runs.query({ executionId: started.id })).items;
    expect(runs).toHaveLength(8);
    expect(runs.every((r) => r.outcome === "ok" && r.roleId === designer.id)).toBe(true);
    expect(
      runs
        .filter((r) => r.stepName === "flows")
        .map((r) => r.turn)
        .sort(),
    ).toEqual([1, 2, 3]);
  });

  it("hands an invalid argument's message back, so the model can correct its code", async () => {
    const { trpc, designer } = await metaTenant();
    const wrong = `await create_orchestration({ name: "Checked", steps: [{ name: "A", condition: { field: "x", operator: "equals" } }] });`;
    const right = wrong.replace('"equals"', '"=="');
    const model = scriptedModel(
      (call) => [codeReply(wrong), codeReply(right), "Saved."][turnOf(call)] ?? "?",
    );
    await trpc.role.update.mutate({ roleId: designer.id, updates: { hyperparameters: { model } } });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Fix",
      steps: [{ name: "Design", roleName: DESIGNER }],
    });
    const status = await waitForEnd(
      trpc,
      (await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id })).id,
    );
    const turns = status.stepLogs[0]?.attempts[0]?.turns ?? [];
    expect(turns[0]?.run?.error).toMatchObject({
      name: "ValidationError",
      message: expect.stringContaining(
        'steps[0].condition.operator: "equals" is not one of exists, not_exists, ==',
      ),
      line: 1,
    });
    expect(turns[1]?.run?.ok).toBe(true);
    expect(status.output).toBe("Saved.");
    expect(
      (await trpc.orchestrationManagement.get.query({ nameOrId: "Checked" })).steps[0]?.condition?.operator,
    ).toBe("==");
  });

  it("stops after the configured turns; code in the last reply is not run", async () => {
    const { trpc, designer } = await metaTenant();
    const model = scriptedModel((call) => codeReply(`console.log("turn ${turnOf(call) + 1}");`));
    await trpc.role.update.mutate({ roleId: designer.id, updates: { hyperparameters: { model } } });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Chatty",
      steps: [{ name: "Loop", roleName: DESIGNER }],
    });
    const status = await waitForEnd(
      trpc,
      (await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id })).id,
    );
    expect(status.status).toBe("completed");
    const turns = status.stepLogs[0]?.attempts[0]?.turns ?? [];
    expect(turns).toHaveLength(5);
    expect(turns.slice(0, 4).map((t) => t.run?.logs)).toEqual([
      "[log] turn 1",
      "[log] turn 2",
      "[log] turn 3",
      "[log] turn 4",
    ]);
    expect(turns[4]).toMatchObject({ note: "not run: the step allows 5 turns" });
    expect(turns[4]?.run).toBeUndefined();
    expect(status.output).toContain('console.log("turn 5")');
  });

  it("keeps the turns of an attempt whose model fails midway", async () => {
    const { trpc, designer } = await metaTenant();
    const model = scriptedModel((call) =>
      turnOf(call) === 0
        ? codeReply('console.log("first turn ran");')
        : providerFailure("the model went away", false),
    );
    await trpc.role.update.mutate({ roleId: designer.id, updates: { hyperparameters: { model } } });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Broken",
      steps: [{ name: "Try", roleName: DESIGNER }],
    });
    const status = await waitForEnd(
      trpc,
      (await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id })).id,
    );
    expect(status.status).toBe("failed");
    expect(status.error).toContain("the model went away");
    const attempt = status.stepLogs[0]?.attempts[0];
    expect(attempt?.status).toBe("failed");
    expect(attempt?.turns.map((t) => t.run?.logs)).toEqual(["[log] first turn ran"]);
  });

  it("never runs code for a role without the meta tool: the reply is just the output", async () => {
    const { trpc } = await metaTenant();
    const model = scriptedModel(() => codeReply(guideCode.example1));
    await trpc.role.create.mutate({ name: "Writer", basePrompt: "You write.", hyperparameters: { model } });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Plain",
      steps: [{ name: "Write", roleName: "Writer" }],
    });
    const status = await waitForEnd(
      trpc,
      (await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id })).id,
    );
    expect(status.status).toBe("completed");
    expect(status.output).toBe(codeReply(guideCode.example1));
    expect(status.stepLogs[0]?.attempts[0]?.turns).toEqual([]);
    expect((await trpc.role.list.query()).items.map((r) => r.name)).toEqual([
      "Orchestration Designer",
      "Writer",
    ]);
  });
});
