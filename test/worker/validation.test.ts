// Malformed input to the role and orchestration procedures: each is refused with BAD_REQUEST, an issue at
// the exact field path with a message saying what is wrong, and nothing written to D1.
import { describe, expect, it } from "vitest";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { storedRowsOf } from "../helpers/fixtures";

interface Fixture {
  trpc: TestClient;
  roleId: string;
  orchestrationId: string;
}

interface Case {
  /** What is wrong, as the test title. */
  what: string;
  call: (fixture: Fixture) => Promise<unknown>;
  /** The exact path of the issue (`""` for the whole input). */
  path: string;
  message: RegExp;
}

/** Passes deliberately malformed input past the compiler, exactly as a JavaScript caller could send it. */
function raw<T>(input: unknown): T {
  return input as T;
}

const goodStep = { name: "Only", roleName: "Coder" };

function createRole(trpc: TestClient, input: Record<string, unknown>) {
  return trpc.role.create.mutate(raw({ name: "Bad Role", basePrompt: "p", ...input }));
}
function createFlow(trpc: TestClient, input: Record<string, unknown>) {
  return trpc.orchestrationManagement.create.mutate(raw({ name: "Bad Flow", steps: [goodStep], ...input }));
}
/** An orchestration whose steps are `goodStep`s, with `bad` at `index`. */
function createFlowWithStep(trpc: TestClient, bad: Record<string, unknown>, index = 0) {
  const steps = Array.from({ length: index }, (_, i) => ({ name: `Step ${i}` }));
  return createFlow(trpc, { steps: [...steps, { name: `Step ${index}`, ...bad }] });
}

const roleCases: Case[] = [
  {
    what: "temperature above 2",
    call: ({ trpc }) => createRole(trpc, { hyperparameters: { temperature: 3 } }),
    path: "hyperparameters.temperature",
    message: /must be between 0 and 2/,
  },
  {
    what: "maxTokens that is not a whole number",
    call: ({ trpc }) => createRole(trpc, { hyperparameters: { maxTokens: 1.5 } }),
    path: "hyperparameters.maxTokens",
    message: /whole number/,
  },
  {
    what: "a negative minContext",
    call: ({ trpc }) => createRole(trpc, { contextLimits: { minContext: -1 } }),
    path: "contextLimits.minContext",
    message: /must not be negative/,
  },
  {
    what: "minContext greater than maxContext",
    call: ({ trpc }) => createRole(trpc, { contextLimits: { minContext: 64_000, maxContext: 8000 } }),
    path: "contextLimits.minContext",
    message: /must not exceed maxContext \(64000 > 8000\)/,
  },
  {
    what: "minContext greater than the default maxContext",
    call: ({ trpc }) => createRole(trpc, { contextLimits: { minContext: 200_000 } }),
    path: "contextLimits.minContext",
    message: /must not exceed maxContext/,
  },
  {
    what: "top-level needsTools contradicting capabilities.needsTools",
    call: ({ trpc }) => createRole(trpc, { needsTools: true, capabilities: { needsTools: false } }),
    path: "needsTools",
    message: /contradicts capabilities\.needsTools/,
  },
  {
    what: "a misspelled hyperparameter",
    call: ({ trpc }) => createRole(trpc, { hyperparameters: { temprature: 0.2 } }),
    path: "hyperparameters",
    message: /unknown field "temprature"; the fields are temperature, maxTokens/,
  },
  {
    what: "an unknown top-level field",
    call: ({ trpc }) => createRole(trpc, { prompt: "p" }),
    path: "",
    message: /unknown field "prompt"/,
  },
  {
    what: "an empty name",
    call: ({ trpc }) => createRole(trpc, { name: "   " }),
    path: "name",
    message: /must not be empty/,
  },
  {
    what: "a missing basePrompt",
    call: ({ trpc }) => trpc.role.create.mutate(raw({ name: "No prompt" })),
    path: "basePrompt",
    message: /expected string/,
  },
  {
    what: "a tool name that is not lowercase",
    call: ({ trpc }) => createRole(trpc, { tools: ["meta", "Web Search"] }),
    path: "tools[1]",
    message: /lowercase tool name/,
  },
  {
    what: "the same tool twice",
    call: ({ trpc }) => createRole(trpc, { tools: ["meta", "web", "meta"] }),
    path: "tools[2]",
    message: /tool "meta" is already used at \[0\]/,
  },
  {
    what: "capabilities that are not booleans",
    call: ({ trpc }) => createRole(trpc, { capabilities: { needsCoding: "yes" } }),
    path: "capabilities.needsCoding",
    message: /expected boolean/,
  },
  {
    what: "an update with a negative temperature",
    call: ({ trpc, roleId }) =>
      trpc.role.update.mutate(raw({ roleId, updates: { hyperparameters: { temperature: -0.1 } } })),
    path: "updates.hyperparameters.temperature",
    message: /must be between 0 and 2/,
  },
  {
    what: "an update that changes nothing",
    call: ({ trpc, roleId }) => trpc.role.update.mutate({ roleId, updates: {} }),
    path: "updates",
    message: /must change at least one field/,
  },
  {
    what: "an update whose minContext exceeds the stored maxContext",
    call: ({ trpc, roleId }) =>
      trpc.role.update.mutate({ roleId, updates: { contextLimits: { minContext: 64_000 } } }),
    path: "updates.contextLimits.minContext",
    message: /must not exceed maxContext \(64000 > 32000\)/,
  },
  {
    what: "an update whose needsTools contradicts its capabilities",
    call: ({ trpc, roleId }) =>
      trpc.role.update.mutate({ roleId, updates: { needsTools: false, capabilities: { needsTools: true } } }),
    path: "updates.needsTools",
    message: /contradicts/,
  },
  {
    what: "a list filter with an invalid tool name",
    call: ({ trpc }) => trpc.role.list.query({ tool: "NOT valid" }),
    path: "tool",
    message: /lowercase tool name/,
  },
];

