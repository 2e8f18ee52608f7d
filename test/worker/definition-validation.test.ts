// Invalid shapes of the control-flow step kinds (loop, forEach, branch, orchestration, approval, sleep)
// and of the tree they make: each is refused with BAD_REQUEST and exactly one issue, at the field's path,
// whose message says what to do; nothing is written.
import { describe, expect, it } from "vitest";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import { snapshotOf } from "../helpers/fixtures";

const DAY_MS = 24 * 60 * 60 * 1000;
const KINDS = "agent, loop, forEach, branch, orchestration, approval, sleep";
const LOOP_FIELDS =
  "name, order, parallelGroup, condition, outputMapping, continueOnError, stepType, steps, until, maxIterations";
const AGENT_FIELDS =
  "name, order, parallelGroup, condition, outputMapping, continueOnError, stepType, roleName, inputMapping, maxRetries, retryDelay, retryBackoff, timeout, outputFormat, outputSchema";
const SLEEP_FIELDS =
  "name, order, parallelGroup, condition, outputMapping, continueOnError, stepType, duration, until";

const agent = (name: string, extra: Record<string, unknown> = {}) => ({ name, roleName: "Coder", ...extra });
const loop = (extra: Record<string, unknown>) => ({
  name: "Refine",
  stepType: "loop",
  maxIterations: 3,
  steps: [agent("Critic")],
  ...extra,
});
const forEach = (extra: Record<string, unknown>) => ({
  name: "Each",
  stepType: "forEach",
  items: "{{context.input.tasks}}",
  steps: [agent("Do")],
  ...extra,
});
const when = (field: string) => ({ field, operator: "exists" });
const branch = (extra: Record<string, unknown>) => ({
  name: "Route",
  stepType: "branch",
  branches: [{ when: when("input.urgent"), steps: [agent("Escalate")] }],
  ...extra,
});
/** `depth` loops inside one another around one agent step. */
function nested(depth: number): Record<string, unknown> {
  let step: Record<string, unknown> = agent("Leaf");
  for (let level = depth; level > 0; level--)
    step = { name: `Level ${level}`, stepType: "loop", maxIterations: 1, steps: [step] };
  return step;
}
const bodyPath = (depth: number) => `steps[0]${".steps[0]".repeat(depth)}`;
const WHOLE_CONTEXT =
  "{{context}} is the whole context, which grows with every step (and mapped back into it, grows the run without bound); name the values the step needs, such as {{context.input}} or {{context['Step Name']}}";
const RE2_SYNTAX = "; matches uses RE2 syntax, which has no backreferences or lookaround";

interface Case {
  what: string;
  steps: unknown[];
  path: string;
  message: string;
}

