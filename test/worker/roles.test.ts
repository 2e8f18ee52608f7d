// Roles over tRPC as a signed-in user: the guide's two role examples verbatim, defaults, lookups by name and
// id, list filters, merging updates, deletion, and name conflicts within (but not across) tenants.
import { describe, expect, it } from "vitest";
import { errorOf, newTenant } from "../helpers/client";

const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Example 1 of the guide, exactly as an agent writes it (here through tRPC instead of `create_role`). */
const codeReviewer = {
  name: "Code Reviewer",
  basePrompt: `You are a senior code reviewer. Analyze code for:
- Security vulnerabilities
- Performance issues  
- Code style and best practices
- Test coverage`,
  capabilities: {
    needsCoding: true,
    needsTools: false,
    needsReasoning: true,
  },
  contextLimits: {
    minContext: 8000,
    maxContext: 128000,
  },
  hyperparameters: {
    temperature: 0.3, // Low temperature for consistent reviews
    maxTokens: 4000,
  },
};

describe("role.create", () => {
  it("accepts the guide's Orchestration Designer and folds the top-level needsTools into capabilities", async () => {
    const { trpc, user } = await newTenant();
    const role = await trpc.role.create.mutate({
      name: "Orchestration Designer",
      basePrompt: "You are an AI that designs multi-agent workflows",
      tools: ["meta"], // 🔑 This grants access to meta-tools
      needsTools: true,
    });
    expect(role).toEqual({
      id: expect.stringMatching(/^rol_[0-9a-z]{26}$/),
      name: "Orchestration Designer",
      description: "",
      basePrompt: "You are an AI that designs multi-agent workflows",
      capabilities: { needsCoding: false, needsTools: true, needsReasoning: false },
      contextLimits: { minContext: 4096, maxContext: 128_000 },
      hyperparameters: { temperature: 0.7, maxTokens: 4096 },
      tools: ["meta"],
      createdBy: `user:${user.id}`,
      createdAt: expect.stringMatching(ISO_TIMESTAMP),
      updatedAt: role.createdAt,
    });
    expect(role).not.toHaveProperty("needsTools");
  });

  it("accepts Example 1's Code Reviewer with its capabilities, context limits and hyperparameters", async () => {
    const { trpc } = await newTenant();
    const role = await trpc.role.create.mutate(codeReviewer);
    expect(role).toMatchObject({
      name: "Code Reviewer",
      basePrompt: codeReviewer.basePrompt,
      capabilities: { needsCoding: true, needsTools: false, needsReasoning: true },
      contextLimits: { minContext: 8000, maxContext: 128000 },
      hyperparameters: { temperature: 0.3, maxTokens: 4000 },
      tools: [],
      description: "",
    });
    expect(role.hyperparameters).not.toHaveProperty("model");
    expect(role.basePrompt).toContain("Performance issues  \n");
  });

  it("fills in only the capabilities, limits and hyperparameters that are left out", async () => {
    const { trpc } = await newTenant();
    const role = await trpc.role.create.mutate({
      name: "Partial",
      basePrompt: "p",
      description: "A role with some fields",
      capabilities: { needsReasoning: true },
      contextLimits: { maxContext: 32_000 },
      hyperparameters: { model: "@cf/meta/llama-3.1-8b-instruct" },
    });
    expect(role).toMatchObject({
      description: "A role with some fields",
      capabilities: { needsCoding: false, needsTools: false, needsReasoning: true },
      contextLimits: { minContext: 4096, maxContext: 32_000 },
      hyperparameters: { temperature: 0.7, maxTokens: 4096, model: "@cf/meta/llama-3.1-8b-instruct" },
    });
  });

  it("accepts needsTools given both ways when they agree", async () => {
    const { trpc } = await newTenant();
    const role = await trpc.role.create.mutate({
      name: "Agreeing",
      basePrompt: "p",
      needsTools: false,
      capabilities: { needsTools: false, needsCoding: true },
    });
    expect(role.capabilities).toEqual({ needsCoding: true, needsTools: false, needsReasoning: false });
  });

  it("trims the name", async () => {
    const { trpc } = await newTenant();
    const role = await trpc.role.create.mutate({ name: "  Coder  ", basePrompt: "p" });
    expect(role.name).toBe("Coder");
    expect((await trpc.role.get.query({ nameOrId: "Coder" })).id).toBe(role.id);
  });
});

describe("role.get", () => {
  it("finds a role by name and by id, with the same content", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.role.create.mutate(codeReviewer);
    const byName = await trpc.role.get.query({ nameOrId: "Code Reviewer" });
    const byId = await trpc.role.get.query({ nameOrId: created.id });
    expect(byName).toEqual(created);
    expect(byId).toEqual(created);
  });

  it("answers NOT_FOUND for an unknown name or id", async () => {
    const { trpc } = await newTenant();
    for (const nameOrId of ["Nobody", "rol_00000000000000000000000000"]) {
      const error = await errorOf(trpc.role.get.query({ nameOrId }));
      expect(error).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
      expect(error.message).toContain(nameOrId);
    }
  });
});