const orchestrationCases: Case[] = [
  {
    what: 'an unknown condition operator "equals"',
    call: ({ trpc }) =>
      createFlowWithStep(trpc, { condition: { field: "review.ok", operator: "equals", value: true } }, 2),
    path: "steps[2].condition.operator",
    message: /"equals" is not one of exists, not_exists, ==, !=/,
  },
  {
    what: "an unclosed {{context.plan template",
    call: ({ trpc }) => createFlowWithStep(trpc, { inputMapping: { task: "Do {{context.plan" } }),
    path: "steps[0].inputMapping.task",
    message: /"\{\{" at position 4 is never closed with "\}\}"/,
  },
  {
    what: "{{output}} in an inputMapping",
    call: ({ trpc }) => createFlowWithStep(trpc, { inputMapping: { task: "{{output}}" } }),
    path: "steps[0].inputMapping.task",
    message: /\{\{output\}\} must start with "context".*only in outputMapping/,
  },
  {
    what: "an empty {{ }} template",
    call: ({ trpc }) => createFlowWithStep(trpc, { inputMapping: { task: "before {{ }} after" } }),
    path: "steps[0].inputMapping.task",
    message: /empty template "\{\{\}\}" at position 8/,
  },
  {
    what: "a malformed template deep inside a nested inputMapping",
    call: ({ trpc }) =>
      createFlowWithStep(trpc, { inputMapping: { sources: { list: ["{{context.a}}", "{{context..b}}"] } } }),
    path: "steps[0].inputMapping.sources.list[1]",
    message: /malformed template \{\{context\.\.b\}\}/,
  },
  {
    what: "a malformed template under an inputMapping key with spaces",
    call: ({ trpc }) => createFlowWithStep(trpc, { inputMapping: { "Step Name": "{{context['Plan}}" } }),
    path: 'steps[0].inputMapping["Step Name"]',
    message: /unterminated quoted key/,
  },
  {
    what: "a stray }} in an outputMapping",
    call: ({ trpc }) => createFlowWithStep(trpc, { outputMapping: { plan: "{output}}" } }),
    path: "steps[0].outputMapping.plan",
    message: /"\}\}" at position 8 has no opening "\{\{"/,
  },
  {
    what: 'the reserved outputMapping key "input"',
    call: ({ trpc }) => createFlowWithStep(trpc, { outputMapping: { input: "{{output}}" } }),
    path: "steps[0].outputMapping.input",
    message: /"input" is reserved for the execution input/,
  },
  {
    what: 'a step named "input", which would hide the execution input',
    call: ({ trpc }) => createFlowWithStep(trpc, { name: "input" }),
    path: "steps[0].name",
    message: /"input" is reserved for the execution input/,
  },
  {
    what: 'a step named "__proto__"',
    call: ({ trpc }) => createFlowWithStep(trpc, { name: "__proto__" }),
    path: "steps[0].name",
    message: /"__proto__" cannot be a context key/,
  },
  {
    what: 'operator "in" with a value that is not an array',
    call: ({ trpc }) =>
      createFlowWithStep(trpc, { condition: { field: "status", operator: "in", value: "done" } }, 1),
    path: "steps[1].condition.value",
    message: /must be an array for operator "in"/,
  },
  {
    what: 'an invalid regular expression for "matches"',
    call: ({ trpc }) =>
      createFlowWithStep(trpc, { condition: { field: "review.text", operator: "matches", value: "([a-z" } }),
    path: "steps[0].condition.value",
    message: /is not a regular expression RE2 accepts/,
  },
  {
    what: 'a boolean compared with "<"',
    call: ({ trpc }) =>
      createFlowWithStep(trpc, { condition: { field: "score", operator: "<", value: true } }),
    path: "steps[0].condition.value",
    message: /must be a number or a string for operator "<"/,
  },
  {
    what: "a malformed condition field",
    call: ({ trpc }) =>
      createFlowWithStep(trpc, { condition: { field: "testResults..passed", operator: "exists" } }),
    path: "steps[0].condition.field",
    message: /expected a name after '\.'/,
  },
  {
    what: "a timeout of 0",
    call: ({ trpc }) => createFlowWithStep(trpc, { timeout: 0 }),
    path: "steps[0].timeout",
    message: /must be at least 1000 ms/,
  },
  {
    what: "maxRetries of 11",
    call: ({ trpc }) => createFlowWithStep(trpc, { maxRetries: 11 }, 1),
    path: "steps[1].maxRetries",
    message: /must be at most 10/,
  },
  {
    what: "a negative retryDelay",
    call: ({ trpc }) => createFlowWithStep(trpc, { retryDelay: -1 }),
    path: "steps[0].retryDelay",
    message: /must be at least 0 ms/,
  },
  {
    what: "a non-integer order",
    call: ({ trpc }) => createFlowWithStep(trpc, { order: 1.5 }),
    path: "steps[0].order",
    message: /must be a whole number/,
  },
  {
    what: "a duplicate step name",
    call: ({ trpc }) => createFlow(trpc, { steps: [{ name: "Plan" }, { name: "Plan" }] }),
    path: "steps[1].name",
    message: /^step name "Plan" is already used at steps\[0\]; names are context keys/,
  },
  {
    what: 'an unknown stepType "loops"',
    call: ({ trpc }) => createFlowWithStep(trpc, { stepType: "loops" }),
    path: "steps[0].stepType",
    message: /^"loops" is not one of agent, loop, forEach, branch, orchestration, approval, sleep$/,
  },
  {
    what: "an unknown step field",
    call: ({ trpc }) => createFlowWithStep(trpc, { roleNmae: "Coder" }),
    path: "steps[0].roleNmae",
    message: /^unknown field "roleNmae"; an agent step takes name, order, .*roleName/,
  },
  {
    what: "an unknown top-level field",
    call: ({ trpc }) => createFlow(trpc, { version: 3 }),
    path: "",
    message: /unknown field "version"/,
  },
  {
    what: "no steps",
    call: ({ trpc }) => createFlow(trpc, { steps: [] }),
    path: "steps",
    message: /needs at least one step/,
  },
  {
    what: "1001 steps",
    call: ({ trpc }) =>
      createFlow(trpc, { steps: Array.from({ length: 1001 }, (_, i) => ({ name: `Step ${i}` })) }),
    path: "steps",
    message: /^at most 1000 steps$/,
  },
  {
    what: "a definition over 1 MB",
    call: ({ trpc }) => createFlowWithStep(trpc, { inputMapping: { blob: "x".repeat(1_000_001) } }),
    path: "",
    message: /definition is \d+ bytes; the limit is 1000000/,
  },
  {
    what: "a tag longer than 50 characters",
    call: ({ trpc }) => createFlow(trpc, { tags: ["ok", "t".repeat(51)] }),
    path: "tags[1]",
    message: /must be at most 50 characters/,
  },
  {
    what: "a tag with a comma",
    call: ({ trpc }) => createFlow(trpc, { tags: ["coding,quality"] }),
    path: "tags[0]",
    message: /must not contain commas/,
  },
  {
    what: "an update with an invalid step timeout",
    call: ({ trpc, orchestrationId }) =>
      trpc.orchestrationManagement.update.mutate({
        orchestrationId,
        updates: { steps: [{ name: "Only", timeout: 0 }] },
      }),
    path: "updates.steps[0].timeout",
    message: /must be at least 1000 ms/,
  },
  {
    what: "an update with a duplicate step name",
    call: ({ trpc, orchestrationId }) =>
      trpc.orchestrationManagement.update.mutate({
        orchestrationId,
        updates: { steps: [{ name: "A" }, { name: "B" }, { name: "A" }] },
      }),
    path: "updates.steps[2].name",
    message: /^step name "A" is already used at steps\[0\]/,
  },
  {
    what: "an update that changes nothing",
    call: ({ trpc, orchestrationId }) =>
      trpc.orchestrationManagement.update.mutate({ orchestrationId, updates: {} }),
    path: "updates",
    message: /must change at least one field/,
  },
  {
    what: "an update with expectedVersion 0",
    call: ({ trpc, orchestrationId }) =>
      trpc.orchestrationManagement.update.mutate({
        orchestrationId,
        expectedVersion: 0,
        updates: { isActive: false },
      }),
    path: "expectedVersion",
    message: /expected number to be >=1/,
  },
  {
    what: "a get with a non-integer version",
    call: ({ trpc, orchestrationId }) =>
      trpc.orchestrationManagement.get.query({ nameOrId: orchestrationId, version: 1.5 }),
    path: "version",
    message: /expected int/,
  },
  {
    what: "a list filter with an empty tag",
    call: ({ trpc }) => trpc.orchestrationManagement.list.query({ tags: ["coding", " "] }),
    path: "tags[1]",
    message: /must not be empty/,
  },
];

