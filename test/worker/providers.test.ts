// A tenant's own providers through the real Worker and D1: created with an encrypted key that no column
// holds in clear and that only this tenant's derivation opens, listed by its last 4 characters, updated,
// deleted, tested with one tiny call, and every bad input refused with its field and nothing written.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openDb } from "../../worker/db/client";
import { ProviderStore } from "../../worker/db/providers";
import { openProviderKey } from "../../worker/providers/key-crypto";
import { errorOf, newTenant } from "../helpers/client";
import { countRows, placesStoring, rowsOf } from "../helpers/db";
import { fakeOpenAiBaseUrl, recordedRequests } from "../helpers/fake-openai";
import { fakeProvider, model, providerKey } from "../helpers/providers";

const secret = () => env.PROVIDER_KEYS_SECRET ?? "";

async function storedRow(providerId: string) {
  const [row] = await rowsOf("providers", "id = ?", providerId);
  if (!row) throw new Error(`no providers row ${providerId}`);
  return row as Record<string, string | null>;
}

function sealedOf(row: Record<string, string | null>) {
  return { ciphertext: String(row.api_key_ciphertext), iv: String(row.api_key_iv) };
}

describe("provider.create and list", () => {
  it("stores the key only encrypted and shows its last 4 characters, never the key", async () => {
    const { trpc, tenant } = await newTenant("providers");
    const { provider, apiKey } = await fakeProvider(trpc, "my-openrouter", [
      { id: "anthropic/claude-sonnet", contextWindow: 200_000, priceIn: 3, priceOut: 15 },
    ]);
    expect(provider).toMatchObject({
      name: "my-openrouter",
      kind: "openai-compatible",
      baseUrl: fakeOpenAiBaseUrl(),
      keyLast4: apiKey.slice(-4),
      models: [
        {
          id: "anthropic/claude-sonnet",
          contextWindow: 200_000,
          priceIn: 3,
          priceOut: 15,
          capabilities: {
            reasoning: false,
            tools: false,
            coding: false,
            structuredOutput: false,
            streaming: true,
          },
        },
      ],
    });
    expect(JSON.stringify(provider)).not.toContain(apiKey);
    const listed = (await trpc.provider.list.query()).items;
    expect(listed).toEqual([provider]);
    expect(JSON.stringify(listed)).not.toContain(apiKey);

    const row = await storedRow(provider.id);
    expect(row).toMatchObject({
      tenant_id: tenant.id,
      name: "my-openrouter",
      api_key_last4: apiKey.slice(-4),
    });
    expect(await placesStoring(apiKey)).toEqual([]);
    expect(await placesStoring(apiKey.slice(8, 24))).toEqual([]);
    expect(await openProviderKey(secret(), tenant.id, provider.id, sealedOf(row))).toBe(apiKey);
  });

  it("seals each key under its tenant and provider: another tenant's derivation or another id does not open it", async () => {
    const first = await newTenant("sealed");
    const second = await newTenant("other");
    const { provider } = await fakeProvider(first.trpc);
    const { provider: theirs } = await fakeProvider(second.trpc);
    const sealed = sealedOf(await storedRow(provider.id));
    expect(await openProviderKey(secret(), second.tenant.id, provider.id, sealed)).toBeUndefined();
    expect(await openProviderKey(secret(), first.tenant.id, theirs.id, sealed)).toBeUndefined();
    expect(
      await openProviderKey(`${secret()}-rotated`, first.tenant.id, provider.id, sealed),
    ).toBeUndefined();
  });

  it("uses a fresh IV for every key written, even the same key", async () => {
    const { trpc } = await newTenant("iv");
    const apiKey = providerKey();
    const base = {
      kind: "openai-compatible" as const,
      baseUrl: fakeOpenAiBaseUrl(),
      apiKey,
      models: [model({ id: "ok" })],
    };
    const a = await trpc.provider.create.mutate({ ...base, name: "a" });
    const b = await trpc.provider.create.mutate({ ...base, name: "b" });
    const [rowA, rowB] = [await storedRow(a.id), await storedRow(b.id)];
    expect(rowA.api_key_iv).not.toBe(rowB.api_key_iv);
    expect(rowA.api_key_ciphertext).not.toBe(rowB.api_key_ciphertext);
  });

  it("accepts a keyless provider and a Workers AI provider without a base URL", async () => {
    const { trpc } = await newTenant("keyless");
    const local = await trpc.provider.create.mutate({
      name: "ollama",
      kind: "openai-compatible",
      baseUrl: `${fakeOpenAiBaseUrl()}/`,
      models: [model({ id: "llama3:8b" })],
    });
    expect(local).toMatchObject({ keyLast4: null, baseUrl: fakeOpenAiBaseUrl() });
    const workersAi = await trpc.provider.create.mutate({
      name: "cf",
      kind: "workers-ai",
      models: [model({ id: "@cf/meta/llama-3.1-8b-instruct" })],
    });
    expect(workersAi).toMatchObject({ kind: "workers-ai", baseUrl: null, keyLast4: null });
    expect((await trpc.provider.list.query()).items.map((p) => p.name)).toEqual(["cf", "ollama"]);
  });
});