const cases: Case[] = [
  {
    what: "an unknown stepType",
    steps: [{ name: "Fan out", stepType: "parallel", steps: [agent("A")] }],
    path: "steps[0].stepType",
    message: `"parallel" is not one of ${KINDS}`,
  },
  {
    what: "a loop without maxIterations",
    steps: [loop({ maxIterations: undefined })],
    path: "steps[0].maxIterations",
    message: "is required: the most times the body runs, from 1 to 100",
  },
  {
    what: "a loop with maxIterations 101",
    steps: [loop({ maxIterations: 101 })],
    path: "steps[0].maxIterations",
    message: "must be at most 100",
  },
  {
    what: "a loop with maxIterations 2.5",
    steps: [loop({ maxIterations: 2.5 })],
    path: "steps[0].maxIterations",
    message: "must be a whole number from 1 to 100",
  },
  {
    what: "a loop with an empty body",
    steps: [loop({ steps: [] })],
    path: "steps[0].steps",
    message: "a loop's body needs at least one step",
  },
  {
    what: "a loop without a body",
    steps: [loop({ steps: undefined })],
    path: "steps[0].steps",
    message: "is required: the loop's body, an array of steps",
  },
  {
    what: "roleName on a loop",
    steps: [loop({ roleName: "Coder" })],
    path: "steps[0].roleName",
    message: `"roleName" belongs to agent steps, not to a loop step: remove it (a loop step takes ${LOOP_FIELDS})`,
  },
  {
    what: "maxIterations on a step without stepType",
    steps: [agent("Refine", { maxIterations: 3 })],
    path: "steps[0].maxIterations",
    message: `"maxIterations" belongs to loop steps, not to an agent step: set stepType "loop", or remove it (an agent step takes ${AGENT_FIELDS})`,
  },
  {
    what: "{{iteration}} in a loop's own outputMapping",
    steps: [loop({ outputMapping: { rounds: "{{iteration}}" } })],
    path: "steps[0].outputMapping.rounds",
    message: "{{iteration}} is only available inside a loop body",
  },
  {
    what: "an until naming a step after the loop",
    steps: [loop({ until: when("Publish.done") }), agent("Publish")],
    path: "steps[0].until.field",
    message:
      '"Publish.done" names step "Publish", which cannot have run before this point: it runs later, alongside this step, or on another branch',
  },
  {
    what: "a forEach with concurrency 101",
    steps: [forEach({ concurrency: 101 })],
    path: "steps[0].concurrency",
    message: "must be at most 100 items at a time",
  },
  {
    what: "forEach items that are not one whole template",
    steps: [forEach({ items: "tasks: {{context.input.tasks}}" })],
    path: "steps[0].items",
    message: 'must be one whole template resolving to an array, such as "{{context.plan.tasks}}"',
  },
  {
    what: "forEach items that are a number",
    steps: [forEach({ items: 5 })],
    path: "steps[0].items",
    message: 'must be a template such as "{{context.plan.tasks}}" or an array',
  },
  {
    what: "a forEach of 1001 literal items",
    steps: [forEach({ items: Array.from({ length: 1001 }, (_, i) => i) })],
    path: "steps[0].items",
    message: "must be at most 1000 items; split the list",
  },
  {
    what: "a forEach without items",
    steps: [forEach({ items: undefined })],
    path: "steps[0].items",
    message:
      'is required: the list to run the body for, a template such as "{{context.plan.tasks}}" or an array',
  },
  {
    what: "a forEach with an empty body",
    steps: [forEach({ steps: [] })],
    path: "steps[0].steps",
    message: "a forEach's body needs at least one step",
  },
  {
    what: "{{item}} outside a forEach",
    steps: [agent("Write", { inputMapping: { task: "Do {{item.title}}" } })],
    path: "steps[0].inputMapping.task",
    message: "{{item.title}}: {{item}} is only available inside a forEach body",
  },
  {
    what: "{{index}} inside a loop that is not in a forEach",
    steps: [loop({ steps: [agent("Critic", { inputMapping: { n: "{{index}}" } })] })],
    path: "steps[0].steps[0].inputMapping.n",
    message: "{{index}} is only available inside a forEach body",
  },
  {
    what: "{{iteration}} inside a forEach that is not in a loop",
    steps: [forEach({ steps: [agent("Do", { inputMapping: { round: "{{iteration}}" } })] })],
    path: "steps[0].steps[0].inputMapping.round",
    message: "{{iteration}} is only available inside a loop body",
  },
  {
    what: "a condition reading item outside a forEach",
    steps: [agent("Write", { condition: when("item.ready") })],
    path: "steps[0].condition.field",
    message:
      '"item.ready" reads item, which is only available inside a forEach body (no step or outputMapping key is named "item")',
  },
  {
    what: "a template naming a step inside a forEach from after it",
    steps: [forEach({}), agent("Report", { inputMapping: { done: "{{context.Do}}" } })],
    path: "steps[1].inputMapping.done",
    message:
      '{{context.Do}} names step "Do", which cannot have run before this point: it runs once per item inside forEach "Each"; read the forEach\'s output {{context[\'Each\']}} instead',
  },
  {
    what: "a template naming a step that runs later",
    steps: [agent("Draft", { inputMapping: { notes: "{{context['Review'].notes}}" } }), agent("Review")],
    path: "steps[0].inputMapping.notes",
    message:
      "{{context['Review'].notes}} names step \"Review\", which cannot have run before this point: it runs later, alongside this step, or on another branch",
  },
  {
    what: "otherwise naming a step of a branch arm",
    steps: [branch({ otherwise: [agent("Queue", { inputMapping: { after: "{{context.Escalate}}" } })] })],
    path: "steps[0].otherwise[0].inputMapping.after",
    message:
      '{{context.Escalate}} names step "Escalate", which cannot have run before this point: it runs later, alongside this step, or on another branch',
  },
  {
    what: "a nested step named like a top-level one",
    steps: [agent("Critic"), loop({})],
    path: "steps[1].steps[0].name",
    message:
      'step name "Critic" is already used at steps[0]; names are context keys, so they must be unique at every depth',
  },
  {
    what: "two branch arms with a step of the same name",
    steps: [
      branch({
        branches: [
          { when: when("input.a"), steps: [agent("Fix")] },
          { when: when("input.b"), steps: [agent("Fix")] },
        ],
      }),
    ],
    path: "steps[0].branches[1].steps[0].name",
    message:
      'step name "Fix" is already used at steps[0].branches[0].steps[0]; names are context keys, so they must be unique at every depth',
  },
  {
    what: "a branch with no branches",
    steps: [branch({ branches: [] })],
    path: "steps[0].branches",
    message: "needs at least one { when, steps } arm",
  },
  {
    what: "a branch without branches",
    steps: [branch({ branches: undefined })],
    path: "steps[0].branches",
    message: "is required: an array of { when, steps } arms",
  },
  {
    what: "a branch arm with no steps",
    steps: [branch({ branches: [{ when: when("input.a"), steps: [] }] })],
    path: "steps[0].branches[0].steps",
    message: "a branch arm needs at least one step",
  },
  {
    what: "a branch arm without when",
    steps: [branch({ branches: [{ steps: [agent("Fix")] }] })],
    path: "steps[0].branches[0].when",
    message: 'is required: a condition such as { field: "review.approved", operator: "==", value: true }',
  },
  {
    what: "an empty otherwise",
    steps: [branch({ otherwise: [] })],
    path: "steps[0].otherwise",
    message: "needs at least one step; leave otherwise out to complete with null when no arm holds",
  },
  {
    what: "a branch arm with a field of its own",
    steps: [branch({ branches: [{ name: "Urgent", when: when("input.a"), steps: [agent("Fix")] }] })],
    path: "steps[0].branches[0]",
    message: 'unknown field "name"; the fields are when, steps',
  },
  {
    what: "an orchestration step without orchestrationId",
    steps: [{ name: "Child", stepType: "orchestration" }],
    path: "steps[0].orchestrationId",
    message: "is required: the id or name of the orchestration to run",
  },
  {
    what: "an orchestration step with version 0",
    steps: [{ name: "Child", stepType: "orchestration", orchestrationId: "Research", version: 0 }],
    path: "steps[0].version",
    message: "must be at least 1",
  },
  {
    what: "an approval timeout over 30 days",
    steps: [{ name: "Sign off", stepType: "approval", timeout: 31 * DAY_MS }],
    path: "steps[0].timeout",
    message: "must be at most 2592000000 ms (30 days)",
  },
  {
    what: "an unknown onTimeout",
    steps: [{ name: "Sign off", stepType: "approval", onTimeout: "skip" }],
    path: "steps[0].onTimeout",
    message: '"skip" is not one of fail, approve, reject',
  },
  {
    what: "an approval message with {{item}} outside a forEach",
    steps: [{ name: "Sign off", stepType: "approval", message: "Ship {{item}}?" }],
    path: "steps[0].message",
    message: "{{item}} is only available inside a forEach body",
  },
  {
    what: "a sleep with both duration and until",
    steps: [{ name: "Wait", stepType: "sleep", duration: 1000, until: "2030-01-01T00:00:00Z" }],
    path: "steps[0].until",
    message: "give either duration (ms) or until (an ISO time), not both",
  },
  {
    what: "a sleep with neither duration nor until",
    steps: [{ name: "Wait", stepType: "sleep" }],
    path: "steps[0].duration",
    message: "is required: a number of ms, or give until (an ISO time or a template) instead",
  },
  {
    what: "a sleep until a time that is not ISO",
    steps: [{ name: "Wait", stepType: "sleep", until: "tomorrow morning" }],
    path: "steps[0].until",
    message: 'must be an ISO time such as "2030-01-01T09:00:00Z", or a template rendering one',
  },
  {
    what: "a sleep of 31 days",
    steps: [{ name: "Wait", stepType: "sleep", duration: 31 * DAY_MS }],
    path: "steps[0].duration",
    message: "must be at most 2592000000 ms (30 days)",
  },
  {
    what: "a timeout on a sleep",
    steps: [{ name: "Wait", stepType: "sleep", duration: 1000, timeout: 5000 }],
    path: "steps[0].timeout",
    message: `"timeout" belongs to agent, orchestration and approval steps, not to a sleep step: remove it (a sleep step takes ${SLEEP_FIELDS})`,
  },
  {
    what: "continueOnError that is not a boolean",
    steps: [agent("Try", { continueOnError: "yes" })],
    path: "steps[0].continueOnError",
    message: "must be true or false",
  },
  {
    what: "an invalid field of a step nested in a loop",
    steps: [loop({ steps: [agent("Critic", { timeout: 0 })] })],
    path: "steps[0].steps[0].timeout",
    message: "must be at least 1000 ms (1 second)",
  },
  {
    what: "bodies nested 9 deep",
    steps: [nested(9)],
    path: bodyPath(8),
    message:
      "its body would nest 9 deep; bodies nest at most 8 deep: flatten it, or move it into its own orchestration and run that with an orchestration step",
  },
  {
    what: "1001 steps counting nested ones",
    steps: [loop({ steps: Array.from({ length: 1000 }, (_, i) => agent(`Step ${i}`)) })],
    path: "steps",
    message:
      "has 1001 steps counting nested ones; the limit is 1000: move some into their own orchestration and run it with an orchestration step",
  },
  {
    what: "the whole context, four times, in an outputMapping (it would grow the run fourfold each step)",
    steps: [agent("Grow", { outputMapping: { a: "{{context}}{{context}}{{context}}{{context}}" } })],
    path: "steps[0].outputMapping.a",
    message: WHOLE_CONTEXT,
  },
  {
    what: "the whole context as an inputMapping value",
    steps: [agent("Read", { inputMapping: { everything: "{{ context }}" } })],
    path: "steps[0].inputMapping.everything",
    message: WHOLE_CONTEXT,
  },
  {
    what: "a backreference in a matches condition (RE2 has none)",
    steps: [agent("Check", { condition: { field: "input.text", operator: "matches", value: "(a)\\1" } })],
    path: "steps[0].condition.value",
    message: `is not a regular expression RE2 accepts (invalid escape sequence: \`\\1\`)${RE2_SYNTAX}`,
  },
  {
    what: "a lookbehind in a loop's until",
    steps: [loop({ until: { field: "Critic.text", operator: "matches", value: "(?<=x)y" } })],
    path: "steps[0].until.value",
    message: `is not a regular expression RE2 accepts (invalid named capture: \`(?<=x)y\`)${RE2_SYNTAX}`,
  },
  {
    what: "a lookahead in a branch arm's when",
    steps: [
      branch({
        branches: [
          { when: { field: "input.kind", operator: "matches", value: "a(?=b)" }, steps: [agent("E")] },
        ],
      }),
    ],
    path: "steps[0].branches[0].when.value",
    message: `is not a regular expression RE2 accepts (invalid or unsupported Perl syntax: \`(?=\`)${RE2_SYNTAX}`,
  },
];

