// Valid definitions of every step kind over tRPC: they save, come back from get with their defaults
// filled in (at every depth), save again unchanged, and get warnings for what they name that does not
// exist yet (roles of nested steps, the orchestrations orchestration steps run, unknown context keys).
import { describe, expect, it } from "vitest";
import type { OrchestrationInput, StepInput } from "../../worker/schemas/orchestration";
import { newTenant, type TestClient } from "../helpers/client";
import { pingPongLoop } from "../helpers/guide";

const DAY_MS = 24 * 60 * 60 * 1000;
const RETRY_DEFAULTS = { maxRetries: 0, retryDelay: 1000, retryBackoff: "fixed" };
const AGENT_DEFAULTS = { ...RETRY_DEFAULTS, timeout: 300_000, outputFormat: "auto" };

type AgentInput = Extract<StepInput, { stepType?: "agent" }>;
const agent = (name: string, extra: Partial<AgentInput> = {}): AgentInput => ({
  name,
  roleName: "Worker",
  ...extra,
});

/** One step of each kind, nested: a forEach inside a loop, a branch inside a forEach. */
const everyKind: OrchestrationInput = {
  name: "Every kind",
  steps: [
    agent("Plan", { outputMapping: { plan: "{{output}}" } }),
    {
      name: "Rounds",
      stepType: "loop",
      maxIterations: 3,
      until: { field: "Check.ok", operator: "==", value: true },
      steps: [
        {
          name: "Tasks",
          stepType: "forEach",
          items: "{{context.plan.tasks}}",
          steps: [
            {
              name: "Triage",
              stepType: "branch",
              branches: [
                {
                  when: { field: "item.urgent", operator: "==", value: true },
                  steps: [agent("Hotfix", { inputMapping: { task: "{{item}}", round: "{{iteration}}" } })],
                },
              ],
              otherwise: [agent("Queue", { inputMapping: { position: "{{index}}" } })],
            },
          ],
        },
        agent("Check", { inputMapping: { results: "{{context.Tasks}}" }, outputFormat: "json" }),
      ],
    },
    {
      name: "Research",
      stepType: "orchestration",
      orchestrationId: "Research",
      inputMapping: { topic: "x" },
    },
    { name: "Sign off", stepType: "approval", message: "Ship {{context.plan.title}}?" },
    { name: "Cool down", stepType: "sleep", duration: 1000, continueOnError: true },
    { name: "Until noon", stepType: "sleep", until: "2030-01-01T12:00:00Z" },
  ],
};

/** `everyKind` as get returns it: each kind's defaults filled in, at every depth. */
const everyKindSaved = [
  { ...AGENT_DEFAULTS, ...everyKind.steps[0] },
  {
    name: "Rounds",
    stepType: "loop",
    maxIterations: 3,
    until: { field: "Check.ok", operator: "==", value: true },
    steps: [
      {
        name: "Tasks",
        stepType: "forEach",
        items: "{{context.plan.tasks}}",
        concurrency: 10,
        steps: [
          {
            name: "Triage",
            stepType: "branch",
            branches: [
              {
                when: { field: "item.urgent", operator: "==", value: true },
                steps: [
                  {
                    ...AGENT_DEFAULTS,
                    ...agent("Hotfix", { inputMapping: { task: "{{item}}", round: "{{iteration}}" } }),
                  },
                ],
              },
            ],
            otherwise: [
              { ...AGENT_DEFAULTS, ...agent("Queue", { inputMapping: { position: "{{index}}" } }) },
            ],
          },
        ],
      },
      {
        ...AGENT_DEFAULTS,
        ...agent("Check", { inputMapping: { results: "{{context.Tasks}}" } }),
        outputFormat: "json",
      },
    ],
  },
  { ...RETRY_DEFAULTS, ...everyKind.steps[2] },
  { ...everyKind.steps[3], timeout: 7 * DAY_MS, onTimeout: "fail" },
  everyKind.steps[4],
  everyKind.steps[5],
];

async function tenantWith(roles: string[]): Promise<TestClient> {
  const { trpc } = await newTenant("kinds");
  for (const name of roles) await trpc.role.create.mutate({ name, basePrompt: `You are ${name}.` });
  return trpc;
}

