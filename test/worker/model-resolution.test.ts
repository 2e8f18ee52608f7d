// Which model a role gets: "<provider>:<id>" refs, bare ids (the tenant's models before the platform's),
// capabilities and context limits choosing the cheapest fitting model, the platform's prices, and unknown
// models refused when a role is saved (through the API and agent code) or an execution starts. Then a run
// whose role uses a tenant provider: it reaches the tenant's endpoint with the tenant's key and is priced.
import { describe, expect, it } from "vitest";
import type { PinnedModel, RoleSnapshot } from "../../durable-objects/engine/types";
import type { TenantModel } from "../../worker/db/providers";
import type { ModelEnv } from "../../worker/models/gateway";
import { resolveModel } from "../../worker/models/resolve";
import { normalizeModel } from "../../worker/schemas/provider";
import { metaTenant, runCode } from "../helpers/agent-code";
import { errorOf, newTenant } from "../helpers/client";
import { countRows } from "../helpers/db";
import { waitForEnd } from "../helpers/executions";
import { fakeKey, recordedRequests } from "../helpers/fake-openai";
import { fakeProvider, type ModelSpec, model } from "../helpers/providers";

type Needs = Pick<RoleSnapshot, "capabilities" | "contextLimits" | "hyperparameters">;

function role(hyperparameters: Partial<Needs["hyperparameters"]> = {}, more: Partial<Needs> = {}): Needs {
  return {
    capabilities: { needsCoding: false, needsTools: false, needsReasoning: false },
    contextLimits: { minContext: 4096, maxContext: 128_000 },
    hyperparameters: { temperature: 0.7, maxTokens: 4096, ...hyperparameters },
    ...more,
  };
}

function tenantModels(providerName: string, specs: ModelSpec[]): TenantModel[] {
  return specs.map((spec) => ({
    providerId: `prv_${providerName}`,
    providerName,
    kind: "openai-compatible",
    model: normalizeModel(model(spec)),
  }));
}

const ROUTER = tenantModels("my-router", [
  {
    id: "anthropic/claude-sonnet",
    contextWindow: 200_000,
    priceIn: 3,
    priceOut: 15,
    capabilities: { reasoning: true, coding: true },
  },
  { id: "gpt-4o-mini", contextWindow: 128_000, priceIn: 0.1, priceOut: 0.1 },
  { id: "llama3:8b", contextWindow: 8_000, priceIn: 0.01, priceOut: 0.01 },
]);

/** A deployment that lists its OpenAI models: no id outside the catalog is accepted. */
const STRICT: ModelEnv = {
  DEFAULT_MODEL_PROVIDER: "local",
  OPENAI_BASE_URL: "https://api.openai.com/v1",
  OPENAI_MODELS: "gpt-4o-mini,gpt-4.1",
};
/** Development and tests: OPENAI_MODELS="*" accepts any id, as before the catalog was enforced. */
const ANY: ModelEnv = {
  DEFAULT_MODEL_PROVIDER: "local",
  OPENAI_BASE_URL: "http://127.0.0.1:1/v1",
  OPENAI_MODELS: "*",
};

function resolved(needs: Needs, tenant: TenantModel[], env: ModelEnv): PinnedModel {
  const result = resolveModel(needs, tenant, env);
  if (!result.ok) throw new Error(result.message);
  return result.model;
}

