// Budgets end to end (API, execution object, D1): a run's budget from its orchestration and from
// execute (the smaller wins), calls reserved before they start so a fan-out cannot overshoot, the run
// failing with error kind budget_exceeded and what it spent per step; children drawing from their
// parent's budget; the tenant's monthly budget refusing execute once spent; bad budgets refused.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import { codeReply, DESIGNER, metaTenant } from "../helpers/agent-code";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { countRows } from "../helpers/db";
import { scriptedModel, waitFor, waitForEnd } from "../helpers/executions";
import { fakeKey, recordedRequests } from "../helpers/fake-openai";
import { fakeProvider } from "../helpers/providers";
import type { StepInput } from "../helpers/runs";
import { runToEnd } from "../helpers/v1-state";
import { plantV2Execution } from "../helpers/v2-state";

/** Each call of the local "Writer" reserves its maxTokens (1000) plus a few tokens of prompt and input. */
const MAX_TOKENS = 1000;
/** Room for three calls' worst cases, not four. */
const THREE_CALLS = 3 * MAX_TOKENS + 150;

const fanOut = (count: number): StepInput[] =>
  Array.from({ length: count }, (_, i) => ({ name: `W${i}`, roleName: "Writer", parallelGroup: "fan" }));

async function writer(trpc: TestClient, model?: string) {
  await trpc.role.create.mutate({
    name: "Writer",
    basePrompt: "You write.",
    hyperparameters: { maxTokens: model ? 50 : MAX_TOKENS, ...(model ? { model } : {}) },
  });
}

async function flow(
  trpc: TestClient,
  steps: StepInput[],
  budget?: { maxTokens?: number; maxCostUsd?: number },
) {
  return trpc.orchestrationManagement.create.mutate({
    name: `Flow ${crypto.randomUUID().slice(0, 8)}`,
    steps,
    ...(budget ? { budget } : {}),
  });
}

const statusesOf = (status: ExecutionStatus) => status.stepLogs.map((log) => log.status);

