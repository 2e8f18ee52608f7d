// One zod schema per step kind (`stepType`), and the union that reads any of them. Rules that need the
// whole tree (unique names at every depth, what a template may name) live in definition-rules.ts.
// The parsed value is the engine's StepDefinition (durable-objects/engine/definition.ts).
import { z } from "zod";
import {
  CONDITION_OPERATORS,
  type JsonValue,
  STEP_TYPES,
  type StepCondition,
  type StepDefinition,
} from "../../durable-objects/engine/definition";
import {
  APPROVAL_DEFAULT_TIMEOUT_MS,
  BRANCHES_MAX,
  DEFAULT_RETRY_DELAY_MS,
  DEFAULT_STEP_TIMEOUT_MS,
  FOR_EACH_DEFAULT_CONCURRENCY,
  FOR_EACH_MAX_CONCURRENCY,
  FOR_EACH_MAX_ITEMS,
  LOOP_MAX_ITERATIONS,
  MAX_RETRIES_LIMIT,
  RETRY_DELAY_MAX_MS,
  STEP_TIMEOUT_MAX_MS,
  STEPS_MAX,
  WAIT_MAX_MS,
} from "../../durable-objects/engine/limits";
import { parsePath, parseTemplate, SCOPE_ROOTS, stringLeaves } from "../../durable-objects/engine/templates";
import { displayName, jsonValue, recordOf, strictObject } from "./common";
import { roleName } from "./role";

const operatorSchema = z.enum(CONDITION_OPERATORS, {
  error: (issue) => `${JSON.stringify(issue.input)} is not one of ${CONDITION_OPERATORS.join(", ")}`,
});

export const conditionSchema = strictObject({
  field: z.string().trim().min(1, 'must name a context path such as "testResults.passed"').max(500),
  operator: operatorSchema,
  value: jsonValue.nullable().optional().default(null),
}).superRefine((condition, ctx) => {
  const path = parsePath(condition.field, true);
  if (!path.ok) ctx.addIssue({ code: "custom", path: ["field"], message: path.error });
  const { operator, value } = condition;
  if (operator === "in" && !Array.isArray(value)) {
    ctx.addIssue({ code: "custom", path: ["value"], message: 'must be an array for operator "in"' });
  }
  if (operator === "matches") {
    if (typeof value !== "string" || value.length > 500) {
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: 'must be a regular expression string (at most 500 characters) for "matches"',
      });
    } else {
      try {
        new RegExp(value);
      } catch (error) {
        ctx.addIssue({
          code: "custom",
          path: ["value"],
          message: `is not a valid regular expression: ${(error as Error).message}`,
        });
      }
    }
  }
  if (["<", "<=", ">", ">="].includes(operator) && typeof value !== "number" && typeof value !== "string") {
    ctx.addIssue({
      code: "custom",
      path: ["value"],
      message: `must be a number or a string for operator "${operator}"`,
    });
  }
});

/** Context keys that step names and outputMapping keys may not take. */
const RESERVED_CONTEXT_KEYS = new Map([
  ["input", '"input" is reserved for the execution input'],
  ["__proto__", '"__proto__" cannot be a context key'],
  ["constructor", '"constructor" cannot be a context key'],
  ["prototype", '"prototype" cannot be a context key'],
]);
const notReserved = (key: string) => !RESERVED_CONTEXT_KEYS.has(key);
const reservedMessage = (key: string) => RESERVED_CONTEXT_KEYS.get(key) ?? "is reserved";

const outputKey = z
  .string()
  .min(1)
  .max(100)
  .refine(notReserved, { error: (issue) => reservedMessage(String(issue.input)) });

const milliseconds = (min: number, max: number) =>
  z
    .int("must be a whole number of milliseconds")
    .min(min, `must be at least ${min} ms`)
    .max(max, `must be at most ${max} ms`);

const INPUT_ROOTS = ["context", ...SCOPE_ROOTS];
const OUTPUT_ROOTS = ["context", "output", ...SCOPE_ROOTS];

/** Adds an issue for every string leaf of `value` (at `path`) that is not a well-formed template. */
function checkTemplates(value: unknown, path: (string | number)[], roots: string[], ctx: z.RefinementCtx) {
  for (const [leaf, text] of stringLeaves(value)) {
    const parsed = parseTemplate(text, roots);
    if (!parsed.ok) ctx.addIssue({ code: "custom", path: [...path, ...leaf], message: parsed.error });
  }
}

const common = {
  name: displayName(100).refine(notReserved, { error: (issue) => reservedMessage(String(issue.input)) }),
  order: z.int("must be a whole number").min(0, "must not be negative").max(1_000_000).optional(),
  parallelGroup: displayName(100).optional(),
  condition: conditionSchema.optional(),
  outputMapping: recordOf(outputKey, z.string().max(10_000)).optional(),
  continueOnError: z.boolean().optional(),
};

const inputMapping = recordOf(
  z.string().max(100, "keys must be at most 100 characters"),
  jsonValue,
).optional();

const retries = {
  maxRetries: z
    .int("must be a whole number")
    .min(0)
    .max(MAX_RETRIES_LIMIT, `must be at most ${MAX_RETRIES_LIMIT}`)
    .default(0),
  retryDelay: milliseconds(0, RETRY_DELAY_MAX_MS).default(DEFAULT_RETRY_DELAY_MS),
  retryBackoff: z.enum(["fixed", "exponential"]).default("fixed"),
};

