// Orchestrations over tRPC (`orchestrationManagement`): the guide's examples and patterns verbatim, defaults,
// warnings for roles that do not exist yet, versioned updates with optimistic concurrency, list filters,
// deletion, name conflicts, and the published JSON Schema of a definition.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { STEP_TYPES, type StepType } from "../../durable-objects/engine/definition";
import { CONDITION_OPERATORS } from "../../worker/schemas/orchestration";
import { errorOf, newTenant, type TestClient, workerFetch } from "../helpers/client";
import { example2, example3, example4, patterns } from "../helpers/guide";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The guide's examples and patterns, verbatim, from one shared place.
const codeGenerationPipeline = example2;
const multiSourceResearch = example3;
const selfCorrectingCoder = example4;
const fundamentalPatterns = patterns;

const STEP_DEFAULTS = {
  maxRetries: 0,
  retryDelay: 1000,
  retryBackoff: "fixed",
  timeout: 300_000,
  outputFormat: "auto",
};

function roleWarning(index: number, role: string) {
  return {
    path: `steps[${index}].roleName`,
    message: expect.stringContaining(`role "${role}" does not exist`),
  };
}

/** `step` as the agent step it is (every step of the guide's examples is one); fails the test otherwise. */
function agentStep<Step extends { stepType?: string }>(step: Step | undefined) {
  if (step === undefined || (step.stepType ?? "agent") !== "agent")
    throw new Error(`expected an agent step, got ${JSON.stringify(step)}`);
  return step as Extract<Step, { stepType?: "agent" }>;
}

async function createRoles(trpc: TestClient, names: string[]) {
  for (const name of names) await trpc.role.create.mutate({ name, basePrompt: `You are ${name}.` });
}

function simple(name: string, extra: { tags?: string[]; isActive?: boolean } = {}) {
  return { name, ...extra, steps: [{ name: "Only" }] };
}

