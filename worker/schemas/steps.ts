// One zod schema per step kind (`stepType`), and the union that reads any of them. Rules that need the
// whole tree (unique names at every depth, what a template may name) live in definition-rules.ts; the
// shared fields and checks in step-fields.ts. The parsed value is the engine's StepDefinition
// (durable-objects/engine/definition.ts); StepInput is what users write.
import { z } from "zod";
import {
  type JsonValue,
  STEP_TYPES,
  type StepCondition,
  type StepDefinition,
} from "../../durable-objects/engine/definition";
import {
  APPROVAL_DEFAULT_TIMEOUT_MS,
  BRANCHES_MAX,
  DEFAULT_STEP_TIMEOUT_MS,
  FOR_EACH_DEFAULT_CONCURRENCY,
  FOR_EACH_MAX_CONCURRENCY,
  FOR_EACH_MAX_ITEMS,
  LOOP_MAX_ITERATIONS,
  STEP_TIMEOUT_MAX_MS,
  WAIT_MAX_MS,
} from "../../durable-objects/engine/limits";
import { parseTemplate } from "../../durable-objects/engine/templates";
import { oneOf, required, strictObject } from "./common";
import { conditionSchema, jsonSchemaValue } from "./condition";
import { roleName } from "./role";
import {
  body,
  checkCommonTemplates,
  checkTemplates,
  commonFields,
  INPUT_ROOTS,
  inputMapping,
  milliseconds,
  outputSchema,
  retryFields,
  stepKind,
} from "./step-fields";

const stepBody = (missing: string, empty: string) => body(missing, empty, () => stepSchema);

const agentStep = stepKind(
  "agent",
  {
    ...commonFields,
    stepType: z.literal("agent").optional(),
    roleName: roleName.optional().describe("The role whose model answers; see role.list."),
    inputMapping,
    ...retryFields,
    timeout: milliseconds(1000, STEP_TIMEOUT_MAX_MS).default(DEFAULT_STEP_TIMEOUT_MS),
    outputFormat: oneOf(["auto", "json", "text"]).default("auto"),
    outputSchema,
  },
  "A model call by a role (the default kind).",
  (step, ctx) => {
    checkCommonTemplates(step, ctx);
    if (step.outputSchema !== undefined && step.outputFormat === "text")
      ctx.addIssue({
        code: "custom",
        path: ["outputFormat"],
        message: 'cannot be "text" with an outputSchema (the reply must be JSON): set "json" or leave it out',
      });
  },
);

const loopStep = stepKind(
  "loop",
  {
    ...commonFields,
    stepType: z.literal("loop"),
    steps: stepBody("the loop's body", "a loop's body needs at least one step"),
    until: conditionSchema.optional().describe("Checked after each iteration; the loop ends once it holds."),
    maxIterations: z
      .int({
        error: required(
          `the most times the body runs, from 1 to ${LOOP_MAX_ITERATIONS}`,
          `must be a whole number from 1 to ${LOOP_MAX_ITERATIONS}`,
        ),
      })
      .min(1, "must be at least 1")
      .max(LOOP_MAX_ITERATIONS, `must be at most ${LOOP_MAX_ITERATIONS}`),
  },
  "Runs its body in order, then checks `until`; repeats until it holds or maxIterations is reached. " +
    "Output: { iterations, outputs }. Inside: {{iteration}} (from 0).",
);

/** A missing or mistyped `items`, or the bound of the one shape (string or array) it has. */
function itemsError(issue: z.core.$ZodRawIssue) {
  if (issue.input === undefined)
    return 'is required: the list to run the body for, a template such as "{{context.plan.tasks}}" or an array';
  const bounds =
    issue.code === "invalid_union" ? issue.errors.flat().filter((e) => e.code !== "invalid_type") : [];
  if (bounds.length > 0) return bounds.map((inner) => inner.message).join("; ");
  return 'must be a template such as "{{context.plan.tasks}}" or an array';
}