/** A tenant with one role and one orchestration, so update cases have something to (not) change. */
async function fixture(): Promise<Fixture & { tenantId: string }> {
  const { trpc, tenant } = await newTenant("validation");
  const role = await trpc.role.create.mutate({
    name: "Coder",
    basePrompt: "Write code",
    contextLimits: { minContext: 1000, maxContext: 32_000 },
  });
  const orchestration = await trpc.orchestrationManagement.create.mutate({
    name: "Existing",
    steps: [goodStep],
  });
  return { trpc, roleId: role.id, orchestrationId: orchestration.id, tenantId: tenant.id };
}

describe("malformed input", () => {
  it("covers at least 20 distinct cases across roles and orchestrations", () => {
    const titles = [...roleCases, ...orchestrationCases].map((c) => c.what);
    expect(new Set(titles).size).toBeGreaterThanOrEqual(20);
    expect(orchestrationCases.length).toBeGreaterThanOrEqual(20);
  });

  it.each([
    ...roleCases.map((c) => ({ ...c, what: `role: ${c.what}` })),
    ...orchestrationCases.map((c) => ({ ...c, what: `orchestration: ${c.what}` })),
  ])("refuses $what with BAD_REQUEST at `$path`, writing nothing", async ({ call, path, message }) => {
    const { tenantId, ...fx } = await fixture();
    const before = await storedRowsOf(tenantId);

    const error = await errorOf(call(fx));

    expect(error).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
    expect(error.issues).toContainEqual({ path, message: expect.stringMatching(message) });
    if (path) expect(error.message).toContain(`${path}: `);
    expect(await storedRowsOf(tenantId)).toEqual(before);
  });
});
