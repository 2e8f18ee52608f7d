// usage.get: tokens (in and out), cost, calls and executions of the caller's tenant per day, orchestration
// or model, from the usage each run's index row gets when it ends; other tenants' runs never count.
import { describe, expect, it } from "vitest";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { waitForEnd } from "../helpers/executions";
import { fakeProvider } from "../helpers/providers";
import { ageExecution } from "../helpers/runs";

const DAY_MS = 24 * 60 * 60 * 1000;

async function roleAndFlow(trpc: TestClient, name: string, model?: string) {
  await trpc.role.create.mutate({
    name: `${name} role`,
    basePrompt: "You write.",
    hyperparameters: { maxTokens: 50, ...(model ? { model } : {}) },
  });
  return trpc.orchestrationManagement.create.mutate({
    name,
    steps: [
      { name: "One", roleName: `${name} role` },
      { name: "Two", roleName: `${name} role` },
    ],
  });
}

async function runToEnd(trpc: TestClient, orchestrationId: string) {
  const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId });
  return waitForEnd(trpc, started.id);
}

/** A tenant with two runs of a local flow and one of a priced flow (the first local run a day older). */
async function tenantWithRuns() {
  const { trpc } = await newTenant("usage");
  await fakeProvider(trpc, "priced", [{ id: "ok", priceIn: 100, priceOut: 200 }]);
  const local = await roleAndFlow(trpc, "Local flow", "local/simulated");
  const priced = await roleAndFlow(trpc, "Priced flow", "priced:ok");
  const runs = [
    await runToEnd(trpc, local.id),
    await runToEnd(trpc, local.id),
    await runToEnd(trpc, priced.id),
  ];
  await ageExecution(runs[0]?.id ?? "", DAY_MS);
  return { trpc, local, priced, runs };
}

describe("usage.get", () => {
  it("groups the tenant's usage by orchestration, by model and by day, with totals", async () => {
    const { trpc, local, priced, runs } = await tenantWithRuns();
    const [firstLocal, secondLocal, pricedRun] = runs.map((run) => run?.usage);
    if (!firstLocal || !secondLocal || !pricedRun) throw new Error("runs missing");
    expect(pricedRun.costUsd).toBeGreaterThan(0);

    const byOrchestration = await trpc.usage.get.query({ groupBy: "orchestration" });
    expect(byOrchestration.groups).toEqual([
      {
        key: priced.id,
        label: "Priced flow",
        executions: 1,
        calls: 2,
        tokensIn: pricedRun.tokensIn,
        tokensOut: pricedRun.tokensOut,
        costUsd: expect.closeTo(pricedRun.costUsd, 12),
      },
      {
        key: local.id,
        label: "Local flow",
        executions: 2,
        calls: 4,
        tokensIn: firstLocal.tokensIn + secondLocal.tokensIn,
        tokensOut: firstLocal.tokensOut + secondLocal.tokensOut,
        costUsd: 0,
      },
    ]);
    expect(byOrchestration.total).toMatchObject({ executions: 3, calls: 6 });

    const byModel = await trpc.usage.get.query({ groupBy: "model" });
    expect(byModel.groups.map((group) => [group.key, group.executions, group.calls])).toEqual([
      ["ok", 1, 2],
      [Object.keys(firstLocal.byModel)[0], 2, 4],
    ]);

    const byDay = await trpc.usage.get.query({ groupBy: "day" });
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
    expect(byDay.groups.map((group) => [group.key, group.executions])).toEqual([
      [yesterday, 1],
      [today, 2],
    ]);
  });

  it("counts only executions created in [from, to)", async () => {
    const { trpc } = await tenantWithRuns();
    const from = new Date(Date.now() - DAY_MS / 2).toISOString();
    const recent = await trpc.usage.get.query({ groupBy: "day", from });
    expect(recent.total.executions).toBe(2);
    expect(recent.from).toBe(from);
    const before = await trpc.usage.get.query({ groupBy: "orchestration", to: from });
    expect(before.total.executions).toBe(1);
  });

  it("shows a tenant nothing of another's runs", async () => {
    await tenantWithRuns();
    const { trpc } = await newTenant("usage-other");
    for (const groupBy of ["day", "orchestration", "model"] as const) {
      const report = await trpc.usage.get.query({ groupBy });
      expect(report.groups).toEqual([]);
      expect(report.total).toEqual({ executions: 0, calls: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 });
    }
  });

  it("refuses bad input with BAD_REQUEST naming the field", async () => {
    const { trpc } = await newTenant("usage-bad");
    const week = await errorOf(trpc.usage.get.query({ groupBy: "week" as "day" }));
    expect(week).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "groupBy", message: 'must be "day", "orchestration" or "model"' }],
    });
    const garbled = await errorOf(trpc.usage.get.query({ groupBy: "day", from: "yesterday" }));
    expect(garbled).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "from" }] });
    const backwards = await errorOf(
      trpc.usage.get.query({ groupBy: "day", from: "2026-12-02", to: "2026-12-01" }),
    );
    expect(backwards).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "to", message: "must be after from" }],
    });
    const long = await errorOf(
      trpc.usage.get.query({ groupBy: "day", from: "2024-01-01", to: "2026-01-01" }),
    );
    expect(long).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "to" }] });
  });

  it("needs signing in", async () => {
    const { makeClient } = await import("../helpers/client");
    const anonymous = await errorOf(makeClient().usage.get.query({ groupBy: "day" }));
    expect(anonymous.code).toBe("UNAUTHORIZED");
  });
});
