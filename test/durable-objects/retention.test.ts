// Deleting executions for good: `execution.delete` (an ended run of one's own tenant; live ones and other
// tenants' are refused, changing nothing), the cron's retention (ended runs past the tenant's retention,
// its plan able to change it), and a deleted team (no sign-in at once, then its runs and rows go).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { purgeExpired } from "../../durable-objects/execution/retention";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { countRows } from "../helpers/db";
import { tenantWithApiKey } from "../helpers/fixtures";
import { storedState } from "../helpers/v1-state";

const DAY_MS = 24 * 60 * 60 * 1000;

async function finishedRun(trpc: TestClient, name = "Flow") {
  await trpc.role.create.mutate({ name: `${name} role`, basePrompt: "You answer." }).catch(() => undefined);
  const orchestration = await trpc.orchestrationManagement.create.mutate({
    name,
    steps: [{ name: "Only", roleName: `${name} role` }],
  });
  const run = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
  expect(run.status).toBe("completed");
  return { orchestration, executionId: run.id };
}

async function waitingRun(trpc: TestClient) {
  const orchestration = await trpc.orchestrationManagement.create.mutate({
    name: "Needs sign-off",
    steps: [{ name: "Sign off", stepType: "approval", message: "OK?" }],
  });
  const run = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: orchestration.id });
  expect(run.status).toBe("running");
  return run.id;
}

/** Moves an ended execution's finish time back by `days` in D1. */
async function finishedDaysAgo(executionId: string, days: number, now: number) {
  await env.DB.prepare("update executions set finished_at = ? where id = ?")
    .bind(now - days * DAY_MS, executionId)
    .run();
}

describe("execution.delete", () => {
  it("deletes an ended execution's object storage, index row and agent-run log", async () => {
    const { trpc } = await newTenant("delete");
    const { executionId } = await finishedRun(trpc);
    expect((await storedState(executionId)).raw.size).toBeGreaterThan(0);

    expect(await trpc.execution.delete.mutate({ executionId })).toEqual({ executionId, deleted: true });

    expect((await storedState(executionId)).raw.size).toBe(0);
    expect(await countRows("executions", "id = ?", executionId)).toBe(0);
    const gone = await errorOf(trpc.orchestrationManagement.getExecutionStatus.query({ executionId }));
    expect(gone.code).toBe("NOT_FOUND");
    // Deleting again: it no longer exists.
    expect((await errorOf(trpc.execution.delete.mutate({ executionId }))).code).toBe("NOT_FOUND");
  });

  it("refuses a live execution and another tenant's, changing nothing", async () => {
    const { trpc } = await newTenant("delete-live");
    const live = await waitingRun(trpc);
    const refused = await errorOf(trpc.execution.delete.mutate({ executionId: live }));
    expect(refused.code).toBe("CONFLICT");
    expect(refused.message).toMatch(/running; cancel it first/);
    expect((await trpc.orchestrationManagement.getExecutionStatus.query({ executionId: live })).status).toBe(
      "running",
    );

    const { executionId } = await finishedRun(trpc);
    const other = await newTenant("delete-other");
    expect((await errorOf(other.trpc.execution.delete.mutate({ executionId }))).code).toBe("NOT_FOUND");
    expect(await countRows("executions", "id = ?", executionId)).toBe(1);
    expect((await storedState(executionId)).raw.size).toBeGreaterThan(0);
  });
});

describe("retention", () => {
  it("deletes ended runs past the tenant's retention, keeps newer ones and live ones, honours the plan", async () => {
    const now = Date.now();
    const { trpc } = await newTenant("retention");
    const old = await finishedRun(trpc, "Old");
    const recent = await finishedRun(trpc, "Recent");
    const live = await waitingRun(trpc);
    await finishedDaysAgo(old.executionId, 31, now);
    await finishedDaysAgo(recent.executionId, 29, now);

    const planned = await newTenant("retention-plan");
    await env.DB.prepare("update tenants set plan = ? where id = ?")
      .bind(JSON.stringify({ retentionDays: 90 }), planned.tenant.id)
      .run();
    const kept = await finishedRun(planned.trpc, "Kept");
    await finishedDaysAgo(kept.executionId, 31, now);

    // Other tests' runs may be past retention too: pass until ours is gone (each pass takes a batch).
    for (let pass = 0; pass < 20 && (await countRows("executions", "id = ?", old.executionId)) > 0; pass++)
      await purgeExpired(env, now);

    expect(await countRows("executions", "id = ?", old.executionId)).toBe(0);
    expect((await storedState(old.executionId)).raw.size).toBe(0);
    expect(await countRows("executions", "id in (?, ?, ?)", recent.executionId, live, kept.executionId)).toBe(
      3,
    );
    expect((await storedState(recent.executionId)).raw.size).toBeGreaterThan(0);
  });
});

describe("tenant.delete", () => {
  it("needs the team's name; then nobody can sign in, and the cron removes its runs and every row", async () => {
    const team = await tenantWithApiKey("doomed");
    const bystander = await tenantWithApiKey("bystander");
    const { executionId } = await finishedRun(team.trpc);
    const live = await waitingRun(team.trpc);
    const theirs = await finishedRun(bystander.trpc);

    const wrong = await errorOf(team.trpc.tenant.delete.mutate({ confirmName: "not it" }));
    expect(wrong.code).toBe("BAD_REQUEST");
    expect(wrong.issues).toEqual([
      { path: "confirmName", message: expect.stringContaining(team.tenant.name) },
    ]);
    expect(await countRows("users", "tenant_id = ?", team.tenant.id)).toBe(1);
    // An API key is not enough.
    expect((await errorOf(team.keyClient.tenant.delete.mutate({ confirmName: team.tenant.name }))).code).toBe(
      "FORBIDDEN",
    );

    expect(await team.trpc.tenant.delete.mutate({ confirmName: team.tenant.name })).toEqual({
      deleted: true,
    });
    expect((await errorOf(team.trpc.auth.me.query())).code).toBe("UNAUTHORIZED");
    expect((await errorOf(team.keyClient.auth.me.query())).code).toBe("UNAUTHORIZED");

    for (let pass = 0; pass < 20 && (await countRows("tenants", "id = ?", team.tenant.id)) > 0; pass++)
      await purgeExpired(env, Date.now());

    expect(await countRows("tenants", "id = ?", team.tenant.id)).toBe(0);
    for (const table of ["roles", "orchestrations", "executions", "api_keys", "users"])
      expect(await countRows(table, "tenant_id = ?", team.tenant.id)).toBe(0);
    expect((await storedState(executionId)).raw.size).toBe(0);
    expect((await storedState(live)).raw.size).toBe(0);
    // The other team is untouched.
    const view = await bystander.trpc.orchestrationManagement.getExecutionStatus.query({
      executionId: theirs.executionId,
    });
    expect(view.status).toBe("completed");
  });
});