describe("orchestrationManagement.create", () => {
  it("accepts Example 2 verbatim, with defaults and a warning for each role that does not exist", async () => {
    const { trpc, user } = await newTenant();
    const orchestration = await trpc.orchestrationManagement.create.mutate(codeGenerationPipeline);
    expect(orchestration).toEqual({
      id: expect.stringMatching(/^orc_[0-9a-z]{26}$/),
      name: "Code Generation Pipeline",
      description: "Plans, generates, and reviews code changes",
      tags: ["coding", "quality"],
      isActive: true,
      version: 1,
      createdBy: `user:${user.id}`,
      createdAt: expect.any(String),
      updatedAt: orchestration.createdAt,
      steps: codeGenerationPipeline.steps.map((step) => ({ ...STEP_DEFAULTS, ...step })),
      warnings: [roleWarning(0, "Architect"), roleWarning(1, "Coder"), roleWarning(2, "Code Reviewer")],
    });
  });

  it("drops the role warnings once the roles exist", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(codeGenerationPipeline);
    await createRoles(trpc, ["Architect", "Coder"]);
    const partly = await trpc.orchestrationManagement.get.query({ nameOrId: created.id });
    expect(partly.warnings).toEqual([roleWarning(2, "Code Reviewer")]);
    await createRoles(trpc, ["Code Reviewer"]);
    expect((await trpc.orchestrationManagement.get.query({ nameOrId: created.id })).warnings).toEqual([]);
    expect((await trpc.orchestrationManagement.list.query()).items[0]?.warnings).toEqual([]);
  });

  it("has no warnings when created after its roles", async () => {
    const { trpc } = await newTenant();
    await createRoles(trpc, ["Architect", "Coder", "Code Reviewer"]);
    const created = await trpc.orchestrationManagement.create.mutate(codeGenerationPipeline);
    expect(created.warnings).toEqual([]);
  });

  it("accepts Example 3's parallel group and nested inputMapping verbatim", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(multiSourceResearch);
    expect(created.steps.map((s) => s.parallelGroup)).toEqual(["search", "search", "search", undefined]);
    expect(agentStep(created.steps[3]).inputMapping).toEqual(
      agentStep(multiSourceResearch.steps[3]).inputMapping,
    );
    expect(created.warnings).toEqual([
      roleWarning(0, "Research Assistant"),
      roleWarning(1, "Research Assistant"),
      roleWarning(2, "Research Assistant"),
      roleWarning(3, "Synthesizer"),
    ]);
  });

  it("accepts Example 4's retries, timeout and numeric condition verbatim", async () => {
    const { trpc } = await newTenant();
    await createRoles(trpc, ["Coder", "Tester", "Debugger"]);
    const created = await trpc.orchestrationManagement.create.mutate(selfCorrectingCoder);
    expect(created.steps[0]).toEqual({ ...STEP_DEFAULTS, ...selfCorrectingCoder.steps[0] });
    expect(created.steps[0]).toMatchObject({ maxRetries: 2, retryDelay: 1000, timeout: 60_000 });
    expect(created.steps[2]?.condition).toEqual({ field: "testResults.passed", operator: "<", value: 1 });
    expect(created.steps[1]).toMatchObject({ maxRetries: 0, timeout: 300_000 });
    expect(created.warnings).toEqual([]);
  });

  it.each(Object.entries(fundamentalPatterns))(
    "accepts the %s pattern wrapped with a name",
    async (name, pattern) => {
      const { trpc } = await newTenant();
      const created = await trpc.orchestrationManagement.create.mutate({ name, ...pattern });
      expect(created).toMatchObject({ name, version: 1, isActive: true, description: "", tags: [] });
      expect(created.steps).toEqual(pattern.steps.map((step) => ({ ...STEP_DEFAULTS, ...step })));
      const withRoles = pattern.steps.flatMap((step, index) => {
        const { roleName } = agentStep(step);
        return roleName === undefined ? [] : [roleWarning(index, roleName)];
      });
      expect(created.warnings).toEqual(withRoles);
    },
  );

  it("keeps Ping-Pong's retries and its condition on another step's output", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate({
      name: "Ping-Pong",
      ...fundamentalPatterns["Ping-Pong"],
    });
    expect(created.steps[2]).toMatchObject({
      maxRetries: 5,
      condition: { field: "Critic.score", operator: "<", value: 0.8 },
    });
  });

  it("warns about context keys that no step produces, at the exact mapping path", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate({
      name: "Dangling references",
      steps: [
        {
          name: "First",
          inputMapping: { task: "{{context.input.task}}", nested: { plan: "{{context.plann}}" } },
          outputMapping: { plan: "{{output}}", echo: "{{context.nowhere}}" },
        },
        { name: "Second", condition: { field: "missing.flag", operator: "exists" } },
      ],
    });
    expect(created.warnings).toEqual([
      { path: "steps[0].inputMapping.nested.plan", message: expect.stringContaining('context "plann"') },
      { path: "steps[0].outputMapping.echo", message: expect.stringContaining('context "nowhere"') },
      { path: "steps[1].condition.field", message: expect.stringContaining('context "missing"') },
    ]);
  });

  it("stores isActive false and a description when given", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate({
      ...simple("Dormant", { isActive: false }),
      description: "not yet",
    });
    expect(created).toMatchObject({ isActive: false, description: "not yet" });
  });

  it("accepts 1000 steps", async () => {
    const { trpc } = await newTenant();
    const steps = Array.from({ length: 1000 }, (_, i) => ({ name: `Step ${i}`, order: i }));
    const created = await trpc.orchestrationManagement.create.mutate({ name: "Long", steps });
    expect(created.steps).toHaveLength(1000);
  });
});

describe("orchestrationManagement.get", () => {
  it("finds an orchestration by name and by id, as the guide's get_orchestration does", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(codeGenerationPipeline);
    const byName = await trpc.orchestrationManagement.get.query({ nameOrId: "Code Generation Pipeline" });
    const byId = await trpc.orchestrationManagement.get.query({ nameOrId: created.id });
    expect(byName).toEqual(created);
    expect(byId).toEqual(created);
  });

  it("answers NOT_FOUND for an unknown name or id", async () => {
    const { trpc } = await newTenant();
    for (const nameOrId of ["No such flow", "orc_00000000000000000000000000"]) {
      const error = await errorOf(trpc.orchestrationManagement.get.query({ nameOrId }));
      expect(error).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
    }
  });
});