describe("provider.update and delete", () => {
  it("renames, replaces the models and rotates the key (a new ciphertext and IV)", async () => {
    const { trpc, tenant } = await newTenant("update");
    const { provider } = await fakeProvider(trpc);
    const before = await storedRow(provider.id);
    const rotated = providerKey();
    const updated = await trpc.provider.update.mutate({
      providerId: provider.id,
      updates: { name: "renamed", apiKey: rotated, models: [model({ id: "ok" }), model({ id: "fail500" })] },
    });
    expect(updated).toMatchObject({ name: "renamed", keyLast4: rotated.slice(-4) });
    expect(updated.models.map((m) => m.id)).toEqual(["ok", "fail500"]);
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(provider.updatedAt));
    const after = await storedRow(provider.id);
    expect(after.api_key_iv).not.toBe(before.api_key_iv);
    expect(await openProviderKey(secret(), tenant.id, provider.id, sealedOf(after))).toBe(rotated);
    expect(await placesStoring(rotated)).toEqual([]);
  });

  it("keeps the key when apiKey is left out, and removes it with apiKey: null", async () => {
    const { trpc } = await newTenant("keep");
    const { provider, apiKey } = await fakeProvider(trpc);
    const kept = await trpc.provider.update.mutate({ providerId: provider.id, updates: { name: "kept" } });
    expect(kept.keyLast4).toBe(apiKey.slice(-4));
    const removed = await trpc.provider.update.mutate({ providerId: provider.id, updates: { apiKey: null } });
    expect(removed.keyLast4).toBeNull();
    expect(await storedRow(provider.id)).toMatchObject({
      api_key_ciphertext: null,
      api_key_iv: null,
      api_key_last4: null,
    });
  });

  it("deletes a provider, after which update, delete and test answer NOT_FOUND", async () => {
    const { trpc } = await newTenant("delete");
    const { provider } = await fakeProvider(trpc);
    expect(await trpc.provider.delete.mutate({ providerId: provider.id })).toEqual({
      id: provider.id,
      deleted: true,
    });
    expect((await trpc.provider.list.query()).items).toEqual([]);
    for (const call of [
      trpc.provider.delete.mutate({ providerId: provider.id }),
      trpc.provider.update.mutate({ providerId: provider.id, updates: { name: "x" } }),
      trpc.provider.test.mutate({ providerId: provider.id }),
    ]) {
      expect(await errorOf(call)).toMatchObject({ code: "NOT_FOUND" });
    }
  });

  it("answers NOT_FOUND for another tenant's provider, changing nothing of it", async () => {
    const owner = await newTenant("owner");
    const intruder = await newTenant("intruder");
    const { provider } = await fakeProvider(owner.trpc);
    const before = await storedRow(provider.id);
    const attempts = [
      intruder.trpc.provider.update.mutate({ providerId: provider.id, updates: { apiKey: providerKey() } }),
      intruder.trpc.provider.update.mutate({
        providerId: provider.id,
        updates: { baseUrl: "https://evil.example" },
      }),
      intruder.trpc.provider.delete.mutate({ providerId: provider.id }),
      intruder.trpc.provider.test.mutate({ providerId: provider.id }),
    ];
    for (const attempt of attempts) {
      expect(await errorOf(attempt)).toMatchObject({
        code: "NOT_FOUND",
        message: `provider "${provider.id}" was not found`,
      });
    }
    expect(await storedRow(provider.id)).toEqual(before);
    expect((await intruder.trpc.provider.list.query()).items).toEqual([]);
  });
});