describe("definitions of every kind", () => {
  it("save and come back from get with each kind's defaults, at every depth", async () => {
    const trpc = await tenantWith(["Worker"]);
    await trpc.orchestrationManagement.create.mutate({ name: "Research", steps: [agent("Search")] });
    const created = await trpc.orchestrationManagement.create.mutate(everyKind);
    expect(created.steps).toEqual(everyKindSaved);
    expect(created.warnings).toEqual([]);
    expect(await trpc.orchestrationManagement.get.query({ nameOrId: created.id })).toEqual(created);
    expect(await trpc.orchestrationManagement.get.query({ nameOrId: "Every kind", version: 1 })).toEqual(
      created,
    );
  });

  it("save unchanged when what get returned is saved again", async () => {
    const trpc = await tenantWith(["Worker"]);
    await trpc.orchestrationManagement.create.mutate({ name: "Research", steps: [agent("Search")] });
    const created = await trpc.orchestrationManagement.create.mutate(everyKind);
    const again = await trpc.orchestrationManagement.update.mutate({
      orchestrationId: created.id,
      updates: { steps: created.steps },
    });
    expect(again).toMatchObject({ version: 2, steps: created.steps, warnings: [] });
  });

  it("accept the guide's Ping-Pong as a loop, as the dashboard offers it", async () => {
    const trpc = await tenantWith([]);
    const created = await trpc.orchestrationManagement.create.mutate(pingPongLoop);
    expect(created.steps[1]).toMatchObject({
      stepType: "loop",
      maxIterations: 5,
      until: { field: "Critic.score", operator: ">=", value: 0.8 },
    });
  });

  it("accept an explicit stepType agent and a forEach over a literal list", async () => {
    const trpc = await tenantWith(["Worker"]);
    const created = await trpc.orchestrationManagement.create.mutate({
      name: "Literal",
      steps: [
        { ...agent("First"), stepType: "agent" },
        { name: "Each", stepType: "forEach", items: ["a", { b: 1 }], concurrency: 2, steps: [agent("Do")] },
      ],
    });
    expect(created.steps[0]).toEqual({ ...AGENT_DEFAULTS, ...agent("First"), stepType: "agent" });
    expect(created.steps[1]).toMatchObject({ items: ["a", { b: 1 }], concurrency: 2 });
  });
});

describe("warnings for nested steps", () => {
  it("name each nested agent step whose role does not exist, until it does", async () => {
    const trpc = await tenantWith([]);
    const created = await trpc.orchestrationManagement.create.mutate({
      name: "Research",
      steps: [agent("Search")],
    });
    const flow = await trpc.orchestrationManagement.create.mutate(everyKind);
    const missing = (path: string) => ({
      path,
      message: 'role "Worker" does not exist yet; create it before executing this orchestration',
    });
    expect(flow.warnings).toEqual([
      missing("steps[0].roleName"),
      missing("steps[1].steps[0].steps[0].branches[0].steps[0].roleName"),
      missing("steps[1].steps[0].steps[0].otherwise[0].roleName"),
      missing("steps[1].steps[1].roleName"),
    ]);
    expect(created.warnings).toEqual([missing("steps[0].roleName")]);
    await trpc.role.create.mutate({ name: "Worker", basePrompt: "You work." });
    expect((await trpc.orchestrationManagement.get.query({ nameOrId: flow.id })).warnings).toEqual([]);
  });

  it("name an orchestration step's target that does not exist, is inactive or lacks the version", async () => {
    const trpc = await tenantWith(["Worker"]);
    const call = (name: string, orchestrationId: string, version?: number): StepInput => ({
      name,
      stepType: "orchestration",
      orchestrationId,
      ...(version === undefined ? {} : { version }),
    });
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Parent",
      steps: [
        call("Missing", "Not yet"),
        { name: "Twice", stepType: "loop", maxIterations: 2, steps: [call("Dormant", "Dormant")] },
        call("Future", "Parent", 2),
        call("Itself", "Parent", 1),
      ],
    });
    expect(flow.warnings).toEqual([
      {
        path: "steps[0].orchestrationId",
        message:
          'orchestration "Not yet" does not exist yet; create it before executing this orchestration, or the step fails',
      },
      {
        path: "steps[1].steps[0].orchestrationId",
        message:
          'orchestration "Dormant" does not exist yet; create it before executing this orchestration, or the step fails',
      },
      {
        path: "steps[2].version",
        message: 'orchestration "Parent" has no version 2 yet (it is at version 1)',
      },
    ]);

    const dormant = await trpc.orchestrationManagement.create.mutate({
      name: "Dormant",
      isActive: false,
      steps: [agent("Rest")],
    });
    await trpc.orchestrationManagement.create.mutate({ name: "Not yet", steps: [agent("Now")] });
    const later = await trpc.orchestrationManagement.get.query({ nameOrId: flow.id });
    expect(later.warnings).toEqual([
      {
        path: "steps[1].steps[0].orchestrationId",
        message:
          'orchestration "Dormant" is inactive; the step fails unless it is active (isActive: true) when it runs',
      },
      {
        path: "steps[2].version",
        message: 'orchestration "Parent" has no version 2 yet (it is at version 1)',
      },
    ]);

    await trpc.orchestrationManagement.update.mutate({
      orchestrationId: dormant.id,
      updates: { isActive: true },
    });
    const byId = await trpc.orchestrationManagement.update.mutate({
      orchestrationId: flow.id,
      updates: { steps: [call("By id", dormant.id), call("Itself", "Parent", 2)] },
    });
    expect(byId.warnings).toEqual([]);
  });

  it("name context keys that no step produces, inside bodies too", async () => {
    const trpc = await tenantWith(["Worker"]);
    const flow = await trpc.orchestrationManagement.create.mutate({
      name: "Dangling",
      steps: [
        {
          name: "Each",
          stepType: "forEach",
          items: "{{context.tasks}}",
          steps: [agent("Do", { inputMapping: { hint: "{{context.hints}}", task: "{{item}}" } })],
        },
        {
          name: "Gate",
          stepType: "approval",
          message: "Approve {{context.summary}}?",
        },
      ],
    });
    expect(flow.warnings).toEqual([
      { path: "steps[0].items", message: expect.stringContaining('context "tasks"') },
      { path: "steps[0].steps[0].inputMapping.hint", message: expect.stringContaining('context "hints"') },
      { path: "steps[1].message", message: expect.stringContaining('context "summary"') },
    ]);
  });
});