describe("a run's budget", () => {
  it("runs exactly the calls of a fan-out of 10 that fit, then fails budget_exceeded with its spend per step", async () => {
    const { trpc } = await newTenant("budget-fan");
    await writer(trpc);
    const orchestration = await flow(trpc, fanOut(10), { maxTokens: THREE_CALLS });
    const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    const status = await waitForEnd(trpc, started.id);
    expect(status).toMatchObject({
      status: "failed",
      errorKind: "budget_exceeded",
      budget: { maxTokens: THREE_CALLS },
    });
    expect(status.error).toMatch(/^budget exceeded: step "W3" was not started/);
    expect(statusesOf(status)).toEqual([...Array(3).fill("completed"), ...Array(7).fill("cancelled")]);
    const ran = status.stepLogs.slice(0, 3);
    for (const log of ran) expect(log.spent.tokens).toBeGreaterThan(0);
    expect(status.stepLogs[3]).toMatchObject({ attempts: [], spent: { tokens: 0, costUsd: 0 } });
    const total = ran.reduce((sum, log) => sum + log.spent.tokens, 0);
    expect(status.usage.tokensIn + status.usage.tokensOut).toBe(total);
    expect(status.usage.calls).toBe(3);
    // The index row carries the usage for usage.get.
    const row = await env.DB.prepare(
      "select tokens_in + tokens_out as tokens, calls from executions where id = ?",
    )
      .bind(started.id)
      .first<{ tokens: number; calls: number }>();
    expect(row).toEqual({ tokens: total, calls: 3 });
  });

  it("holds a priced fan-out to its cost budget: only the calls whose worst case fits reach the provider", async () => {
    const { trpc } = await newTenant("budget-cost");
    // $1000 per million tokens: a call's worst case (50 out + its prompt and input in) is about $0.07.
    await fakeProvider(trpc, "priced", [{ id: "ok", priceIn: 1000, priceOut: 1000 }]);
    await writer(trpc, "priced:ok");
    const orchestration = await flow(trpc, fanOut(5), { maxCostUsd: 0.15 });
    const { key, tag } = fakeKey();
    const started = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: orchestration.id,
      input: { task: tag },
    });
    const status = await waitForEnd(trpc, started.id);
    expect(status).toMatchObject({ status: "failed", errorKind: "budget_exceeded" });
    expect(await recordedRequests(key)).toHaveLength(2);
    expect(statusesOf(status).filter((s) => s === "completed")).toHaveLength(2);
    // (The fake server bills every character as a token and ignores max_tokens, so what the two calls
    // spent is more than they reserved: a reservation bounds what a provider honouring maxTokens bills.)
    expect(status.usage.costUsd).toBeGreaterThan(0);
    expect(status.stepLogs[0]?.spent.costUsd).toBeCloseTo(status.stepLogs[0]?.attempts[0]?.costUsd ?? -1, 12);
  });

  it("takes execute's budget when it is smaller than the orchestration's, and the orchestration's when that is", async () => {
    const { trpc } = await newTenant("budget-min");
    await writer(trpc);
    const roomy = await flow(trpc, fanOut(10), { maxTokens: 1_000_000, maxCostUsd: 5 });
    const tight = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: roomy.id,
      budget: { maxTokens: THREE_CALLS },
    });
    const status = await waitForEnd(trpc, tight.id);
    expect(status).toMatchObject({
      errorKind: "budget_exceeded",
      budget: { maxTokens: THREE_CALLS, maxCostUsd: 5 },
    });
    expect(status.usage.calls).toBe(3);

    const strict = await flow(trpc, fanOut(2), { maxTokens: 10 });
    const loose = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: strict.id,
      budget: { maxTokens: 1_000_000 },
    });
    expect((await waitForEnd(trpc, loose.id)).budget).toEqual({ maxTokens: 10 });
  });

  it("runs without a budget as before, and an orchestration's budget can be changed and removed", async () => {
    const { trpc } = await newTenant("budget-none");
    await writer(trpc);
    const orchestration = await flow(trpc, fanOut(10));
    const run = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    const status = await waitForEnd(trpc, run.id);
    expect(status).toMatchObject({ status: "completed", budget: null, errorKind: null });
    const updated = await trpc.orchestrationManagement.update.mutate({
      orchestrationId: orchestration.id,
      updates: { budget: { maxCostUsd: 2 } },
    });
    expect(updated.budget).toEqual({ maxCostUsd: 2 });
    const renamed = await trpc.orchestrationManagement.update.mutate({
      orchestrationId: orchestration.id,
      updates: { name: "Renamed" },
    });
    expect(renamed.budget).toEqual({ maxCostUsd: 2 });
    const removed = await trpc.orchestrationManagement.update.mutate({
      orchestrationId: orchestration.id,
      updates: { budget: null },
    });
    expect(removed.budget).toBeUndefined();
  });

  it("refuses a bad budget with BAD_REQUEST naming the field, and writes nothing", async () => {
    const { trpc, tenant } = await newTenant("budget-bad");
    await writer(trpc);
    const orchestration = await flow(trpc, fanOut(1));
    const negative = await errorOf(
      trpc.orchestrationManagement.execute.mutate({
        orchestrationId: orchestration.id,
        budget: { maxTokens: -5 },
      }),
    );
    expect(negative).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "budget.maxTokens" }] });
    const text = await errorOf(
      trpc.orchestrationManagement.execute.mutate({
        orchestrationId: orchestration.id,
        budget: { maxCostUsd: "1" as unknown as number },
      }),
    );
    expect(text).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "budget.maxCostUsd", message: "must be a number of US dollars" }],
    });
    const fraction = await errorOf(
      trpc.orchestrationManagement.create.mutate({
        name: "Bad",
        steps: fanOut(1),
        budget: { maxTokens: 1.5 },
      }),
    );
    expect(fraction).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "budget.maxTokens" }] });
    const zero = await errorOf(
      trpc.orchestrationManagement.update.mutate({
        orchestrationId: orchestration.id,
        updates: { budget: { maxCostUsd: 0 } },
      }),
    );
    expect(zero).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "updates.budget.maxCostUsd" }] });
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(0);
    expect(await countRows("orchestrations", "tenant_id = ?", tenant.id)).toBe(1);
  });
});

describe("a run stored before budgets", () => {
  it("finishes unlimited: its plan has no budget, and its usage is counted at its end", async () => {
    const planted = await plantV2Execution("fanOutHeldAtM3M7");
    const end = await runToEnd(planted);
    expect(end).toMatchObject({ status: "completed", budget: null, errorKind: null });
    expect(end.usage.calls).toBe(
      end.stepLogs.reduce((sum, log) => sum + log.attempts.filter((a) => a.model).length, 0),
    );
    const row = await env.DB.prepare("select calls, usage_by_model from executions where id = ?")
      .bind(planted.executionId)
      .first<{ calls: number; usage_by_model: string }>();
    expect(row?.calls).toBe(end.usage.calls);
    expect(JSON.parse(row?.usage_by_model ?? "null")).toEqual(end.usage.byModel);
  });
});

