// Count quotas per tenant (maxRoles, maxOrchestrations, maxApiKeys, maxProviders): a create past the count
// answers FORBIDDEN naming the limit and the tenant's count, writes nothing, holds under parallel creates,
// binds agent code too, and leaves other tenants alone; a plan (tenants.plan) raises or lowers each.
// Versions kept per orchestration (maxVersionsKept): older ones pruned on update, except one a live run
// pinned; asking for a pruned version says so.
import { describe, expect, it } from "vitest";
import { metaTenant, runCode } from "../helpers/agent-code";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { countRows, rowsOf } from "../helpers/db";
import { waitFor } from "../helpers/executions";
import { roleInput } from "../helpers/fixtures";
import { seedRoles, setPlan } from "../helpers/plans";
import { model } from "../helpers/providers";

const roleCount = (tenantId: string) => countRows("roles", "tenant_id = ?", tenantId);

const quotaMessage = (count: number, what: string, limit: string, value: number) =>
  `this team has ${count} ${what}, the most its plan allows (${limit}: ${value}); delete one first, or ask the operator to raise ${limit}`;

describe("roles per tenant (maxRoles)", () => {
  it("refuses the role past the default 1000 with FORBIDDEN naming the limit and the count, writing nothing", async () => {
    const { trpc, tenant } = await newTenant();
    await seedRoles(tenant.id, 1000);

    const error = await errorOf(trpc.role.create.mutate(roleInput("One too many")));

    expect(error).toMatchObject({
      code: "FORBIDDEN",
      httpStatus: 403,
      message: quotaMessage(1000, "roles", "maxRoles", 1000),
    });
    expect(await roleCount(tenant.id)).toBe(1000);
    expect(await countRows("roles", "tenant_id = ? and name = ?", tenant.id, "One too many")).toBe(0);
  });

  it("lets a tenant whose plan raises maxRoles create more, while another tenant stays at the default", async () => {
    const [raised, standard] = await Promise.all([newTenant("raised"), newTenant("standard")]);
    await Promise.all([seedRoles(raised.tenant.id, 1000), seedRoles(standard.tenant.id, 1000)]);
    await setPlan(raised.tenant.id, { maxRoles: 1001 });

    await raised.trpc.role.create.mutate(roleInput("The 1001st"));
    const refused = await errorOf(raised.trpc.role.create.mutate(roleInput("The 1002nd")));
    const standardRefused = await errorOf(standard.trpc.role.create.mutate(roleInput("The 1001st")));

    expect(refused.message).toBe(quotaMessage(1001, "roles", "maxRoles", 1001));
    expect(standardRefused.message).toBe(quotaMessage(1000, "roles", "maxRoles", 1000));
    expect(await roleCount(raised.tenant.id)).toBe(1001);
    expect(await roleCount(standard.tenant.id)).toBe(1000);
  });

  it("holds under parallel creates: 10 at once with room for 3 make exactly 3", async () => {
    const { trpc, tenant } = await newTenant();
    await setPlan(tenant.id, { maxRoles: 5 });
    await trpc.role.create.mutate(roleInput("First"));
    await trpc.role.create.mutate(roleInput("Second"));

    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => trpc.role.create.mutate(roleInput(`Parallel ${i}`))),
    );

    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(3);
    const refusals = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as Error] : []));
    expect(refusals).toHaveLength(7);
    for (const refusal of refusals) expect(refusal.message).toContain("(maxRoles: 5)");
    expect(await roleCount(tenant.id)).toBe(5);
  });

  it("binds agent code's create_role the same way", async () => {
    const { trpc, tenant } = await metaTenant();
    await setPlan(tenant.id, { maxRoles: 1 });

    const run = await runCode(
      trpc,
      `try {
  await create_role({ name: "Helper", basePrompt: "You help." });
  return "created";
} catch (error) {
  return String(error.message);
}`,
    );

    expect(run.ok).toBe(true);
    expect(run.result).toContain(quotaMessage(1, "roles", "maxRoles", 1));
    expect(await roleCount(tenant.id)).toBe(1);
  });

  it("frees a place when a role is deleted", async () => {
    const { trpc, tenant } = await newTenant();
    await setPlan(tenant.id, { maxRoles: 1 });
    const only = await trpc.role.create.mutate(roleInput("Only"));
    expect((await errorOf(trpc.role.create.mutate(roleInput("Second")))).code).toBe("FORBIDDEN");
    await trpc.role.delete.mutate({ roleId: only.id });
    await trpc.role.create.mutate(roleInput("Second"));
    expect(await roleCount(tenant.id)).toBe(1);
  });
});

