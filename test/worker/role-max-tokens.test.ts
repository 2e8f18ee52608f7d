// A role's hyperparameters.maxTokens is held to what its model can answer: a platform model's published
// output cap (gpt-4o-mini: 16,384), or a tenant model's context window. Above it, the save is refused
// with BAD_REQUEST at hyperparameters.maxTokens naming the limit, through the API and agent code alike,
// and nothing is written.
import { describe, expect, it } from "vitest";
import { metaTenant, runCode } from "../helpers/agent-code";
import { errorOf, newTenant } from "../helpers/client";
import { countRows } from "../helpers/db";
import { fakeProvider } from "../helpers/providers";

const role = (hyperparameters: Record<string, unknown>) => ({
  name: "Writer",
  basePrompt: "Write.",
  hyperparameters,
});

describe("hyperparameters.maxTokens", () => {
  it("refuses more than a platform model's output cap, naming the cap; nothing is written", async () => {
    const { trpc, tenant } = await newTenant("max-tokens");
    const error = await errorOf(
      trpc.role.create.mutate(role({ model: "openai:gpt-4o-mini", maxTokens: 1_000_000 })),
    );
    expect(error).toMatchObject({ code: "BAD_REQUEST" });
    expect(error.issues).toEqual([
      {
        path: "hyperparameters.maxTokens",
        message:
          'is 1000000, above the 16384 tokens model "openai:gpt-4o-mini" can answer; set at most 16384',
      },
    ]);
    expect(await countRows("roles", "tenant_id = ?", tenant.id)).toBe(0);
    const saved = await trpc.role.create.mutate(role({ model: "openai:gpt-4o-mini", maxTokens: 16_384 }));
    expect(saved.hyperparameters.maxTokens).toBe(16_384);
  });

  it("holds a tenant model to its context window", async () => {
    const { trpc } = await newTenant("max-tokens-own");
    await fakeProvider(trpc, "mine", [{ id: "small", contextWindow: 8000 }]);
    const error = await errorOf(trpc.role.create.mutate(role({ model: "mine:small", maxTokens: 8001 })));
    expect(error.issues).toEqual([
      {
        path: "hyperparameters.maxTokens",
        message: 'is 8001, above the 8000 tokens model "mine:small" can answer; set at most 8000',
      },
    ]);
    await expect(
      trpc.role.create.mutate(role({ model: "mine:small", maxTokens: 8000 })),
    ).resolves.toBeTruthy();
  });

  it("holds a role that names no model to the model its needs pick", async () => {
    const { trpc } = await newTenant("max-tokens-picked");
    await fakeProvider(trpc, "mine", [{ id: "cheap", contextWindow: 10_000 }]);
    const error = await errorOf(trpc.role.create.mutate(role({ maxTokens: 20_000 })));
    expect(error.issues).toEqual([
      {
        path: "hyperparameters.maxTokens",
        message:
          'is 20000, above the 10000 tokens model "mine:cheap" (the model this role\'s needs pick; name one with model) can answer; set at most 10000',
      },
    ]);
  });

  it("refuses the same in a role update, at updates.hyperparameters.maxTokens, keeping the role", async () => {
    const { trpc } = await newTenant("max-tokens-update");
    const saved = await trpc.role.create.mutate(role({ model: "openai:gpt-4o-mini", maxTokens: 1000 }));
    const error = await errorOf(
      trpc.role.update.mutate({
        roleId: saved.id,
        updates: { hyperparameters: { model: "openai:gpt-4o", maxTokens: 50_000 } },
      }),
    );
    expect(error.issues).toEqual([
      {
        path: "updates.hyperparameters.maxTokens",
        message: 'is 50000, above the 16384 tokens model "openai:gpt-4o" can answer; set at most 16384',
      },
    ]);
    expect((await trpc.role.get.query({ nameOrId: saved.id })).hyperparameters).toMatchObject({
      model: "openai:gpt-4o-mini",
      maxTokens: 1000,
    });
  });

  it("refuses it to agent code's create_role with the same message", async () => {
    const { trpc, tenant } = await metaTenant("max-tokens-agent");
    const run = await runCode(
      trpc,
      `await create_role({ name: "Big", basePrompt: "Write.", hyperparameters: { model: "openai:gpt-4o-mini", maxTokens: 100000 } });`,
    );
    expect(run.error).toMatchObject({
      code: "BAD_REQUEST",
      message:
        'create_role: hyperparameters.maxTokens: is 100000, above the 16384 tokens model "openai:gpt-4o-mini" can answer; set at most 16384',
    });
    expect(await countRows("roles", "tenant_id = ? and name = 'Big'", tenant.id)).toBe(0);
  });
});