describe("a child execution's budget", () => {
  it("gets at most what its parent has left, and its spend counts in the parent's", async () => {
    const { trpc } = await newTenant("budget-child");
    await writer(trpc);
    const child = await flow(trpc, fanOut(5));
    const parent = await flow(
      trpc,
      [{ name: "Sub", stepType: "orchestration", orchestrationId: child.id, maxRetries: 0 }],
      { maxTokens: THREE_CALLS },
    );
    const run = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: parent.id });
    const status = await waitForEnd(trpc, run.id);
    expect(status.status).toBe("failed");
    const childId = status.stepLogs[0]?.childExecutionId ?? "";
    const childStatus = await waitForEnd(trpc, childId);
    expect(childStatus).toMatchObject({
      status: "failed",
      errorKind: "budget_exceeded",
      budget: { maxTokens: THREE_CALLS },
    });
    expect(childStatus.usage.calls).toBe(3);
    const childTokens = childStatus.usage.tokensIn + childStatus.usage.tokensOut;
    expect(status.usage.children.tokens).toBe(childTokens);
    expect(status.stepLogs[0]?.spent.tokens).toBe(childTokens);
  });
});

describe("a run started by agent code inside a run", () => {
  it("holds a share of the run's budget (at most its own), is refused when nothing is left, and gives back what it did not spend", async () => {
    const code = `const first = await execute_orchestration({ orchestrationId: "Child", budget: { maxTokens: ${MAX_TOKENS * 2} } });
const second = await execute_orchestration({ orchestrationId: "Child" });
let third = null;
try { await execute_orchestration({ orchestrationId: "Child" }); } catch (error) { third = error.message; }
return { first: first.budget, second: second.budget, third, ids: [first.id, second.id] };`;
    const tenant = await metaTenant("budget-agent");
    const { trpc } = tenant;
    const designerModel = scriptedModel((call) =>
      call.request.messages.some((m) => m.role === "assistant") ? "done" : codeReply(code),
    );
    await trpc.role.update.mutate({
      roleId: tenant.designer.id,
      updates: { hyperparameters: { model: designerModel, maxTokens: 500 } },
    });
    await writer(trpc);
    await flow(trpc, fanOut(1)).then((child) =>
      trpc.orchestrationManagement.update.mutate({ orchestrationId: child.id, updates: { name: "Child" } }),
    );
    const parent = await flow(trpc, [{ name: "Spawn", roleName: DESIGNER }], { maxTokens: 20_000 });
    const run = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: parent.id });
    const status = await waitForEnd(trpc, run.id);
    expect(status.status).toBe("completed");
    const result = status.stepLogs[0]?.attempts[0]?.turns?.[0]?.run?.result as {
      first: { maxTokens: number };
      second: { maxTokens: number };
      third: string;
      ids: string[];
    };
    expect(result.first).toEqual({ maxTokens: MAX_TOKENS * 2 });
    // The second took everything the run had left beside the designer's own call and the first run.
    expect(result.second.maxTokens).toBeGreaterThan(20_000 - MAX_TOKENS * 2 - 1000);
    expect(result.second.maxTokens).toBeLessThan(20_000 - MAX_TOKENS * 2);
    expect(result.third).toMatch(/has nothing left for another run/);

    const children = await Promise.all(result.ids.map((id) => waitForEnd(trpc, id)));
    const childTokens = children.reduce(
      (sum, child) => sum + child.usage.tokensIn + child.usage.tokensOut,
      0,
    );
    expect(children.map((child) => child.status)).toEqual(["completed", "completed"]);
    // Each told the run what it spent when it ended (the run may have ended first).
    const settled = await waitFor(
      () => trpc.orchestrationManagement.getExecutionStatus.query({ executionId: run.id }),
      (seen) => seen.usage.children.tokens === childTokens,
    );
    expect(settled.usage.children.tokens).toBeGreaterThan(0);
  });
});

