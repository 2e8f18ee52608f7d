// A condition as users write it: a step's `condition`, a loop's `until`, a branch arm's `when`. The same
// shape and operators everywhere; the engine evaluates it (durable-objects/engine/conditions.ts).
import { z } from "zod";
import { CONDITION_OPERATORS } from "../../durable-objects/engine/definition";
import { parsePath } from "../../durable-objects/engine/templates";
import { jsonValue, oneOf, required, strictObject } from "./common";

/** Any JSON value, named once in the published JSON Schema. */
export const jsonSchemaValue = jsonValue.meta({ id: "JsonValue" });

function checkValue(operator: string, value: unknown, ctx: z.RefinementCtx) {
  const issue = (message: string) => ctx.addIssue({ code: "custom", path: ["value"], message });
  if (operator === "in" && !Array.isArray(value)) issue('must be an array for operator "in"');
  if (operator === "matches") {
    if (typeof value !== "string" || value.length > 500) {
      issue('must be a regular expression string (at most 500 characters) for "matches"');
    }
    // Whether RE2 (what `matches` runs) compiles it is checked with the definition's rules, by the
    // engine's own compiler: a JavaScript RegExp would refuse RE2's syntax, such as (?i).
  }
  if (["<", "<=", ">", ">="].includes(operator) && typeof value !== "number" && typeof value !== "string")
    issue(`must be a number or a string for operator "${operator}"`);
}

export const conditionSchema = strictObject(
  {
    field: z
      .string({ error: required('a context path such as "testResults.passed"', "must be a string") })
      .trim()
      .min(1, 'must name a context path such as "testResults.passed"')
      .max(500)
      .describe(
        'A path into the context ("Critic.score", "context.input.flag"); inside a forEach also item / index, inside a loop iteration.',
      ),
    operator: oneOf(CONDITION_OPERATORS),
    value: jsonSchemaValue.nullable().optional().default(null),
  },
  'a condition such as { field: "review.approved", operator: "==", value: true }',
)
  .superRefine((condition, ctx) => {
    const path = parsePath(condition.field, true);
    if (!path.ok) ctx.addIssue({ code: "custom", path: ["field"], message: path.error });
    checkValue(condition.operator, condition.value, ctx);
  })
  .meta({
    id: "Condition",
    description: "Holds when the context value at `field` compares to `value` with `operator`.",
  });