describe("bad provider input", () => {
  const okModels = [model({ id: "ok" })];
  const valid = () => ({
    name: "good",
    kind: "openai-compatible" as const,
    baseUrl: fakeOpenAiBaseUrl(),
    apiKey: providerKey(),
    models: okModels,
  });
  const cases: { what: string; change: Record<string, unknown>; path: string; says: string }[] = [
    {
      what: "a base URL that is not a URL",
      change: { baseUrl: "openrouter.ai/api" },
      path: "baseUrl",
      says: "is not a URL",
    },
    {
      what: "a base URL with credentials",
      change: { baseUrl: "https://me:pw@api.example.com/v1" },
      path: "baseUrl",
      says: "must not contain a user name or password",
    },
    {
      what: "a base URL that is not http(s)",
      change: { baseUrl: "ftp://api.example.com" },
      path: "baseUrl",
      says: "must be an https URL, not ftp:",
    },
    {
      what: "an OpenAI-compatible provider without a base URL",
      change: { baseUrl: undefined },
      path: "baseUrl",
      says: 'is required for kind "openai-compatible"',
    },
    {
      what: "a key for a Workers AI provider without a base URL",
      change: { kind: "workers-ai", baseUrl: undefined },
      path: "apiKey",
      says: "is sent only to a baseUrl",
    },
    {
      what: "the platform's name openai",
      change: { name: "openai" },
      path: "name",
      says: "is one of the platform's own providers",
    },
    {
      what: "the platform's name local",
      change: { name: "local" },
      path: "name",
      says: "is one of the platform's own providers",
    },
    {
      what: "the platform's name workers-ai",
      change: { name: "workers-ai" },
      path: "name",
      says: "is one of the platform's own providers",
    },
    {
      what: "the platform's name script",
      change: { name: "script" },
      path: "name",
      says: "is one of the platform's own providers",
    },
    {
      what: "a name with a colon",
      change: { name: "my:router" },
      path: "name",
      says: "must be lowercase letters",
    },
    {
      what: "an unknown kind",
      change: { kind: "anthropic" },
      path: "kind",
      says: '"anthropic" is not one of openai-compatible, workers-ai',
    },
    { what: "no models", change: { models: [] }, path: "models", says: "at least one model" },
    {
      what: "two models with one id",
      change: { models: [model({ id: "ok" }), model({ id: "ok" })] },
      path: "models[1].id",
      says: 'model id "ok" is already used at [0]',
    },
    {
      what: "a negative price",
      change: { models: [model({ id: "ok", priceIn: -1 })] },
      path: "models[0].priceIn",
      says: "must not be negative",
    },
    {
      what: "a price of the wrong type",
      change: { models: [{ ...model({ id: "ok" }), priceOut: "free" }] },
      path: "models[0].priceOut",
      says: "",
    },
    {
      what: "a zero context window",
      change: { models: [model({ id: "ok", contextWindow: 0 })] },
      path: "models[0].contextWindow",
      says: "must be at least 1 token",
    },
    {
      what: "a fractional context window",
      change: { models: [model({ id: "ok", contextWindow: 1.5 })] },
      path: "models[0].contextWindow",
      says: "",
    },
    {
      what: "a huge context window",
      change: { models: [model({ id: "ok", contextWindow: 20_000_000 })] },
      path: "models[0].contextWindow",
      says: "must be at most 10000000 tokens",
    },
    {
      what: "a model id with a space",
      change: { models: [model({ id: "gpt 4" })] },
      path: "models[0].id",
      says: "must not contain spaces",
    },
    {
      what: "an unknown capability",
      change: { models: [{ ...model({ id: "ok" }), capabilities: { vision: true } }] },
      path: "models[0].capabilities",
      says: 'unknown field "vision"',
    },
    { what: "a key with a space", change: { apiKey: "sk-abc def" }, path: "apiKey", says: "without spaces" },
    { what: "an unknown field", change: { region: "eu" }, path: "", says: 'unknown field "region"' },
  ];

  it.each(cases)(
    "refuses $what with BAD_REQUEST at its field, writing nothing",
    async ({ change, path, says }) => {
      const { trpc, tenant } = await newTenant("bad");
      const input = { ...valid(), ...change };
      const error = await errorOf(
        trpc.provider.create.mutate(input as Parameters<typeof trpc.provider.create.mutate>[0]),
      );
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.issues.map((i) => i.path)).toContain(path);
      expect(error.issues.find((i) => i.path === path)?.message).toContain(says);
      expect(error.message).toContain(says);
      expect(await countRows("providers", "tenant_id = ?", tenant.id)).toBe(0);
    },
  );

  it("refuses a second provider with the same name with CONFLICT, keeping the first", async () => {
    const { trpc, tenant } = await newTenant("dup");
    const { provider } = await fakeProvider(trpc, "twin");
    const error = await errorOf(fakeProvider(trpc, "twin"));
    expect(error).toMatchObject({
      code: "CONFLICT",
      message: 'name: a provider named "twin" already exists',
    });
    expect(error.issues).toEqual([{ path: "name", message: 'a provider named "twin" already exists' }]);
    expect((await trpc.provider.list.query()).items).toEqual([provider]);
    expect(await countRows("providers", "tenant_id = ?", tenant.id)).toBe(1);
  });

  it("refuses a rename onto another provider's name with CONFLICT at updates.name", async () => {
    const { trpc } = await newTenant("rename");
    await fakeProvider(trpc, "first");
    const { provider } = await fakeProvider(trpc, "second");
    const error = await errorOf(
      trpc.provider.update.mutate({ providerId: provider.id, updates: { name: "first" } }),
    );
    expect(error).toMatchObject({ code: "CONFLICT", issues: [{ path: "updates.name" }] });
    expect((await trpc.provider.list.query()).items.map((p) => p.name)).toEqual(["first", "second"]);
  });

  it("will not send a stored key to a new base URL unless the key is given again", async () => {
    const { trpc } = await newTenant("move");
    const { provider } = await fakeProvider(trpc);
    const before = await storedRow(provider.id);
    const error = await errorOf(
      trpc.provider.update.mutate({
        providerId: provider.id,
        updates: { baseUrl: "https://collector.example/v1" },
      }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.issues).toEqual([
      {
        path: "updates.apiKey",
        message:
          "is required when baseUrl changes: the stored key is never sent to a new host; give the key again, or null to remove it",
      },
    ]);
    expect(await storedRow(provider.id)).toEqual(before);
    const moved = await trpc.provider.update.mutate({
      providerId: provider.id,
      updates: { baseUrl: "https://collector.example/v1", apiKey: null },
    });
    expect(moved).toMatchObject({ baseUrl: "https://collector.example/v1", keyLast4: null });
  });

  it("refuses bad updates at updates.<field>: an empty update, bad models, a base URL that is not a URL", async () => {
    const { trpc } = await newTenant("bad-update");
    const { provider } = await fakeProvider(trpc);
    const before = await storedRow(provider.id);
    const update = (updates: Record<string, unknown>) =>
      errorOf(trpc.provider.update.mutate({ providerId: provider.id, updates } as never));
    expect(await update({})).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "updates", message: "must change at least one field" }],
    });
    expect(await update({ models: [model({ id: "a", priceOut: -0.5 })] })).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "updates.models[0].priceOut", message: "must not be negative" }],
    });
    expect(await update({ baseUrl: "::", apiKey: providerKey() })).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "updates.baseUrl" }],
    });
    expect(await update({ name: "openai" })).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "updates.name" }],
    });
    expect(await storedRow(provider.id)).toEqual(before);
  });
});