describe("role.list", () => {
  async function tenantWithRoles() {
    const tenant = await newTenant();
    const { trpc } = tenant;
    await trpc.role.create.mutate({
      name: "Researcher",
      basePrompt: "Search the web",
      tools: ["web", "meta"],
    });
    await trpc.role.create.mutate({ name: "Architect", basePrompt: "Design systems 100% carefully" });
    await trpc.role.create.mutate({ name: "Coder", basePrompt: "Write code", tools: ["code_exec"] });
    await trpc.role.create.mutate({ name: "Meta Designer", basePrompt: "Design flows", tools: ["meta"] });
    return tenant;
  }

  it("lists every role of the tenant ordered by name", async () => {
    const { trpc } = await tenantWithRoles();
    const names = (await trpc.role.list.query()).items.map((r) => r.name);
    expect(names).toEqual(["Architect", "Coder", "Meta Designer", "Researcher"]);
    expect((await trpc.role.list.query({})).items.map((r) => r.name)).toEqual(names);
  });

  it("returns an empty list for a tenant without roles", async () => {
    const { trpc } = await newTenant();
    expect((await trpc.role.list.query()).items).toEqual([]);
  });

  it("searches names and base prompts, case-insensitively", async () => {
    const { trpc } = await tenantWithRoles();
    const search = async (text: string) =>
      (await trpc.role.list.query({ search: text })).items.map((r) => r.name);
    expect(await search("design")).toEqual(["Architect", "Meta Designer"]);
    expect(await search("CODER")).toEqual(["Coder"]);
    expect(await search("web")).toEqual(["Researcher"]);
    expect(await search("nothing like this")).toEqual([]);
  });

  it("treats % and _ in a search as literal characters", async () => {
    const { trpc } = await tenantWithRoles();
    expect((await trpc.role.list.query({ search: "100%" })).items.map((r) => r.name)).toEqual(["Architect"]);
    expect((await trpc.role.list.query({ search: "%" })).items.map((r) => r.name)).toEqual(["Architect"]);
    expect((await trpc.role.list.query({ search: "code_" })).items.map((r) => r.name)).toEqual([]);
  });

  it("filters by tool, and combines the tool filter with a search", async () => {
    const { trpc } = await tenantWithRoles();
    const meta = (await trpc.role.list.query({ tool: "meta" })).items;
    expect(meta.map((r) => r.name)).toEqual(["Meta Designer", "Researcher"]);
    expect(meta.every((r) => r.tools.includes("meta"))).toBe(true);
    expect((await trpc.role.list.query({ tool: "code_exec" })).items.map((r) => r.name)).toEqual(["Coder"]);
    expect((await trpc.role.list.query({ tool: "unused" })).items).toEqual([]);
    expect((await trpc.role.list.query({ tool: "meta", search: "flows" })).items.map((r) => r.name)).toEqual([
      "Meta Designer",
    ]);
  });
});

