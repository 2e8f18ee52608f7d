// The orchestration definition: steps, mappings, conditions, retries and timeouts.
// Structural rules (types, bounds, template syntax) are errors; references to roles or context keys that
// do not exist yet are warnings (see definition-warnings.ts), because roles may be created later.
import { z } from "zod";
import { parsePath, parseTemplate, stringLeaves } from "../../durable-objects/engine/templates";
import { displayName, idSchema, jsonSize, jsonValue, recordOf, strictObject, uniqueBy } from "./common";
import { roleName } from "./role";

export const STEPS_MAX = 1000;
export const DEFINITION_MAX_BYTES = 1_000_000;
export const DEFAULT_STEP_TIMEOUT_MS = 300_000;
/** An attempt must fit in one alarm invocation (15 min wall clock on Cloudflare). */
export const STEP_TIMEOUT_MAX_MS = 840_000;
export const DEFAULT_RETRY_DELAY_MS = 1000;
export const RETRY_DELAY_MAX_MS = 3_600_000;
export const MAX_RETRIES_LIMIT = 10;

export const CONDITION_OPERATORS = [
  "exists",
  "not_exists",
  "==",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "contains",
  "not_contains",
  "in",
  "matches",
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

const operatorSchema = z.enum(CONDITION_OPERATORS, {
  error: (issue) => `${JSON.stringify(issue.input)} is not one of ${CONDITION_OPERATORS.join(", ")}`,
});

const conditionSchema = strictObject({
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
export type StepCondition = z.infer<typeof conditionSchema>;

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

export const stepSchema = strictObject({
  name: displayName(100).refine(notReserved, { error: (issue) => reservedMessage(String(issue.input)) }),
  order: z.int("must be a whole number").min(0, "must not be negative").max(1_000_000).optional(),
  roleName: roleName.optional(),
  inputMapping: recordOf(z.string().max(100, "keys must be at most 100 characters"), jsonValue).optional(),
  outputMapping: recordOf(outputKey, z.string().max(10_000)).optional(),
  parallelGroup: displayName(100).optional(),
  condition: conditionSchema.optional(),
  maxRetries: z
    .int("must be a whole number")
    .min(0)
    .max(MAX_RETRIES_LIMIT, `must be at most ${MAX_RETRIES_LIMIT}`)
    .default(0),
  retryDelay: milliseconds(0, RETRY_DELAY_MAX_MS).default(DEFAULT_RETRY_DELAY_MS),
  retryBackoff: z.enum(["fixed", "exponential"]).default("fixed"),
  timeout: milliseconds(1000, STEP_TIMEOUT_MAX_MS).default(DEFAULT_STEP_TIMEOUT_MS),
  outputFormat: z.enum(["auto", "json", "text"]).default("auto"),
}).superRefine((step, ctx) => {
  for (const [path, text] of stringLeaves(step.inputMapping ?? {})) {
    const parsed = parseTemplate(text, ["context"]);
    if (!parsed.ok) ctx.addIssue({ code: "custom", path: ["inputMapping", ...path], message: parsed.error });
  }
  for (const [key, text] of Object.entries(step.outputMapping ?? {})) {
    const parsed = parseTemplate(text, ["context", "output"]);
    if (!parsed.ok) ctx.addIssue({ code: "custom", path: ["outputMapping", key], message: parsed.error });
  }
});
export type StepDefinition = z.infer<typeof stepSchema>;

const tagSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(50, "must be at most 50 characters")
  .regex(/^[^\p{Cc},]*$/u, "must not contain commas or control characters");

const fields = {
  name: displayName(200),
  description: z.string().max(5000, "must be at most 5000 characters"),
  tags: z
    .array(tagSchema)
    .max(20, "at most 20 tags")
    .superRefine((tags, ctx) => uniqueBy(tags, (t) => t, ctx, "tag")),
  isActive: z.boolean(),
  steps: z
    .array(stepSchema)
    .min(1, "an orchestration needs at least one step")
    .max(STEPS_MAX, `at most ${STEPS_MAX} steps`)
    .superRefine((steps, ctx) => uniqueBy(steps, (s) => s.name, ctx, "step name", "name")),
};

function withinSize(value: unknown, ctx: z.RefinementCtx) {
  const bytes = jsonSize(value);
  if (bytes > DEFINITION_MAX_BYTES) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: `definition is ${bytes} bytes; the limit is ${DEFINITION_MAX_BYTES}`,
    });
  }
}

export const orchestrationInputSchema = strictObject({
  ...fields,
  description: fields.description.default(""),
  tags: fields.tags.default([]),
  isActive: fields.isActive.default(true),
}).superRefine(withinSize);
export type OrchestrationInput = z.input<typeof orchestrationInputSchema>;
export type OrchestrationDefinition = z.infer<typeof orchestrationInputSchema>;

export const orchestrationUpdateSchema = strictObject({
  orchestrationId: idSchema,
  /** Optimistic concurrency: when given, the update applies only to this version. */
  expectedVersion: z.int().min(1).optional(),
  updates: strictObject({
    name: fields.name.optional(),
    description: fields.description.optional(),
    tags: fields.tags.optional(),
    isActive: fields.isActive.optional(),
    steps: fields.steps.optional(),
  }).refine((updates) => Object.keys(updates).length > 0, "must change at least one field"),
});

export const orchestrationListSchema = strictObject({
  tags: z.array(tagSchema).max(20).optional(),
  activeOnly: z.boolean().optional(),
  search: z.string().trim().max(200).optional(),
}).nullish();

export const orchestrationLookupSchema = strictObject({
  nameOrId: z.string().trim().min(1, "must not be empty").max(200),
  version: z.int().min(1).optional(),
});
export const orchestrationRefSchema = strictObject({ orchestrationId: idSchema });

/** Checks a merged definition (after an update) with the same rules as create. */
export function validateDefinition(definition: unknown) {
  return orchestrationInputSchema.safeParse(definition);
}
