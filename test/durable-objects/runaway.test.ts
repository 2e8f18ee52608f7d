// Runs started from runs (issue 13, "Runaway runs" and "Depth and breadth"): a meta role whose code
// executes its own orchestration stops at maxRunDepth with clear errors, one execution starts at most
// maxChildrenPerExecution runs, a team at most maxExecutionsStartedPerMinute per minute (429 with
// Retry-After), cancelling a run cancels everything it started, `cancelAll` stops a whole team, and runs
// started by agent code start no more once the API key that started their tree is revoked.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import type { ScriptCall } from "../../worker/models/scripted";
import { codeReply, DESIGNER, metaTenant } from "../helpers/agent-code";
import { BASE_URL, errorOf, makeClient, newTenant, postTrpc, type TestClient } from "../helpers/client";
import { logNamed, statusOf } from "../helpers/control-flow";
import { scriptedModel, waitFor, waitForEnd } from "../helpers/executions";
import { gate } from "../helpers/runs";

const turnOf = (call: ScriptCall) => call.request.messages.filter((m) => m.role === "assistant").length;

/** Set after each test, so a runaway that a broken build lets loose stops asking for more runs. */
let stopped = false;
afterEach(() => {
  stopped = true;
});

async function setPlan(tenantId: string, plan: Record<string, number>) {
  await env.DB.prepare("update tenants set plan = ? where id = ?").bind(JSON.stringify(plan), tenantId).run();
}

/** Every execution of the tenant (at most 200, the largest page). */
async function allRuns(trpc: TestClient) {
  return (await trpc.orchestrationManagement.listExecutions.query({ limit: 200 })).items;
}

/** A meta tenant whose designer replies with `code` on its first turn, then with "done". */
async function codingTenant(code: (call: ScriptCall) => string | Promise<string>) {
  stopped = false;
  const tenant = await metaTenant("runaway");
  const model = scriptedModel(async (call) =>
    turnOf(call) > 0 || stopped ? "done" : codeReply(await code(call)),
  );
  await tenant.trpc.role.update.mutate({
    roleId: tenant.designer.id,
    updates: { hyperparameters: { model } },
  });
  return tenant;
}

/** A role "Holder" whose step waits until `hold` opens (or the call is aborted). */
async function holder(trpc: TestClient, hold: Promise<string>) {
  const model = scriptedModel(({ signal }) =>
    Promise.race([
      hold,
      new Promise<string>((resolve) => signal.addEventListener("abort", () => resolve("aborted"))),
    ]),
  );
  await trpc.role.create.mutate({ name: "Holder", basePrompt: "Hold.", hyperparameters: { model } });
}

const codeTurn = (status: ExecutionStatus, step: string) =>
  logNamed(status, step).attempts[0]?.turns?.[0]?.run;

describe("a meta role that executes its own orchestration", () => {
  it("stops at depth 5: 63 runs, the deepest refused with LimitExceeded naming maxRunDepth", async () => {
    const { trpc } = await codingTenant(
      () => `await execute_orchestration({ orchestrationId: "Recursion" });
await execute_orchestration({ orchestrationId: "Recursion" });`,
    );
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Recursion",
      steps: [{ name: "Spawn", roleName: DESIGNER }],
    });
    await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id });

    // Before the limit this tree doubled for ever: 1 + 2 + 4 + 8 + 16 + 32 = 63 is all depth 5 allows.
    const runs = await waitFor(
      () => allRuns(trpc),
      (items) => items.length > 63 || (items.length === 63 && items.every((run) => run.finishedAt !== null)),
      { timeoutMs: 60_000, everyMs: 50 },
    );
    expect(runs).toHaveLength(63);
    expect(runs.every((run) => run.status === "completed")).toBe(true);
    const byDepth = [0, 1, 2, 3, 4, 5].map((depth) => runs.filter((run) => run.depth === depth).length);
    expect(byDepth).toEqual([1, 2, 4, 8, 16, 32]);
    const child = runs.find((run) => run.depth === 1);
    expect(runs.find((run) => run.id === child?.parentExecutionId)?.depth).toBe(0);

    const deepest = await statusOf(trpc, runs.find((run) => run.depth === 5)?.id ?? "");
    expect(codeTurn(deepest, "Spawn")?.error).toMatchObject({
      name: "LimitExceeded",
      message: expect.stringMatching(/would nest executions 6 deep; the limit is 5 \(maxRunDepth\)/),
    });
  }, 90_000);

  it("follows the tenant's plan for maxRunDepth, for orchestration steps as well", async () => {
    const { trpc, tenant } = await newTenant("depth-plan");
    await setPlan(tenant.id, { maxRunDepth: 1 });
    const model = scriptedModel(() => "leaf");
    await trpc.role.create.mutate({ name: "Leaf", basePrompt: "Leaf.", hyperparameters: { model } });
    await trpc.orchestrationManagement.create.mutate({
      name: "L2",
      steps: [{ name: "Leaf", roleName: "Leaf" }],
    });
    for (const level of [1, 0]) {
      await trpc.orchestrationManagement.create.mutate({
        name: `L${level}`,
        steps: [{ name: `Call L${level + 1}`, stepType: "orchestration", orchestrationId: `L${level + 1}` }],
      });
    }

    const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: "L0" });
    const status = await waitForEnd(trpc, started.id);

    expect(status.status).toBe("failed");
    expect(status.error).toContain(
      'starting "L2" would nest executions 2 deep; the limit is 1 (maxRunDepth)',
    );
    expect((await allRuns(trpc)).map((run) => [run.orchestrationName, run.depth]).sort()).toEqual([
      ["L0", 0],
      ["L1", 1],
    ]);
  });
});