describe("orchestrationManagement.list", () => {
  async function tenantWithFlows() {
    const tenant = await newTenant();
    const { trpc } = tenant;
    await trpc.orchestrationManagement.create.mutate(codeGenerationPipeline); // coding, quality
    await trpc.orchestrationManagement.create.mutate(multiSourceResearch); // research
    await trpc.orchestrationManagement.create.mutate(selfCorrectingCoder); // coding, reliability
    await trpc.orchestrationManagement.create.mutate(
      simple("Old Coder", { tags: ["coding"], isActive: false }),
    );
    return tenant;
  }
  const names = (list: { name: string }[]) => list.map((o) => o.name);

  it("lists everything ordered by name for list_orchestrations({})", async () => {
    const { trpc } = await tenantWithFlows();
    const all = (await trpc.orchestrationManagement.list.query({})).items;
    expect(names(all)).toEqual([
      "Code Generation Pipeline",
      "Multi-Source Research",
      "Old Coder",
      "Self-Correcting Coder",
    ]);
    expect(names((await trpc.orchestrationManagement.list.query()).items)).toEqual(names(all));
    expect(all[0]?.steps).toHaveLength(3);
  });

  it("returns an empty list for a tenant without orchestrations", async () => {
    const { trpc } = await newTenant();
    expect((await trpc.orchestrationManagement.list.query({})).items).toEqual([]);
  });

  it("filters by tags, requiring every given tag", async () => {
    const { trpc } = await tenantWithFlows();
    const list = async (tags: string[]) =>
      names((await trpc.orchestrationManagement.list.query({ tags })).items);
    expect(await list(["coding"])).toEqual([
      "Code Generation Pipeline",
      "Old Coder",
      "Self-Correcting Coder",
    ]);
    expect(await list(["coding", "quality"])).toEqual(["Code Generation Pipeline"]);
    expect(await list(["coding", "research"])).toEqual([]);
    expect(await list(["unknown"])).toEqual([]);
    expect(await list([])).toHaveLength(4);
  });

  it("filters to active orchestrations with activeOnly, alone and with tags as in the guide", async () => {
    const { trpc } = await tenantWithFlows();
    expect(names((await trpc.orchestrationManagement.list.query({ activeOnly: true })).items)).toEqual([
      "Code Generation Pipeline",
      "Multi-Source Research",
      "Self-Correcting Coder",
    ]);
    const codingFlows = (
      await trpc.orchestrationManagement.list.query({ tags: ["coding"], activeOnly: true })
    ).items;
    expect(names(codingFlows)).toEqual(["Code Generation Pipeline", "Self-Correcting Coder"]);
    expect(names((await trpc.orchestrationManagement.list.query({ activeOnly: false })).items)).toHaveLength(
      4,
    );
  });

  it("searches names, treating % and _ literally", async () => {
    const { trpc } = await tenantWithFlows();
    await trpc.orchestrationManagement.create.mutate(simple("100% done"));
    const search = async (text: string) =>
      names((await trpc.orchestrationManagement.list.query({ search: text })).items);
    expect(await search("coder")).toEqual(["Old Coder", "Self-Correcting Coder"]);
    expect(await search("%")).toEqual(["100% done"]);
    expect(await search("_")).toEqual([]);
  });
});