/** Templates of the fields every kind shares (outputMapping) and of inputMapping where a kind has it. */
function checkCommonTemplates(
  step: { inputMapping?: unknown; outputMapping?: unknown },
  ctx: z.RefinementCtx,
) {
  checkTemplates(step.inputMapping ?? {}, ["inputMapping"], INPUT_ROOTS, ctx);
  checkTemplates(step.outputMapping ?? {}, ["outputMapping"], OUTPUT_ROOTS, ctx);
}

const body = (what: string) =>
  z
    .array(z.lazy(() => stepSchema))
    .min(1, `${what} needs at least one step`)
    .max(STEPS_MAX, `at most ${STEPS_MAX} steps`);

const agentStep = strictObject({
  ...common,
  stepType: z.literal("agent").optional(),
  roleName: roleName.optional(),
  inputMapping,
  ...retries,
  timeout: milliseconds(1000, STEP_TIMEOUT_MAX_MS).default(DEFAULT_STEP_TIMEOUT_MS),
  outputFormat: z.enum(["auto", "json", "text"]).default("auto"),
}).superRefine(checkCommonTemplates);

const loopStep = strictObject({
  ...common,
  stepType: z.literal("loop"),
  steps: body("a loop"),
  until: conditionSchema.optional(),
  maxIterations: z
    .int(`is required for a loop: a whole number from 1 to ${LOOP_MAX_ITERATIONS}`)
    .min(1, "must be at least 1")
    .max(LOOP_MAX_ITERATIONS, `must be at most ${LOOP_MAX_ITERATIONS}`),
}).superRefine(checkCommonTemplates);

const forEachStep = strictObject({
  ...common,
  stepType: z.literal("forEach"),
  items: z.union(
    [
      z.string().max(10_000),
      z.array(jsonValue).max(FOR_EACH_MAX_ITEMS, `at most ${FOR_EACH_MAX_ITEMS} items`),
    ],
    { error: 'must be a template such as "{{context.plan.tasks}}" or an array' },
  ),
  concurrency: z
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(FOR_EACH_MAX_CONCURRENCY, `must be at most ${FOR_EACH_MAX_CONCURRENCY}`)
    .default(FOR_EACH_DEFAULT_CONCURRENCY),
  steps: body("a forEach"),
}).superRefine((step, ctx) => {
  checkCommonTemplates(step, ctx);
  if (typeof step.items !== "string") return;
  const parsed = parseTemplate(step.items, INPUT_ROOTS);
  if (!parsed.ok) ctx.addIssue({ code: "custom", path: ["items"], message: parsed.error });
  else if (parsed.value.length !== 1 || parsed.value[0]?.kind !== "ref")
    ctx.addIssue({
      code: "custom",
      path: ["items"],
      message: 'must be one whole template resolving to an array, such as "{{context.plan.tasks}}"',
    });
});

const branchStep = strictObject({
  ...common,
  stepType: z.literal("branch"),
  branches: z
    .array(strictObject({ when: conditionSchema, steps: body("a branch") }))
    .min(1, "a branch step needs at least one branch")
    .max(BRANCHES_MAX, `at most ${BRANCHES_MAX} branches`),
  otherwise: body("otherwise").optional(),
}).superRefine(checkCommonTemplates);

const orchestrationStep = strictObject({
  ...common,
  stepType: z.literal("orchestration"),
  orchestrationId: z.string().trim().min(1, "must name an orchestration (id or name)").max(200),
  version: z.int("must be a whole number").min(1, "must be at least 1").optional(),
  inputMapping,
  ...retries,
  timeout: milliseconds(1000, WAIT_MAX_MS).optional(),
}).superRefine(checkCommonTemplates);

const approvalStep = strictObject({
  ...common,
  stepType: z.literal("approval"),
  message: z.string().max(10_000, "must be at most 10000 characters").optional(),
  timeout: milliseconds(1000, WAIT_MAX_MS).default(APPROVAL_DEFAULT_TIMEOUT_MS),
  onTimeout: z.enum(["fail", "approve", "reject"]).default("fail"),
}).superRefine((step, ctx) => {
  checkCommonTemplates(step, ctx);
  if (step.message !== undefined) checkTemplates(step.message, ["message"], INPUT_ROOTS, ctx);
});

const sleepStep = strictObject({
  ...common,
  stepType: z.literal("sleep"),
  duration: milliseconds(0, WAIT_MAX_MS).optional(),
  until: z.string().trim().min(1, "must not be empty").max(1000).optional(),
}).superRefine((step, ctx) => {
  checkCommonTemplates(step, ctx);
  if ((step.duration === undefined) === (step.until === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: step.duration === undefined ? ["duration"] : ["until"],
      message: "a sleep takes exactly one of duration (ms) and until (an ISO time or a template)",
    });
  }
  if (step.until !== undefined) checkTemplates(step.until, ["until"], INPUT_ROOTS, ctx);
});

const KINDS = STEP_TYPES.join(", ");

/** Any step; `stepType` picks the kind and defaults to "agent". */
export const stepSchema: z.ZodType<StepDefinition, StepInput> = z.discriminatedUnion(
  "stepType",
  [agentStep, loopStep, forEachStep, branchStep, orchestrationStep, approvalStep, sleepStep],
  {
    error: (issue) => {
      if (issue.code !== "invalid_union") return undefined;
      const input = issue.input as { stepType?: unknown } | undefined;
      if (input === null || typeof input !== "object" || Array.isArray(input)) return "must be a step object";
      return `${JSON.stringify(input.stepType)} is not one of ${KINDS}`;
    },
  },
) as unknown as z.ZodType<StepDefinition, StepInput>;

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