const forEachStep = stepKind(
  "forEach",
  {
    ...commonFields,
    stepType: z.literal("forEach"),
    items: z
      .union(
        [
          z.string().max(10_000, "must be at most 10000 characters"),
          z
            .array(jsonSchemaValue)
            .max(FOR_EACH_MAX_ITEMS, `must be at most ${FOR_EACH_MAX_ITEMS} items; split the list`),
        ],
        { error: itemsError },
      )
      .describe('A whole template resolving to an array ("{{context.plan.tasks}}"), or the array.'),
    concurrency: z
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(FOR_EACH_MAX_CONCURRENCY, `must be at most ${FOR_EACH_MAX_CONCURRENCY} items at a time`)
      .default(FOR_EACH_DEFAULT_CONCURRENCY),
    steps: stepBody("the forEach's body", "a forEach's body needs at least one step"),
  },
  "Runs its body once per item, at most `concurrency` at a time; {{item}} and {{index}} inside. " +
    "Output: the array of each item's body output, in item order.",
  (step, ctx) => {
    checkCommonTemplates(step, ctx);
    if (typeof step.items !== "string" || step.items.length > 10_000) return;
    const parsed = parseTemplate(step.items, INPUT_ROOTS);
    if (!parsed.ok) ctx.addIssue({ code: "custom", path: ["items"], message: parsed.error });
    else if (parsed.value.length !== 1 || parsed.value[0]?.kind !== "ref")
      ctx.addIssue({
        code: "custom",
        path: ["items"],
        message: 'must be one whole template resolving to an array, such as "{{context.plan.tasks}}"',
      });
  },
);

const branchArm = strictObject(
  {
    when: conditionSchema.describe("This arm runs when it holds (and no earlier arm's does)."),
    steps: stepBody("the steps this arm runs", "a branch arm needs at least one step"),
  },
  "a branch arm { when, steps }",
);

const branchStep = stepKind(
  "branch",
  {
    ...commonFields,
    stepType: z.literal("branch"),
    branches: z
      .array(branchArm, {
        error: required("an array of { when, steps } arms", "must be an array of { when, steps }"),
      })
      .min(1, "needs at least one { when, steps } arm")
      .max(BRANCHES_MAX, `at most ${BRANCHES_MAX} branches`),
    otherwise: stepBody(
      "the steps to run when no arm holds",
      "needs at least one step; leave otherwise out to complete with null when no arm holds",
    )
      .optional()
      .describe("Runs when no arm's `when` holds."),
  },
  "Runs the first arm whose `when` holds, else `otherwise`; its output is that arm's output.",
);

const orchestrationStep = stepKind(
  "orchestration",
  {
    ...commonFields,
    stepType: z.literal("orchestration"),
    orchestrationId: z
      .string({
        error: required("the id or name of the orchestration to run", "must be an orchestration id or name"),
      })
      .trim()
      .min(1, "must name an orchestration (id or name)")
      .max(200),
    version: z.int("must be a whole number").min(1, "must be at least 1").optional(),
    inputMapping: inputMapping.describe("The child's input; the parent's input when absent."),
    ...retryFields,
    timeout: milliseconds(1000, WAIT_MAX_MS).optional(),
  },
  "Starts another orchestration as a child execution and waits for it; its output is the child's.",
);

const approvalStep = stepKind(
  "approval",
  {
    ...commonFields,
    stepType: z.literal("approval"),
    message: z.string().max(10_000, "must be at most 10000 characters").optional(),
    timeout: milliseconds(1000, WAIT_MAX_MS).default(APPROVAL_DEFAULT_TIMEOUT_MS),
    onTimeout: oneOf(["fail", "approve", "reject"]).default("fail"),
  },
  "Waits for orchestrationManagement.approve (approve_step in agent code). " +
    "Output: { approved, comment, data, by, at }.",
  (step, ctx) => {
    checkCommonTemplates(step, ctx);
    if (step.message !== undefined) checkTemplates(step.message, ["message"], ctx);
  },
);