describe("orchestrationManagement.update", () => {
  it("applies the guide's update as version 2, keeping version 1 retrievable", async () => {
    const { trpc } = await newTenant();
    const v1 = await trpc.orchestrationManagement.create.mutate(codeGenerationPipeline);
    await sleep(5);
    const v2 = await trpc.orchestrationManagement.update.mutate({
      orchestrationId: v1.id,
      updates: {
        isActive: false, // Disable temporarily
        tags: ["coding", "deprecated"],
      },
    });
    expect(v2).toEqual({
      ...v1,
      isActive: false,
      tags: ["coding", "deprecated"],
      version: 2,
      updatedAt: expect.any(String),
    });
    expect(Date.parse(v2.updatedAt)).toBeGreaterThan(Date.parse(v1.updatedAt));

    const old = await trpc.orchestrationManagement.get.query({ nameOrId: v1.id, version: 1 });
    expect(old).toMatchObject({ version: 1, isActive: true, tags: ["coding", "quality"], steps: v1.steps });
    expect(await trpc.orchestrationManagement.get.query({ nameOrId: v1.id })).toEqual(v2);
    expect(await trpc.orchestrationManagement.get.query({ nameOrId: v1.id, version: 2 })).toEqual(v2);
  });

  it("lists every version newest first", async () => {
    const { trpc, user } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(simple("Versioned"));
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: created.id,
      updates: { description: "second" },
    });
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: created.id,
      updates: { description: "third" },
    });
    const versions = (await trpc.orchestrationManagement.versions.query({ orchestrationId: created.id }))
      .items;
    expect(versions).toEqual(
      [3, 2, 1].map((version) => ({ version, createdBy: `user:${user.id}`, createdAt: expect.any(String) })),
    );
    const descriptions = await Promise.all(
      [1, 2, 3].map(
        async (version) =>
          (await trpc.orchestrationManagement.get.query({ nameOrId: "Versioned", version })).description,
      ),
    );
    expect(descriptions).toEqual(["", "second", "third"]);
  });

  it("replaces the steps, validating them and recomputing warnings", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(simple("Growing"));
    const updated = await trpc.orchestrationManagement.update.mutate({
      orchestrationId: created.id,
      updates: { steps: selfCorrectingCoder.steps },
    });
    expect(updated.steps).toHaveLength(3);
    expect(updated.steps[0]).toMatchObject({ timeout: 60_000, maxRetries: 2 });
    expect(updated.warnings.map((w) => w.path)).toEqual([
      "steps[0].roleName",
      "steps[1].roleName",
      "steps[2].roleName",
    ]);
    const first = await trpc.orchestrationManagement.get.query({ nameOrId: created.id, version: 1 });
    expect(first.steps).toEqual([{ ...STEP_DEFAULTS, name: "Only" }]);
  });

  it("renames, so get finds the new name and version 1 still has the old one", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(simple("Before"));
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: created.id,
      updates: { name: "After" },
    });
    expect((await trpc.orchestrationManagement.get.query({ nameOrId: "After" })).id).toBe(created.id);
    expect((await errorOf(trpc.orchestrationManagement.get.query({ nameOrId: "Before" }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await trpc.orchestrationManagement.get.query({ nameOrId: created.id, version: 1 })).name).toBe(
      "Before",
    );
  });

  it("applies an update whose expectedVersion matches", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(simple("Careful"));
    const updated = await trpc.orchestrationManagement.update.mutate({
      orchestrationId: created.id,
      expectedVersion: 1,
      updates: { description: "checked" },
    });
    expect(updated).toMatchObject({ version: 2, description: "checked" });
  });

  it("refuses a stale expectedVersion with CONFLICT and writes nothing", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(simple("Contended"));
    const v2 = await trpc.orchestrationManagement.update.mutate({
      orchestrationId: created.id,
      updates: { description: "first writer" },
    });
    const error = await errorOf(
      trpc.orchestrationManagement.update.mutate({
        orchestrationId: created.id,
        expectedVersion: 1,
        updates: { description: "second writer" },
      }),
    );
    expect(error).toMatchObject({ code: "CONFLICT", httpStatus: 409 });
    expect(error.issues).toEqual([
      { path: "expectedVersion", message: expect.stringContaining("version 2") },
    ]);
    expect(await trpc.orchestrationManagement.get.query({ nameOrId: created.id })).toEqual(v2);
    expect(
      (await trpc.orchestrationManagement.versions.query({ orchestrationId: created.id })).items,
    ).toHaveLength(2);
  });

  it("lets only one of two concurrent updates from the same version win", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(simple("Raced"));
    const results = await Promise.allSettled(
      ["left", "right"].map((description) =>
        trpc.orchestrationManagement.update.mutate({
          orchestrationId: created.id,
          expectedVersion: 1,
          updates: { description },
        }),
      ),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected");
    expect((await errorOf(Promise.reject(lost?.reason))).code).toBe("CONFLICT");
    const current = await trpc.orchestrationManagement.get.query({ nameOrId: created.id });
    expect(current.version).toBe(2);
    expect(current.description).toBe(won[0]?.value.description);
  });

  it("refuses a rename onto another orchestration's name with CONFLICT at updates.name", async () => {
    const { trpc } = await newTenant();
    await trpc.orchestrationManagement.create.mutate(simple("Taken"));
    const other = await trpc.orchestrationManagement.create.mutate(simple("Other"));
    const error = await errorOf(
      trpc.orchestrationManagement.update.mutate({ orchestrationId: other.id, updates: { name: "Taken" } }),
    );
    expect(error.code).toBe("CONFLICT");
    expect(error.issues).toEqual([{ path: "updates.name", message: expect.stringContaining('"Taken"') }]);
    expect(await trpc.orchestrationManagement.get.query({ nameOrId: other.id })).toEqual(other);
    expect(
      (await trpc.orchestrationManagement.versions.query({ orchestrationId: other.id })).items,
    ).toHaveLength(1);
  });

  it("answers NOT_FOUND for an unknown id, or a name where the id belongs", async () => {
    const { trpc } = await newTenant();
    await trpc.orchestrationManagement.create.mutate(simple("Named"));
    for (const orchestrationId of ["orc_missing", "Named"]) {
      const error = await errorOf(
        trpc.orchestrationManagement.update.mutate({ orchestrationId, updates: { description: "x" } }),
      );
      expect(error.code).toBe("NOT_FOUND");
    }
  });

  it("answers NOT_FOUND for a version that was never saved", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(simple("Single"));
    const error = await errorOf(trpc.orchestrationManagement.get.query({ nameOrId: created.id, version: 2 }));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain("version 2");
  });
});