describe("the tenant's monthly budget", () => {
  async function setPlan(tenantId: string, plan: Record<string, number>) {
    await env.DB.prepare("update tenants set plan = ? where id = ?")
      .bind(JSON.stringify(plan), tenantId)
      .run();
  }
  const month = () => new Date().toISOString().slice(0, 7);
  const ledger = (tenantId: string) =>
    env.DB.prepare(
      "select spent_usd as spent, reserved_usd as reserved from tenant_monthly_spend where tenant_id = ? and month = ?",
    )
      .bind(tenantId, month())
      .first<{ spent: number; reserved: number }>();

  it("reserves each run's share at start so parallel runs cannot pass it, refuses execute once it is held or spent, and gives back the unspent part", async () => {
    const { trpc, tenant } = await newTenant("budget-month");
    await setPlan(tenant.id, { maxCostUsdPerMonth: 0.2, runCostReserveUsd: 0.15 });
    await writer(trpc);
    const waiting = await flow(trpc, [
      { name: "Write", roleName: "Writer" },
      { name: "Hold", stepType: "approval" },
    ]);
    const execute = () => trpc.orchestrationManagement.execute.mutate({ orchestrationId: waiting.id });
    const results = await Promise.allSettled([execute(), execute(), execute()]);
    const started = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    // Started together: one got its full share, one what was left of the month, the third nothing.
    expect(started.map((run) => run.budget?.maxCostUsd ?? 0).sort()).toEqual([
      expect.closeTo(0.05, 9),
      expect.closeTo(0.15, 9),
    ]);
    expect((await ledger(tenant.id))?.reserved).toBeCloseTo(0.2, 9);
    const [failed] = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    const refused = await errorOf(Promise.reject(failed));
    expect(refused).toMatchObject({ code: "PRECONDITION_FAILED", issues: [{ path: "budget" }] });
    expect(refused.message).toMatch(
      /monthly budget \(maxCostUsdPerMonth \$0\.2\) for \d{4}-\d{2} is used up/,
    );
    expect(await countRows("executions", "tenant_id = ?", tenant.id)).toBe(2);
    const first = started.find((run) => run.budget?.maxCostUsd === 0.15);
    if (!first) throw new Error("no run got the full share");

    // Another tenant is not touched by this one's month.
    const other = await newTenant("budget-month-other");
    await writer(other.trpc);
    const elsewhere = await flow(other.trpc, fanOut(1));
    const theirs = await other.trpc.orchestrationManagement.execute.mutate({ orchestrationId: elsewhere.id });
    expect((await waitForEnd(other.trpc, theirs.id)).status).toBe("completed");

    // The local model costs nothing: when the first run ends its whole share comes back.
    await trpc.orchestrationManagement.approve.mutate({
      executionId: first.id,
      stepName: "Hold",
      approved: true,
    });
    expect((await waitForEnd(trpc, first.id)).status).toBe("completed");
    const after = await waitFor(
      () => ledger(tenant.id),
      (row) => (row?.reserved ?? 1) < 0.06,
    );
    expect(after).toMatchObject({ spent: 0 });
    expect(after?.reserved).toBeCloseTo(0.05, 9);
    const third = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: waiting.id });
    expect(third.budget).toEqual({ maxCostUsd: 0.15 });
  });

  it("counts what runs spent against the month", async () => {
    const { trpc, tenant } = await newTenant("budget-month-spend");
    await setPlan(tenant.id, { maxCostUsdPerMonth: 1, runCostReserveUsd: 0.5 });
    await fakeProvider(trpc, "priced", [{ id: "ok", priceIn: 1000, priceOut: 1000 }]);
    await writer(trpc, "priced:ok");
    const orchestration = await flow(trpc, fanOut(1));
    const run = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    const status = await waitForEnd(trpc, run.id);
    expect(status.status).toBe("completed");
    const row = await waitFor(
      () => ledger(tenant.id),
      (found) => (found?.reserved ?? 1) === 0,
    );
    expect(row?.spent).toBeCloseTo(status.usage.costUsd, 12);
    expect(row?.spent).toBeGreaterThan(0);
  });

  it("counts a resumed run's further spend when it ends again, and releases its reservation once", async () => {
    const { trpc, tenant } = await newTenant("budget-month-resume");
    await setPlan(tenant.id, { maxCostUsdPerMonth: 5, runCostReserveUsd: 1 });
    await fakeProvider(trpc, "priced", [{ id: "ok", priceIn: 1000, priceOut: 1000 }]);
    await writer(trpc, "priced:ok");
    const orchestration = await flow(trpc, [
      { name: "Before", roleName: "Writer" },
      { name: "Hold", stepType: "approval" },
      { name: "After", roleName: "Writer" },
    ]);
    const run = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
    await waitFor(
      () => trpc.orchestrationManagement.getExecutionStatus.query({ executionId: run.id }),
      (status) => status.stepLogs[1]?.status === "waiting",
    );
    await trpc.orchestrationManagement.cancel.mutate({ executionId: run.id });
    const cancelled = await waitForEnd(trpc, run.id);
    const first = await waitFor(
      () => ledger(tenant.id),
      (row) => (row?.reserved ?? 1) === 0,
    );
    expect(first?.spent).toBeCloseTo(cancelled.usage.costUsd, 12);

    await trpc.orchestrationManagement.resume.mutate({ executionId: run.id });
    await trpc.orchestrationManagement.approve.mutate({
      executionId: run.id,
      stepName: "Hold",
      approved: true,
    });
    const end = await waitForEnd(trpc, run.id);
    expect(end.status).toBe("completed");
    expect(end.usage.costUsd).toBeGreaterThan(cancelled.usage.costUsd);
    const second = await waitFor(
      () => ledger(tenant.id),
      (row) => Math.abs((row?.spent ?? 0) - end.usage.costUsd) < 1e-9,
    );
    expect(second?.reserved).toBe(0);
  });
});