describe("what the deployment decides: https and the encryption secret", () => {
  const storeFor = (tenantId: string, providerEnv: Record<string, string | undefined>) =>
    new ProviderStore(openDb(env.DB), { tenantId, principal: "test" }, providerEnv);
  const input = (baseUrl: string) => ({
    name: "plain",
    kind: "openai-compatible" as const,
    baseUrl,
    apiKey: providerKey(),
    models: [{ id: "ok", contextWindow: 1000, priceIn: 0, priceOut: 0, capabilities: {} }],
  });

  it('refuses a plain-http base URL where ALLOW_INSECURE_PROVIDER_URLS is not "true"', async () => {
    const { tenant } = await newTenant("https");
    const store = storeFor(tenant.id, { PROVIDER_KEYS_SECRET: secret() });
    const error = await store.create(input("http://api.example.com/v1")).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "baseUrl" }] });
    expect((error as Error).message).toContain("baseUrl: must be https");
    expect(await countRows("providers", "tenant_id = ?", tenant.id)).toBe(0);
    await expect(store.create(input("https://api.example.com/v1"))).resolves.toMatchObject({ name: "plain" });
  });

  it("refuses to store a key with PRECONDITION_FAILED when PROVIDER_KEYS_SECRET is missing or short", async () => {
    const { tenant } = await newTenant("no-secret");
    for (const PROVIDER_KEYS_SECRET of [undefined, "short"]) {
      const store = storeFor(tenant.id, { PROVIDER_KEYS_SECRET, ALLOW_INSECURE_PROVIDER_URLS: "true" });
      const error = await store.create(input(fakeOpenAiBaseUrl())).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "PRECONDITION_FAILED", issues: [{ path: "apiKey" }] });
      expect((error as Error).message).toContain("PROVIDER_KEYS_SECRET");
    }
    expect(await countRows("providers", "tenant_id = ?", tenant.id)).toBe(0);
  });
});