describe("children per execution", () => {
  it("lets agent code start maxChildrenPerExecution runs; the next ones are refused, even when started at once", async () => {
    const { trpc, tenant } = await codingTenant(
      () => `const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => execute_orchestration({ orchestrationId: "Leaf" })));
return results.map((r) => r.status === "fulfilled" ? "started" : r.reason.name + ": " + r.reason.message);`,
    );
    await setPlan(tenant.id, { maxChildrenPerExecution: 3 });
    const model = scriptedModel(() => "leaf");
    await trpc.role.create.mutate({ name: "Leaf", basePrompt: "Leaf.", hyperparameters: { model } });
    await trpc.orchestrationManagement.create.mutate({
      name: "Leaf",
      steps: [{ name: "Leaf", roleName: "Leaf" }],
    });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Fan",
      steps: [{ name: "Spawn", roleName: DESIGNER }],
    });

    const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id });
    const status = await waitForEnd(trpc, started.id);

    const results = codeTurn(status, "Spawn")?.result as string[];
    expect(results.filter((r) => r === "started")).toHaveLength(3);
    expect(results.filter((r) => r !== "started")).toEqual([
      expect.stringMatching(/^LimitExceeded: .*has started 3 executions.*maxChildrenPerExecution: 3/),
      expect.stringMatching(/^LimitExceeded: .*maxChildrenPerExecution: 3/),
    ]);
    const children = await trpc.orchestrationManagement.listExecutions.query({
      parentExecutionId: started.id,
    });
    expect(children.items).toHaveLength(3);
    expect(children.items.every((child) => child.depth === 1)).toBe(true);
  });

  it("fails the orchestration step that would start one child too many, naming the limit", async () => {
    const { trpc, tenant } = await newTenant("children-plan");
    await setPlan(tenant.id, { maxChildrenPerExecution: 2 });
    const model = scriptedModel(() => "leaf");
    await trpc.role.create.mutate({ name: "Leaf", basePrompt: "Leaf.", hyperparameters: { model } });
    await trpc.orchestrationManagement.create.mutate({
      name: "Leaf",
      steps: [{ name: "Leaf", roleName: "Leaf" }],
    });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Three children",
      steps: [1, 2, 3].map((n) => ({
        name: `C${n}`,
        stepType: "orchestration" as const,
        orchestrationId: "Leaf",
      })),
    });

    const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id });
    const status = await waitForEnd(trpc, started.id);

    expect(status.status).toBe("failed");
    expect(logNamed(status, "C3").error).toMatch(
      /starting "Leaf": execution exe_\w+ has started 2 executions, the most one execution may start \(maxChildrenPerExecution: 2\)/,
    );
    expect((await allRuns(trpc)).filter((run) => run.orchestrationName === "Leaf")).toHaveLength(2);
  });
});

describe("executions started per minute", () => {
  it("refuses starts past the team's limit with 429 and Retry-After, under parallel starts; other teams go on", async () => {
    const { trpc, tenant } = await newTenant("per-minute");
    await setPlan(tenant.id, { maxExecutionsStartedPerMinute: 3 });
    const model = scriptedModel(() => "leaf");
    await trpc.role.create.mutate({ name: "Leaf", basePrompt: "Leaf.", hyperparameters: { model } });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Leaf",
      steps: [{ name: "Leaf", roleName: "Leaf" }],
    });

    const attempts = await Promise.allSettled(
      [1, 2, 3, 4, 5].map(() => trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id })),
    );

    expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(3);
    expect((await allRuns(trpc)).length).toBe(3);
    const response = await postTrpc(
      `${BASE_URL}/trpc/orchestrationManagement.execute`,
      { orchestrationId: flow.id },
      { cookie: trpc.jar.cookie ?? "" },
    );
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    const refused = await errorOf(trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id }));
    expect(refused.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.message).toMatch(
      /started 3 executions in the last minute, the most its plan allows \(maxExecutionsStartedPerMinute\); try again in \d+ s/,
    );
    expect((await allRuns(trpc)).length).toBe(3);

    const other = await newTenant("per-minute-other");
    await other.trpc.role.create.mutate({ name: "Leaf", basePrompt: "Leaf.", hyperparameters: { model } });
    const otherFlow = await other.trpc.orchestrationManagement.create.mutate({
      name: "Leaf",
      steps: [{ name: "Leaf", roleName: "Leaf" }],
    });
    for (let n = 0; n < 5; n++)
      await other.trpc.orchestrationManagement.execute.mutate({ orchestrationId: otherFlow.id });
    expect((await allRuns(other.trpc)).length).toBe(5);
  });
});