describe("orchestrationManagement.delete", () => {
  it("deletes an orchestration and all its versions; afterwards everything answers NOT_FOUND", async () => {
    const { trpc } = await newTenant();
    const created = await trpc.orchestrationManagement.create.mutate(codeGenerationPipeline);
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: created.id,
      updates: { isActive: false },
    });
    const kept = await trpc.orchestrationManagement.create.mutate(simple("Kept"));

    expect(await trpc.orchestrationManagement.delete.mutate({ orchestrationId: created.id })).toEqual({
      id: created.id,
      deleted: true,
    });
    const notFound = async (call: Promise<unknown>) => expect((await errorOf(call)).code).toBe("NOT_FOUND");
    await notFound(trpc.orchestrationManagement.get.query({ nameOrId: created.id }));
    await notFound(trpc.orchestrationManagement.get.query({ nameOrId: "Code Generation Pipeline" }));
    await notFound(trpc.orchestrationManagement.get.query({ nameOrId: created.id, version: 1 }));
    await notFound(trpc.orchestrationManagement.versions.query({ orchestrationId: created.id }));
    await notFound(
      trpc.orchestrationManagement.update.mutate({
        orchestrationId: created.id,
        updates: { isActive: true },
      }),
    );
    await notFound(trpc.orchestrationManagement.delete.mutate({ orchestrationId: created.id }));

    expect((await trpc.orchestrationManagement.list.query()).items.map((o) => o.id)).toEqual([kept.id]);
    const versionRows = await env.DB.prepare(
      "select count(*) as n from orchestration_versions where orchestration_id = ?",
    )
      .bind(created.id)
      .first<{ n: number }>();
    expect(versionRows?.n).toBe(0);
  });

  it("frees the name for a new orchestration starting again at version 1", async () => {
    const { trpc } = await newTenant();
    const first = await trpc.orchestrationManagement.create.mutate(simple("Reborn"));
    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: first.id,
      updates: { description: "v2" },
    });
    await trpc.orchestrationManagement.delete.mutate({ orchestrationId: first.id });
    const second = await trpc.orchestrationManagement.create.mutate(simple("Reborn"));
    expect(second).toMatchObject({ version: 1, description: "" });
    expect(second.id).not.toBe(first.id);
  });
});