describe("role.update", () => {
  it("changes only hyperparameters.temperature, keeping everything else, and bumps updatedAt", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.role.create.mutate({
      ...codeReviewer,
      hyperparameters: { ...codeReviewer.hyperparameters, model: "m-1" },
      tools: ["meta"],
    });
    await sleep(5);
    const updated = await trpc.role.update.mutate({
      roleId: created.id,
      updates: { hyperparameters: { temperature: 0.9 } },
    });
    expect(updated).toEqual({
      ...created,
      hyperparameters: { temperature: 0.9, maxTokens: 4000, model: "m-1" },
      updatedAt: expect.stringMatching(ISO_TIMESTAMP),
    });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
    expect(updated.createdAt).toBe(created.createdAt);
    expect(await trpc.role.get.query({ nameOrId: created.id })).toEqual(updated);
  });

  it("merges capabilities and context limits field by field", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.role.create.mutate(codeReviewer);
    const updated = await trpc.role.update.mutate({
      roleId: created.id,
      updates: { capabilities: { needsTools: true }, contextLimits: { maxContext: 200_000 } },
    });
    expect(updated.capabilities).toEqual({ needsCoding: true, needsTools: true, needsReasoning: true });
    expect(updated.contextLimits).toEqual({ minContext: 8000, maxContext: 200_000 });
  });

  it("folds a top-level needsTools in an update into capabilities", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.role.create.mutate(codeReviewer);
    const updated = await trpc.role.update.mutate({ roleId: created.id, updates: { needsTools: true } });
    expect(updated.capabilities.needsTools).toBe(true);
    expect(updated).not.toHaveProperty("needsTools");
  });

  it("replaces the tools list and the base prompt", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.role.create.mutate({ name: "R", basePrompt: "old", tools: ["meta", "web"] });
    const updated = await trpc.role.update.mutate({
      roleId: created.id,
      updates: { tools: ["web"], basePrompt: "new" },
    });
    expect(updated).toMatchObject({ tools: ["web"], basePrompt: "new" });
    expect((await trpc.role.list.query({ tool: "meta" })).items.map((r) => r.id)).toEqual([]);
    expect((await trpc.role.list.query({ tool: "web" })).items.map((r) => r.id)).toEqual([created.id]);
  });

  it("renames a role so it is found by the new name and not the old", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.role.create.mutate(codeReviewer);
    await trpc.role.update.mutate({ roleId: created.id, updates: { name: "Senior Reviewer" } });
    expect((await trpc.role.get.query({ nameOrId: "Senior Reviewer" })).id).toBe(created.id);
    expect((await errorOf(trpc.role.get.query({ nameOrId: "Code Reviewer" }))).code).toBe("NOT_FOUND");
  });

  it("keeps the name when renaming to the same name", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.role.create.mutate(codeReviewer);
    const updated = await trpc.role.update.mutate({ roleId: created.id, updates: { name: "Code Reviewer" } });
    expect(updated.name).toBe("Code Reviewer");
  });

  it("refuses a rename onto another role's name with CONFLICT at updates.name", async () => {
    const { trpc } = await newTenant();
    const reviewer = await trpc.role.create.mutate(codeReviewer);
    await trpc.role.create.mutate({ name: "Coder", basePrompt: "p" });
    const error = await errorOf(trpc.role.update.mutate({ roleId: reviewer.id, updates: { name: "Coder" } }));
    expect(error).toMatchObject({ code: "CONFLICT", httpStatus: 409 });
    expect(error.issues).toEqual([{ path: "updates.name", message: expect.stringContaining('"Coder"') }]);
    expect(await trpc.role.get.query({ nameOrId: reviewer.id })).toEqual(reviewer);
  });

  it("answers NOT_FOUND for an unknown role id", async () => {
    const { trpc } = await newTenant();
    const error = await errorOf(
      trpc.role.update.mutate({ roleId: "rol_missing", updates: { basePrompt: "x" } }),
    );
    expect(error.code).toBe("NOT_FOUND");
  });

  it("takes the role id, not its name", async () => {
    const { trpc } = await newTenant();
    await trpc.role.create.mutate(codeReviewer);
    const error = await errorOf(
      trpc.role.update.mutate({ roleId: "Code Reviewer", updates: { basePrompt: "x" } }),
    );
    expect(error.code).toBe("NOT_FOUND");
  });
});

describe("role.delete", () => {
  it("deletes a role, after which get, update and delete answer NOT_FOUND", async () => {
    const { trpc } = await newTenant();
    const role = await trpc.role.create.mutate(codeReviewer);
    const other = await trpc.role.create.mutate({ name: "Coder", basePrompt: "p" });
    expect(await trpc.role.delete.mutate({ roleId: role.id })).toEqual({ id: role.id, deleted: true });
    expect((await errorOf(trpc.role.get.query({ nameOrId: role.id }))).code).toBe("NOT_FOUND");
    expect((await errorOf(trpc.role.get.query({ nameOrId: "Code Reviewer" }))).code).toBe("NOT_FOUND");
    expect(
      (await errorOf(trpc.role.update.mutate({ roleId: role.id, updates: { basePrompt: "x" } }))).code,
    ).toBe("NOT_FOUND");
    expect((await errorOf(trpc.role.delete.mutate({ roleId: role.id }))).code).toBe("NOT_FOUND");
    expect((await trpc.role.list.query()).items.map((r) => r.id)).toEqual([other.id]);
  });

  it("frees the name for a new role", async () => {
    const { trpc } = await newTenant();
    const first = await trpc.role.create.mutate(codeReviewer);
    await trpc.role.delete.mutate({ roleId: first.id });
    const second = await trpc.role.create.mutate(codeReviewer);
    expect(second.id).not.toBe(first.id);
  });
});

describe("role names", () => {
  it("refuses a second role with the same name in a tenant with CONFLICT at name", async () => {
    const { trpc } = await newTenant();
    await trpc.role.create.mutate(codeReviewer);
    const error = await errorOf(trpc.role.create.mutate({ name: "Code Reviewer", basePrompt: "another" }));
    expect(error).toMatchObject({ code: "CONFLICT", httpStatus: 409 });
    expect(error.issues).toEqual([{ path: "name", message: expect.stringContaining("already exists") }]);
    expect((await trpc.role.list.query()).items).toHaveLength(1);
  });

  it("allows the same name in another tenant, each seeing only its own", async () => {
    const a = await newTenant("a");
    const b = await newTenant("b");
    const roleA = await a.trpc.role.create.mutate(codeReviewer);
    const roleB = await b.trpc.role.create.mutate({ ...codeReviewer, basePrompt: "B's reviewer" });
    expect(roleB.id).not.toBe(roleA.id);
    expect((await a.trpc.role.get.query({ nameOrId: "Code Reviewer" })).basePrompt).toBe(
      codeReviewer.basePrompt,
    );
    expect((await b.trpc.role.get.query({ nameOrId: "Code Reviewer" })).basePrompt).toBe("B's reviewer");
    expect((await errorOf(b.trpc.role.get.query({ nameOrId: roleA.id }))).code).toBe("NOT_FOUND");
  });
});
