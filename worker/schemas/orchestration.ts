// The orchestration definition: a name, tags and a tree of steps (worker/schemas/steps.ts, one schema
// per step kind). Structural rules (types, bounds, template syntax, what a template may name) are errors;
// references to roles, orchestrations or context keys that do not exist yet are warnings (see
// definition-warnings.ts), because those may be created later.
import { z } from "zod";
import { DEFINITION_MAX_BYTES, STEPS_MAX } from "../../durable-objects/engine/limits";
import { displayName, idSchema, jsonSize, strictObject, uniqueBy } from "./common";
import { checkDefinitionRules } from "./definition-rules";
import { pageFields } from "./page";
import { stepSchema } from "./steps";

export {
  CONDITION_OPERATORS,
  type ConditionOperator,
  type StepCondition,
  type StepDefinition,
} from "../../durable-objects/engine/definition";
export {
  DEFAULT_RETRY_DELAY_MS,
  DEFAULT_STEP_TIMEOUT_MS,
  DEFINITION_MAX_BYTES,
  MAX_RETRIES_LIMIT,
  RETRY_DELAY_MAX_MS,
  STEP_TIMEOUT_MAX_MS,
  STEPS_MAX,
} from "../../durable-objects/engine/limits";
export { type StepInput, stepSchema } from "./steps";

const tagSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(50, "must be at most 50 characters")
  .regex(/^[^\p{Cc},]*$/u, "must not contain commas or control characters");

/** What a run may spend (orchestration and execute; the smaller wins per field); a field left out is unlimited. */
export const budgetSchema = strictObject({
  maxTokens: z
    .int("must be a whole number of tokens")
    .min(1, "must be at least 1")
    .max(1_000_000_000_000, "must be at most 1000000000000")
    .optional(),
  maxCostUsd: z
    .number("must be a number of US dollars")
    .positive("must be more than 0")
    .max(1_000_000, "must be at most 1000000")
    .optional(),
});
export type BudgetInput = z.infer<typeof budgetSchema>;

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
    .superRefine((steps, ctx) => checkDefinitionRules(steps, ctx)),
  budget: budgetSchema.optional(),
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
    /** null removes the budget. */
    budget: budgetSchema.nullable().optional(),
  }).refine((updates) => Object.keys(updates).length > 0, "must change at least one field"),
});

const orchestrationFilterFields = {
  tags: z.array(tagSchema).max(20).optional(),
  activeOnly: z.boolean().optional(),
  search: z.string().trim().max(200).optional(),
};
/** Agent code's list_orchestrations: the filters only (one page of up to maxPageSize, as an array). */
export const orchestrationFilterSchema = strictObject(orchestrationFilterFields).nullish();
export const orchestrationListSchema = strictObject({
  ...orchestrationFilterFields,
  ...pageFields,
}).nullish();

export const orchestrationLookupSchema = strictObject({
  nameOrId: z.string().trim().min(1, "must not be empty").max(200),
  version: z.int().min(1).optional(),
});
export const orchestrationRefSchema = strictObject({ orchestrationId: idSchema });
export const orchestrationVersionsSchema = strictObject({ orchestrationId: idSchema, ...pageFields });

/** Checks a merged definition (after an update) with the same rules as create. */
export function validateDefinition(definition: unknown) {
  return orchestrationInputSchema.safeParse(definition);
}