describe("orchestration names", () => {
  it("refuses a second orchestration with the same name in a tenant with CONFLICT at name", async () => {
    const { trpc } = await newTenant();
    await trpc.orchestrationManagement.create.mutate(codeGenerationPipeline);
    const error = await errorOf(
      trpc.orchestrationManagement.create.mutate(simple("Code Generation Pipeline")),
    );
    expect(error).toMatchObject({ code: "CONFLICT", httpStatus: 409 });
    expect(error.issues).toEqual([{ path: "name", message: expect.stringContaining("already exists") }]);
    expect((await trpc.orchestrationManagement.list.query()).items).toHaveLength(1);
  });

  it("allows the same name in another tenant", async () => {
    const a = await newTenant("a");
    const b = await newTenant("b");
    const inA = await a.trpc.orchestrationManagement.create.mutate(codeGenerationPipeline);
    const inB = await b.trpc.orchestrationManagement.create.mutate(codeGenerationPipeline);
    expect(inB.id).not.toBe(inA.id);
    expect(inB.version).toBe(1);
    expect((await errorOf(b.trpc.orchestrationManagement.get.query({ nameOrId: inA.id }))).code).toBe(
      "NOT_FOUND",
    );
  });
});

describe("GET /schema/orchestration.json", () => {
  type JsonSchema = {
    $ref?: string;
    $defs?: Record<string, JsonSchema>;
    type?: string;
    const?: unknown;
    description?: string;
    properties?: Record<string, JsonSchema>;
    items?: JsonSchema;
    oneOf?: JsonSchema[];
    anyOf?: JsonSchema[];
    enum?: unknown[];
    required?: string[];
    default?: unknown;
    additionalProperties?: unknown;
    [key: string]: unknown;
  };

  const COMMON_FIELDS = ["name", "order", "parallelGroup", "condition", "outputMapping", "continueOnError"];
  /** Each kind's own fields (besides the common ones and stepType) and which of them are required. */
  const KIND_FIELDS: Record<StepType, { fields: string[]; required: string[] }> = {
    agent: {
      fields: [
        "roleName",
        "inputMapping",
        "maxRetries",
        "retryDelay",
        "retryBackoff",
        "timeout",
        "outputFormat",
        "outputSchema",
      ],
      required: ["name"],
    },
    loop: {
      fields: ["steps", "until", "maxIterations"],
      required: ["name", "stepType", "steps", "maxIterations"],
    },
    forEach: { fields: ["items", "concurrency", "steps"], required: ["name", "stepType", "items", "steps"] },
    branch: { fields: ["branches", "otherwise"], required: ["name", "stepType", "branches"] },
    orchestration: {
      fields: [
        "orchestrationId",
        "version",
        "inputMapping",
        "maxRetries",
        "retryDelay",
        "retryBackoff",
        "timeout",
      ],
      required: ["name", "stepType", "orchestrationId"],
    },
    approval: { fields: ["message", "timeout", "onTimeout"], required: ["name", "stepType"] },
    sleep: { fields: ["duration", "until"], required: ["name", "stepType"] },
  };

  async function fetchSchema() {
    const response = await workerFetch("http://localhost/schema/orchestration.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    const schema = (await response.json()) as JsonSchema;
    const resolve = (node: JsonSchema | undefined): JsonSchema => {
      const name = node?.$ref?.replace("#/$defs/", "");
      const target = name ? schema.$defs?.[name] : node;
      if (!target) throw new Error(`unresolvable schema node ${JSON.stringify(node)}`);
      return target.$ref ? resolve(target) : target;
    };
    const steps = resolve(schema.properties?.steps);
    const step = resolve(steps.items);
    /** Each kind's object schema, by the stepType it declares. */
    const kinds = new Map(
      (step.oneOf ?? []).map((option) => {
        const kind = resolve(option);
        return [String(resolve(kind.properties?.stepType).const), kind] as const;
      }),
    );
    const kind = (name: StepType) => {
      const found = kinds.get(name);
      if (!found) throw new Error(`no step kind "${name}" in the schema`);
      return found;
    };
    return { schema, resolve, steps, step, kinds, kind };
  }

  it("describes the definition, its steps and the condition operators", async () => {
    const { schema, resolve, steps, kind } = await fetchSchema();
    expect(schema).toMatchObject({ type: "object", title: expect.any(String), additionalProperties: false });
    expect(schema.required).toEqual(expect.arrayContaining(["name", "steps"]));
    expect(steps).toMatchObject({ type: "array", minItems: 1, maxItems: 1000 });
    const agent = kind("agent");
    expect(agent.required).toEqual(["name"]);
    expect(Object.keys(agent.properties ?? {})).toEqual(
      expect.arrayContaining(["name", "order", "roleName", "inputMapping", "outputMapping", "parallelGroup"]),
    );
    expect(agent.properties?.timeout).toMatchObject({ default: 300_000, minimum: 1000 });
    expect(agent.properties?.maxRetries).toMatchObject({ default: 0, maximum: 10 });
    const condition = resolve(agent.properties?.condition);
    expect(resolve(condition.properties?.operator).enum).toEqual([...CONDITION_OPERATORS]);
    expect(condition.required).toEqual(["field", "operator"]);
  });

  it.each(STEP_TYPES.map((name) => [name]))("describes the %s kind with its fields", async (name) => {
    const { kind } = await fetchSchema();
    const described = kind(name);
    const { fields, required } = KIND_FIELDS[name];
    expect(Object.keys(described.properties ?? {}).sort()).toEqual(
      [...COMMON_FIELDS, "stepType", ...fields].sort(),
    );
    expect(described.required).toEqual(required);
    expect(described).toMatchObject({ type: "object", additionalProperties: false });
    expect(described.description).toEqual(expect.any(String));
  });

  it("nests bodies recursively and states each kind's bounds and defaults", async () => {
    const { resolve, steps, kind } = await fetchSchema();
    const loop = kind("loop");
    expect(loop.properties?.maxIterations).toMatchObject({ type: "integer", minimum: 1, maximum: 100 });
    expect(loop.properties?.steps?.items).toEqual(steps.items);
    expect(loop.properties?.until).toMatchObject({ $ref: kind("agent").properties?.condition?.$ref });

    const forEach = kind("forEach");
    expect(forEach.properties?.concurrency).toMatchObject({ default: 10, minimum: 1, maximum: 100 });
    expect(forEach.properties?.items?.anyOf).toEqual([
      expect.objectContaining({ type: "string" }),
      expect.objectContaining({ type: "array", maxItems: 1000 }),
    ]);
    expect(forEach.properties?.steps?.items).toEqual(steps.items);

    const branch = kind("branch");
    const arm = resolve(branch.properties?.branches?.items);
    expect(arm).toMatchObject({ required: ["when", "steps"], additionalProperties: false });
    expect(arm.properties?.steps?.items).toEqual(steps.items);
    expect(branch.properties?.otherwise?.items).toEqual(steps.items);

    const approval = kind("approval");
    expect(approval.properties?.timeout).toMatchObject({
      default: 7 * 24 * 3_600_000,
      maximum: 30 * 24 * 3_600_000,
    });
    expect(approval.properties?.onTimeout).toMatchObject({
      default: "fail",
      enum: ["fail", "approve", "reject"],
    });
    expect(kind("sleep").properties?.duration).toMatchObject({ maximum: 30 * 24 * 3_600_000 });
    expect(kind("orchestration").properties?.version).toMatchObject({ type: "integer", minimum: 1 });
  });
});