/** A literal `until` (no template) must be a time Date.parse reads, or the run would fail on it. */
function checkSleep(
  step: { duration?: number; until?: string; outputMapping?: unknown },
  ctx: z.RefinementCtx,
) {
  checkCommonTemplates(step, ctx);
  const issue = (field: string, message: string) => ctx.addIssue({ code: "custom", path: [field], message });
  if (step.duration !== undefined && step.until !== undefined)
    issue("until", "give either duration (ms) or until (an ISO time), not both");
  if (step.duration === undefined && step.until === undefined)
    issue("duration", "is required: a number of ms, or give until (an ISO time or a template) instead");
  if (step.until === undefined) return;
  checkTemplates(step.until, ["until"], ctx);
  const parsed = parseTemplate(step.until, INPUT_ROOTS);
  if (parsed.ok && parsed.value.every((part) => part.kind === "text") && Number.isNaN(Date.parse(step.until)))
    issue("until", 'must be an ISO time such as "2030-01-01T09:00:00Z", or a template rendering one');
}

const sleepStep = stepKind(
  "sleep",
  {
    ...commonFields,
    stepType: z.literal("sleep"),
    duration: milliseconds(0, WAIT_MAX_MS).optional(),
    until: z.string().trim().min(1, "must not be empty").max(1000).optional(),
  },
  "Waits `duration` ms, or until the time `until` renders to. Output: { sleptUntil }.",
  checkSleep,
);

const KINDS = STEP_TYPES.join(", ");

/** Any step; `stepType` picks the kind and defaults to "agent". */
export const stepSchema: z.ZodType<StepDefinition, StepInput> = z
  .discriminatedUnion(
    "stepType",
    [agentStep, loopStep, forEachStep, branchStep, orchestrationStep, approvalStep, sleepStep],
    {
      error: (issue) => {
        const input = issue.input as { stepType?: unknown } | undefined;
        if (input === null || typeof input !== "object" || Array.isArray(input))
          return "must be a step object such as { name, roleName }";
        if (issue.code === "invalid_union") return `${JSON.stringify(input.stepType)} is not one of ${KINDS}`;
        return undefined;
      },
    },
  )
  .meta({
    id: "Step",
    description: `A step; stepType (${KINDS}) picks its kind, "agent" by default.`,
  }) as never;

// What users write: the kinds with their defaults optional (clients and agent code type against this).
export type ConditionInput = Omit<StepCondition, "value"> & { value?: JsonValue };
interface CommonInput {
  name: string;
  order?: number;
  parallelGroup?: string;
  condition?: ConditionInput;
  outputMapping?: Record<string, string>;
  continueOnError?: boolean;
}
interface RetriesInput {
  maxRetries?: number;
  retryDelay?: number;
  retryBackoff?: "fixed" | "exponential";
}
export type StepInput =
  | (CommonInput &
      RetriesInput & {
        stepType?: "agent";
        roleName?: string;
        inputMapping?: Record<string, JsonValue>;
        timeout?: number;
        outputFormat?: "auto" | "json" | "text";
        outputSchema?: Record<string, unknown>;
      })
  | (CommonInput & { stepType: "loop"; steps: StepInput[]; until?: ConditionInput; maxIterations: number })
  | (CommonInput & {
      stepType: "forEach";
      items: string | JsonValue[];
      concurrency?: number;
      steps: StepInput[];
    })
  | (CommonInput & {
      stepType: "branch";
      branches: { when: ConditionInput; steps: StepInput[] }[];
      otherwise?: StepInput[];
    })
  | (CommonInput &
      RetriesInput & {
        stepType: "orchestration";
        orchestrationId: string;
        version?: number;
        inputMapping?: Record<string, JsonValue>;
        timeout?: number;
      })
  | (CommonInput & {
      stepType: "approval";
      message?: string;
      timeout?: number;
      onTimeout?: "fail" | "approve" | "reject";
    })
  | (CommonInput & { stepType: "sleep"; duration?: number; until?: string });