describe("provider.test", () => {
  it("makes one tiny call to the first model with the stored key and reports the reply and latency", async () => {
    const { trpc } = await newTenant("test-ok");
    const { provider, apiKey } = await fakeProvider(trpc, "tested", [{ id: "ok" }, { id: "fail500" }]);
    const result = await trpc.provider.test.mutate({ providerId: provider.id });
    expect(result).toEqual({ ok: true, latencyMs: expect.any(Number), model: "ok", reply: "OK?" });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const sent = (await recordedRequests("")).filter((r) => r.authorization === `Bearer ${apiKey}`);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toMatchObject({ model: "ok", max_tokens: 8 });
  });

  it("answers ok: false with the provider's error instead of failing, for the model named", async () => {
    const { trpc } = await newTenant("test-fail");
    const { provider } = await fakeProvider(trpc, "tested", [{ id: "ok" }, { id: "fail500" }]);
    const result = await trpc.provider.test.mutate({ providerId: provider.id, model: "fail500" });
    expect(result).toMatchObject({ ok: false, model: "fail500" });
    expect(result.error).toContain("answered 500");
    const unreachable = await trpc.provider.create.mutate({
      name: "nowhere",
      kind: "openai-compatible",
      baseUrl: "http://127.0.0.1:9/v1",
      models: [model({ id: "ok" })],
    });
    const down = await trpc.provider.test.mutate({ providerId: unreachable.id });
    expect(down).toMatchObject({ ok: false, model: "ok", error: expect.stringContaining("could not reach") });
  });

  it("refuses a model the provider does not list, naming the ones it does", async () => {
    const { trpc } = await newTenant("test-model");
    const { provider } = await fakeProvider(trpc, "tested", [{ id: "ok" }]);
    const error = await errorOf(trpc.provider.test.mutate({ providerId: provider.id, model: "gpt-9" }));
    expect(error).toMatchObject({
      code: "BAD_REQUEST",
      issues: [{ path: "model", message: 'provider "tested" has no model "gpt-9"; its models are ok' }],
    });
  });
});

describe("provider.models", () => {
  it("lists the tenant's models first, by provider, then the platform's, each with the ref a role names", async () => {
    const { trpc } = await newTenant("catalog");
    await fakeProvider(trpc, "zeta", [
      { id: "ok", priceIn: 1, priceOut: 2, capabilities: { reasoning: true } },
    ]);
    await fakeProvider(trpc, "alpha", [{ id: "m1" }, { id: "m2" }]);
    const catalog = await trpc.provider.models.query();
    const tenantRefs = catalog.filter((m) => m.source === "tenant").map((m) => m.ref);
    expect(tenantRefs).toEqual(["alpha:m1", "alpha:m2", "zeta:ok"]);
    expect(catalog.slice(0, 3).every((m) => m.source === "tenant")).toBe(true);
    expect(catalog.find((m) => m.ref === "zeta:ok")).toMatchObject({
      provider: "zeta",
      id: "ok",
      priceIn: 1,
      priceOut: 2,
      capabilities: { reasoning: true },
    });
    expect(catalog.find((m) => m.ref === "local:local/simulated")).toMatchObject({ source: "platform" });
    expect(catalog.find((m) => m.ref === "openai:gpt-4o-mini")).toMatchObject({
      source: "platform",
      priceIn: 0.15,
      priceOut: 0.6,
    });
  });
});