function refused(needs: Needs, tenant: TenantModel[], env: ModelEnv): string {
  const result = resolveModel(needs, tenant, env);
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.model)}`);
  return result.message;
}

describe("resolving a role's model", () => {
  it('"<provider>:<id>" picks the tenant provider\'s model, ids with colons included', () => {
    expect(resolved(role({ model: "my-router:anthropic/claude-sonnet" }), ROUTER, STRICT)).toEqual({
      source: "tenant",
      providerId: "prv_my-router",
      providerName: "my-router",
      kind: "openai-compatible",
      id: "anthropic/claude-sonnet",
      contextWindow: 200_000,
      priceIn: 3,
      priceOut: 15,
      structuredOutput: false,
      streaming: true,
    });
    expect(resolved(role({ model: "my-router:llama3:8b" }), ROUTER, STRICT)).toMatchObject({
      id: "llama3:8b",
    });
  });

  it("a bare id is the tenant's model before the platform's", () => {
    expect(resolved(role({ model: "gpt-4o-mini" }), ROUTER, STRICT)).toMatchObject({
      source: "tenant",
      providerName: "my-router",
      priceIn: 0.1,
    });
    expect(resolved(role({ model: "gpt-4o-mini" }), [], STRICT)).toMatchObject({
      source: "platform",
      providerName: "openai",
      kind: "openai-compatible",
      priceIn: 0.15,
      priceOut: 0.6,
    });
  });

  it("a platform prefix always means the platform, with OpenAI's published prices", () => {
    expect(resolved(role({ model: "openai:gpt-4o-mini" }), ROUTER, STRICT)).toMatchObject({
      source: "platform",
      id: "gpt-4o-mini",
      priceIn: 0.15,
      priceOut: 0.6,
      structuredOutput: true,
    });
    expect(resolved(role({ model: "openai:gpt-4.1" }), [], STRICT)).toMatchObject({
      priceIn: 2,
      priceOut: 8,
    });
    expect(resolved(role({ model: "local:local/simulated" }), [], STRICT)).toMatchObject({ kind: "local" });
    expect(resolved(role({ model: "script:anything" }), [], STRICT)).toMatchObject({
      kind: "script",
      id: "script:anything",
    });
  });

  it("without a model named, picks the cheapest tenant model with the capabilities and context asked for", () => {
    const reasoning = role(
      {},
      { capabilities: { needsCoding: false, needsTools: false, needsReasoning: true } },
    );
    expect(resolved(reasoning, ROUTER, STRICT)).toMatchObject({ id: "anthropic/claude-sonnet" });
    expect(resolved(role(), ROUTER, STRICT)).toMatchObject({ id: "llama3:8b", source: "tenant" });
    const wider = role({}, { contextLimits: { minContext: 10_000, maxContext: 128_000 } });
    expect(resolved(wider, ROUTER, STRICT)).toMatchObject({ id: "gpt-4o-mini", source: "tenant" });
  });

  it("falls back to the platform's default provider when no tenant model fits", () => {
    const huge = role({}, { contextLimits: { minContext: 500_000, maxContext: 1_000_000 } });
    expect(resolved(huge, ROUTER, STRICT)).toMatchObject({ source: "platform", kind: "local" });
    const onWorkersAi = { ...STRICT, DEFAULT_MODEL_PROVIDER: "workers-ai" };
    expect(resolved(role(), [], onWorkersAi)).toMatchObject({
      providerName: "workers-ai",
      id: "@cf/meta/llama-3.1-8b-instruct-fast",
    });
  });

  it("refuses a model neither the tenant nor the platform offers, listing what exists", () => {
    expect(refused(role({ model: "my-router:gpt-9" }), ROUTER, STRICT)).toBe(
      'provider "my-router" has no model "gpt-9"; its models are anthropic/claude-sonnet, gpt-4o-mini, llama3:8b',
    );
    const bare = refused(role({ model: "claude-opus" }), ROUTER, STRICT);
    expect(bare).toContain(
      "\"claude-opus\" is neither one of this tenant's provider models nor one of the platform's",
    );
    expect(bare).toContain("my-router:anthropic/claude-sonnet");
    expect(bare).toContain("openai:gpt-4.1");
    expect(refused(role({ model: "openai:gpt-9" }), [], STRICT)).toContain(
      '"openai:gpt-9" is not offered by this platform',
    );
    expect(refused(role({ model: "openai:gpt-4o-mini" }), [], { OPENAI_MODELS: "gpt-4o-mini" })).toContain(
      "is not offered by this platform",
    );
  });

  it('accepts any platform id where OPENAI_MODELS is "*" (development and tests), as before', () => {
    expect(resolved(role({ model: "openai:ok" }), [], ANY)).toMatchObject({ id: "ok", priceIn: 0 });
    expect(resolved(role({ model: "m-1" }), [], ANY)).toMatchObject({ kind: "local", id: "m-1" });
    expect(refused(role({ model: "my-router:gpt-9" }), ROUTER, ANY)).toContain('has no model "gpt-9"');
    const ollama = { ...STRICT, OPENAI_MODEL: "llama3:70b" };
    expect(resolved(role({ model: "llama3:70b" }), [], ollama)).toMatchObject({ providerName: "openai" });
    expect(refused(role({ model: "gone:ok" }), ROUTER, ANY)).toContain(
      '"gone:ok" names no provider of this tenant (its providers: my-router)',
    );
  });
});

describe("unknown models at save time and at start", () => {
  it("refuses role.create and role.update naming a model that does not exist, writing nothing", async () => {
    const { trpc, tenant } = await newTenant("unknown-model");
    await fakeProvider(trpc, "mine", [{ id: "ok" }]);
    const created = await errorOf(
      trpc.role.create.mutate({
        name: "Writer",
        basePrompt: "Write.",
        hyperparameters: { model: "mine:gpt-9" },
      }),
    );
    expect(created).toMatchObject({
      code: "BAD_REQUEST",
      message: 'hyperparameters.model: provider "mine" has no model "gpt-9"; its models are ok',
      issues: [
        { path: "hyperparameters.model", message: 'provider "mine" has no model "gpt-9"; its models are ok' },
      ],
    });
    expect(await countRows("roles", "tenant_id = ?", tenant.id)).toBe(0);
    const writer = await trpc.role.create.mutate({
      name: "Writer",
      basePrompt: "Write.",
      hyperparameters: { model: "mine:ok" },
    });
    const updated = await errorOf(
      trpc.role.update.mutate({ roleId: writer.id, updates: { hyperparameters: { model: "mine:nope" } } }),
    );
    expect(updated).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "updates.hyperparameters.model" }],
    });
    expect((await trpc.role.get.query({ nameOrId: writer.id })).hyperparameters.model).toBe("mine:ok");
  });

  it("refuses the same for roles created by agent code", async () => {
    const { trpc } = await metaTenant("agent-model");
    await fakeProvider(trpc, "mine", [{ id: "ok" }]);
    const run = await runCode(
      trpc,
      `await create_role({ name: "Bad", basePrompt: "x", hyperparameters: { model: "mine:gpt-9" } });`,
    );
    expect(run.error).toMatchObject({ code: "BAD_REQUEST" });
    expect(run.error?.message).toContain('hyperparameters.model: provider "mine" has no model "gpt-9"');
    expect((await trpc.role.list.query()).items.map((r) => r.name)).not.toContain("Bad");
  });

  it("refuses to start a run whose role's provider was deleted since, naming the role and the step", async () => {
    const { trpc } = await newTenant("deleted-provider");
    const { provider } = await fakeProvider(trpc, "gone", [{ id: "ok" }]);
    await trpc.role.create.mutate({
      name: "Writer",
      basePrompt: "Write.",
      hyperparameters: { model: "gone:ok" },
    });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Uses gone",
      steps: [{ name: "Write", roleName: "Writer" }],
    });
    await trpc.provider.delete.mutate({ providerId: provider.id });
    const error = await errorOf(
      trpc.orchestrationManagement.execute.mutate({ orchestrationId: flow.id, input: {} }),
    );
    expect(error.code).toBe("PRECONDITION_FAILED");
    expect(error.message).toContain('cannot start: role "Writer": hyperparameters.model: "gone:ok"');
    expect(error.issues).toEqual([
      { path: "steps[0].roleName", message: expect.stringContaining('role "Writer"') },
    ]);
  });
});

describe("a run on a tenant's provider", () => {
  it("reaches the tenant's endpoint with the tenant's key, not the platform's, and prices the reply", async () => {
    const { trpc } = await newTenant("tenant-run");
    const { apiKey } = await fakeProvider(trpc, "mine", [{ id: "ok", priceIn: 2, priceOut: 8 }]);
    await trpc.role.create.mutate({
      name: "Writer",
      basePrompt: "You write.",
      hyperparameters: { model: "mine:ok", maxTokens: 50 },
    });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Tenant provider",
      steps: [{ name: "Write", roleName: "Writer" }],
    });
    const { key, tag } = fakeKey();
    const execution = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: flow.id,
      input: { task: `a haiku ${tag}` },
    });
    const status = await waitForEnd(trpc, execution.id);
    expect(status.status).toBe("completed");
    const [sent, ...others] = await recordedRequests(key);
    expect(others).toEqual([]);
    expect(sent).toMatchObject({ path: "/v1/chat/completions", authorization: `Bearer ${apiKey}` });
    expect(sent?.body).toMatchObject({ model: "ok", max_tokens: 50 });
    const [attempt] = status.stepLogs[0]?.attempts ?? [];
    expect(attempt).toMatchObject({ status: "succeeded", model: "ok" });
    const expected = ((attempt?.tokensIn ?? 0) * 2 + (attempt?.tokensOut ?? 0) * 8) / 1_000_000;
    expect(attempt?.costUsd).toBeGreaterThan(0);
    expect(attempt?.costUsd).toBeCloseTo(expected, 12);
  });

  it("keeps the model and prices pinned at start when the provider's prices change during the run", async () => {
    const { trpc } = await newTenant("pinned");
    const { provider } = await fakeProvider(trpc, "mine", [{ id: "flaky500", priceIn: 1, priceOut: 1 }]);
    await trpc.role.create.mutate({
      name: "Writer",
      basePrompt: "W.",
      hyperparameters: { model: "mine:flaky500" },
    });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Pinned",
      steps: [{ name: "Write", roleName: "Writer", maxRetries: 1, retryDelay: 1000 }],
    });
    const { tag } = fakeKey();
    const execution = await trpc.orchestrationManagement.execute.mutate({
      orchestrationId: flow.id,
      input: `${tag} [fail-times:1]`,
    });
    await trpc.provider.update.mutate({
      providerId: provider.id,
      updates: { models: [model({ id: "flaky500", priceIn: 1000, priceOut: 1000 })] },
    });
    const status = await waitForEnd(trpc, execution.id);
    expect(status.status).toBe("completed");
    const succeeded = status.stepLogs[0]?.attempts.at(-1);
    const atStartPrices = ((succeeded?.tokensIn ?? 0) + (succeeded?.tokensOut ?? 0)) / 1_000_000;
    expect(succeeded?.costUsd).toBeCloseTo(atStartPrices, 12);
  });
});