describe("cancelling runs that started runs", () => {
  /** Root R: "Spawn" (code that executes "Middle"), then "Hold". Middle: an orchestration step running "Inner" (held). */
  async function tree() {
    const hold = gate<string>();
    const tenant = await codingTenant(
      () => `return (await execute_orchestration({ orchestrationId: "Middle" })).id;`,
    );
    const { trpc } = tenant;
    await holder(trpc, hold.promise);
    await trpc.orchestrationManagement.create.mutate({
      name: "Inner",
      steps: [{ name: "Wait", roleName: "Holder" }],
    });
    await trpc.orchestrationManagement.create.mutate({
      name: "Middle",
      steps: [{ name: "Call Inner", stepType: "orchestration", orchestrationId: "Inner" }],
    });
    const root = await trpc.orchestrationManagement.create.mutate({
      name: "Root",
      steps: [
        { name: "Spawn", roleName: DESIGNER, order: 0 },
        { name: "Hold", roleName: "Holder", order: 1 },
      ],
    });
    const rootId = (await trpc.orchestrationManagement.execute.mutate({ orchestrationId: root.id })).id;
    const runs = await waitFor(
      () => allRuns(trpc),
      (items) => items.length === 3 && items.every((run) => run.status === "running"),
    );
    return { ...tenant, hold, rootId, runs };
  }

  it("cancel of a parent cancels the runs its agent code started and their children", async () => {
    const { trpc, hold, rootId, runs } = await tree();

    const cancelled = await trpc.orchestrationManagement.cancel.mutate({ executionId: rootId });

    expect(cancelled.status).toBe("cancelled");
    const after = await allRuns(trpc);
    expect(after.map((run) => [run.depth, run.status]).sort()).toEqual([
      [0, "cancelled"],
      [1, "cancelled"],
      [2, "cancelled"],
    ]);
    const inner = after.find((run) => run.depth === 2);
    expect(inner?.error).toContain(`ancestor execution ${rootId} was cancelled`);
    expect(runs.find((run) => run.depth === 1)?.parentExecutionId).toBe(rootId);
    hold.open("late");
  });

  it("cancelAll stops every live run of the team and reports how many; another team's runs go on", async () => {
    const { trpc, hold } = await tree();
    const other = await newTenant("cancel-all-other");
    const otherHold = gate<string>();
    await holder(other.trpc, otherHold.promise);
    const otherFlow = await other.trpc.orchestrationManagement.create.mutate({
      name: "Hold",
      steps: [{ name: "Wait", roleName: "Holder" }],
    });
    const otherRun = await other.trpc.orchestrationManagement.execute.mutate({
      orchestrationId: otherFlow.id,
    });

    const answer = await trpc.orchestrationManagement.cancelAll.mutate({ reason: "runaway" });

    expect(answer).toEqual({ cancelled: 3, failed: 0, more: false });
    const after = await allRuns(trpc);
    expect(after.every((run) => run.status === "cancelled")).toBe(true);
    expect(after.find((run) => run.depth === 0)?.error).toMatch(/cancel all\): runaway/);
    expect((await statusOf(other.trpc, otherRun.id)).status).toBe("running");
    expect(await trpc.orchestrationManagement.cancelAll.mutate({})).toEqual({
      cancelled: 0,
      failed: 0,
      more: false,
    });
    const bad = await errorOf(trpc.orchestrationManagement.cancelAll.mutate({ reason: "" }));
    expect(bad.issues).toEqual([{ path: "reason", message: "must not be empty" }]);
    hold.open("late");
    otherHold.open("done");
    expect((await waitForEnd(other.trpc, otherRun.id)).status).toBe("completed");
  });
});

describe("after the API key that started a tree is revoked", () => {
  it("runs in that tree start no more runs from agent code", async () => {
    const reply = gate<void>();
    const { trpc } = await codingTenant(async () => {
      await reply.promise;
      return `return (await execute_orchestration({ orchestrationId: "Leaf" })).id;`;
    });
    const model = scriptedModel(() => "leaf");
    await trpc.role.create.mutate({ name: "Leaf", basePrompt: "Leaf.", hyperparameters: { model } });
    await trpc.orchestrationManagement.create.mutate({
      name: "Leaf",
      steps: [{ name: "Leaf", roleName: "Leaf" }],
    });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Spawner",
      steps: [{ name: "Spawn", roleName: DESIGNER }],
    });
    const key = await trpc.apiKey.create.mutate({ name: "automation" });
    const viaKey = makeClient({ apiKey: key.key });
    const started = await viaKey.orchestrationManagement.execute.mutate({ orchestrationId: flow.id });

    await trpc.apiKey.revoke.mutate({ apiKeyId: key.id });
    reply.open();
    const status = await waitForEnd(trpc, started.id);

    expect(codeTurn(status, "Spawn")?.error).toMatchObject({
      name: "PermissionDenied",
      message: expect.stringContaining(`the API key ${key.id} that started this run's tree was revoked`),
    });
    expect((await allRuns(trpc)).map((run) => run.orchestrationName)).toEqual(["Spawner"]);
  });
});