async function refusedWithNothingWritten(
  tenant: Awaited<ReturnType<typeof newTenant>>,
  call: (trpc: TestClient) => Promise<unknown>,
) {
  const before = await snapshotOf(tenant);
  const error = await errorOf(call(tenant.trpc));
  expect(await snapshotOf(tenant)).toEqual(before);
  return error;
}

describe("invalid definitions of the control-flow kinds", () => {
  it.each(cases)("refuses $what with BAD_REQUEST at `$path`", async ({ steps, path, message }) => {
    const tenant = await newTenant("kinds");
    const error = await refusedWithNothingWritten(tenant, (trpc) =>
      trpc.orchestrationManagement.create.mutate({ name: "Bad", steps } as never),
    );
    expect(error).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
    expect(error.issues).toEqual([{ path, message }]);
    expect(error.message).toBe(`${path}: ${message}`);
  });

  it("refuses the same shapes in an update, at updates.steps, keeping the current version", async () => {
    const tenant = await newTenant("kinds");
    const saved = await tenant.trpc.orchestrationManagement.create.mutate({
      name: "Existing",
      steps: [agent("Only")],
    });
    const error = await refusedWithNothingWritten(tenant, (trpc) =>
      trpc.orchestrationManagement.update.mutate({
        orchestrationId: saved.id,
        updates: { steps: [loop({ maxIterations: undefined })] as never },
      }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.issues).toEqual([
      {
        path: "updates.steps[0].maxIterations",
        message: "is required: the most times the body runs, from 1 to 100",
      },
    ]);
  });

  it("reports every problem of a definition at once, each at its own path", async () => {
    const tenant = await newTenant("kinds");
    const error = await refusedWithNothingWritten(tenant, (trpc) =>
      trpc.orchestrationManagement.create.mutate({
        name: "Many problems",
        steps: [loop({ roleName: "Coder", maxIterations: 500 }), forEach({ concurrency: 0 })],
      } as never),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual([
      "steps[0].maxIterations",
      "steps[0].roleName",
      "steps[1].concurrency",
    ]);
  });

  it("accepts bodies nested 8 deep", async () => {
    const { trpc } = await newTenant("kinds");
    const created = await trpc.orchestrationManagement.create.mutate({
      name: "Deep",
      steps: [nested(8) as never],
    });
    expect(created.version).toBe(1);
  });

  it("accepts RE2 patterns and templates that name parts of the context", async () => {
    const { trpc } = await newTenant("kinds");
    const created = await trpc.orchestrationManagement.create.mutate({
      name: "Named parts",
      steps: [
        agent("Check", {
          // (?i) is RE2 syntax a JavaScript RegExp refuses: what runs decides what is valid.
          condition: { field: "input.text", operator: "matches", value: "(?i)^(a+)+$|^OK\\d{2,}$" },
          inputMapping: { text: "{{context.input.text}} and {{context['input']}}" },
          outputMapping: { checked: "{{output}}" },
        }),
      ],
    });
    expect(created.version).toBe(1);
  });
});