const flow = (name: string) => ({ name, steps: [{ name: "Only", roleName: "Nobody" }] });

describe("orchestrations per tenant (maxOrchestrations)", () => {
  it("refuses the one past the plan's count, leaving no header and no version behind", async () => {
    const { trpc, tenant } = await newTenant();
    await setPlan(tenant.id, { maxOrchestrations: 2 });
    await trpc.orchestrationManagement.create.mutate(flow("One"));
    await trpc.orchestrationManagement.create.mutate(flow("Two"));

    const error = await errorOf(trpc.orchestrationManagement.create.mutate(flow("Three")));

    expect(error).toMatchObject({
      code: "FORBIDDEN",
      message: quotaMessage(2, "orchestrations", "maxOrchestrations", 2),
    });
    expect(await countRows("orchestrations", "tenant_id = ?", tenant.id)).toBe(2);
    expect(await countRows("orchestration_versions", "tenant_id = ?", tenant.id)).toBe(2);
  });

  it("holds under parallel creates, each kept orchestration with its first version", async () => {
    const { trpc, tenant } = await newTenant();
    await setPlan(tenant.id, { maxOrchestrations: 3 });

    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => trpc.orchestrationManagement.create.mutate(flow(`Flow ${i}`))),
    );

    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(3);
    expect(await countRows("orchestrations", "tenant_id = ?", tenant.id)).toBe(3);
    expect(await countRows("orchestration_versions", "tenant_id = ?", tenant.id)).toBe(3);
  });

  it("binds agent code's create_orchestration", async () => {
    const { trpc, tenant } = await metaTenant();
    await setPlan(tenant.id, { maxOrchestrations: 0 });
    const run = await runCode(
      trpc,
      `try { await create_orchestration(${JSON.stringify(flow("Agent's"))}); return "created"; }
catch (error) { return String(error.message); }`,
    );
    expect(run.result).toContain(quotaMessage(0, "orchestrations", "maxOrchestrations", 0));
    expect(await countRows("orchestrations", "tenant_id = ?", tenant.id)).toBe(0);
  });
});

describe("API keys (maxApiKeys) and providers (maxProviders) per tenant", () => {
  it("refuses a key past the count of live keys; a revoked key frees its place", async () => {
    const { trpc, tenant } = await newTenant();
    await setPlan(tenant.id, { maxApiKeys: 2 });
    const first = await trpc.apiKey.create.mutate({ name: "first" });
    await trpc.apiKey.create.mutate({ name: "second" });

    const error = await errorOf(trpc.apiKey.create.mutate({ name: "third" }));
    expect(error).toMatchObject({ code: "FORBIDDEN", message: quotaMessage(2, "API keys", "maxApiKeys", 2) });
    expect(await countRows("api_keys", "tenant_id = ?", tenant.id)).toBe(2);

    await trpc.apiKey.revoke.mutate({ apiKeyId: first.id });
    await trpc.apiKey.create.mutate({ name: "third" });
    expect(await countRows("api_keys", "tenant_id = ? and revoked_at is null", tenant.id)).toBe(2);
  });

  it("refuses a provider past the count, writing nothing, while another tenant adds its own", async () => {
    const [limited, other] = await Promise.all([newTenant("limited"), newTenant("other")]);
    await setPlan(limited.tenant.id, { maxProviders: 1 });
    const provider = (name: string) => ({
      name,
      kind: "workers-ai" as const,
      models: [model({ id: "@cf/m" })],
    });
    await limited.trpc.provider.create.mutate(provider("first"));

    const error = await errorOf(limited.trpc.provider.create.mutate(provider("second")));
    await other.trpc.provider.create.mutate(provider("first"));
    await other.trpc.provider.create.mutate(provider("second"));

    expect(error).toMatchObject({
      code: "FORBIDDEN",
      message: quotaMessage(1, "providers", "maxProviders", 1),
    });
    expect(await countRows("providers", "tenant_id = ?", limited.tenant.id)).toBe(1);
    expect(await countRows("providers", "tenant_id = ?", other.tenant.id)).toBe(2);
  });
});

async function storedVersions(orchestrationId: string): Promise<number[]> {
  const rows = await rowsOf("orchestration_versions", "orchestration_id = ?", orchestrationId);
  return rows.map((row) => Number(row.version)).toSorted((a, b) => b - a);
}

async function updateTimes(trpc: TestClient, orchestrationId: string, times: number) {
  for (let i = 0; i < times; i++) {
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId,
      updates: { description: `edit ${crypto.randomUUID()}` },
    });
  }
}

async function indexStatus(executionId: string) {
  const [row] = await rowsOf("executions", "id = ?", executionId);
  return row?.status;
}

describe("versions kept per orchestration (maxVersionsKept)", () => {
  it("keeps the newest maxVersionsKept versions; asking for a pruned one says it was pruned", async () => {
    const { trpc, tenant } = await newTenant();
    await setPlan(tenant.id, { maxVersionsKept: 3 });
    const created = await trpc.orchestrationManagement.create.mutate(flow("Edited often"));

    await updateTimes(trpc, created.id, 5);

    expect(await storedVersions(created.id)).toEqual([6, 5, 4]);
    const listed = await trpc.orchestrationManagement.versions.query({ orchestrationId: created.id });
    expect(listed.items.map((v) => v.version)).toEqual([6, 5, 4]);
    const pruned = await errorOf(
      trpc.orchestrationManagement.get.query({ nameOrId: created.id, version: 2 }),
    );
    expect(pruned).toMatchObject({
      code: "NOT_FOUND",
      message: `version 2 of orchestration "Edited often" was pruned: only the newest versions (maxVersionsKept) and those a pending or running execution uses are kept; "Edited often" is at version 6`,
    });
    const future = await errorOf(
      trpc.orchestrationManagement.get.query({ nameOrId: created.id, version: 9 }),
    );
    expect(future.message).toContain('version 9 of orchestration "Edited often" does not exist yet');
    const run = await errorOf(
      trpc.orchestrationManagement.execute.mutate({ orchestrationId: created.id, version: 1 }),
    );
    expect(run).toMatchObject({ code: "NOT_FOUND", message: expect.stringContaining("was pruned") });
  });

  it("keeps 50 by default, and only touches the orchestration updated", async () => {
    const { trpc } = await newTenant();
    const busy = await trpc.orchestrationManagement.create.mutate(flow("Busy"));
    const quiet = await trpc.orchestrationManagement.create.mutate(flow("Quiet"));
    await updateTimes(trpc, quiet.id, 2);

    await updateTimes(trpc, busy.id, 51);

    const kept = await storedVersions(busy.id);
    expect(kept).toHaveLength(50);
    expect(kept.at(-1)).toBe(3);
    expect(await storedVersions(quiet.id)).toEqual([3, 2, 1]);
  });

  it("keeps a version a running execution pinned until that run ends; a re-run of it then says it was pruned", async () => {
    const { trpc, tenant } = await newTenant();
    await setPlan(tenant.id, { maxVersionsKept: 2 });
    const created = await trpc.orchestrationManagement.create.mutate({
      name: "Waits for a person",
      steps: [{ name: "Sign off", stepType: "approval", message: "Ship it?" }],
    });
    const started = await trpc.orchestrationManagement.execute.mutate({ orchestrationId: created.id });
    await waitFor(
      () => indexStatus(started.id),
      (status) => status === "running",
    );

    await updateTimes(trpc, created.id, 3);
    expect(await storedVersions(created.id)).toEqual([4, 3, 1]);

    await trpc.orchestrationManagement.cancel.mutate({ executionId: started.id });
    await waitFor(
      () => indexStatus(started.id),
      (status) => status === "cancelled",
    );
    await updateTimes(trpc, created.id, 1);
    expect(await storedVersions(created.id)).toEqual([5, 4]);

    const rerun = await errorOf(trpc.orchestrationManagement.rerun.mutate({ executionId: started.id }));
    expect(rerun).toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringContaining('version 1 of orchestration "Waits for a person" was pruned'),
    });
  });
});
