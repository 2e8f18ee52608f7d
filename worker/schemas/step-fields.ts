// The building blocks of the step schemas (steps.ts): fields every kind shares, retries, durations,
// bodies, template syntax checks, and the object wrapper that refuses a field of another kind at that
// field's own path with the fix (`steps[0].roleName: "roleName" belongs to agent steps, not to a loop step`).
import { z } from "zod";
import type { StepType } from "../../durable-objects/engine/definition";
import {
  DEFAULT_RETRY_DELAY_MS,
  MAX_RETRIES_LIMIT,
  RETRY_DELAY_MAX_MS,
  STEPS_MAX,
} from "../../durable-objects/engine/limits";
import { parseTemplate, SCOPE_ROOTS, stringLeaves } from "../../durable-objects/engine/templates";
import { checkJsonSchema } from "../models/output-schema";
import { displayName, jsonSize, oneOf, recordOf, required } from "./common";
import { conditionSchema, jsonSchemaValue } from "./condition";

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

const UNITS: [number, string][] = [
  [24 * 60 * 60 * 1000, "day"],
  [60 * 60 * 1000, "hour"],
  [60 * 1000, "minute"],
  [1000, "second"],
];

/** `2592000000 ms (30 days)`: the bound as written and, when it is a whole number of some unit, readably. */
function showMs(ms: number): string {
  const unit = UNITS.find(([size]) => ms >= size && ms % size === 0);
  if (!unit) return `${ms} ms`;
  const count = ms / unit[0];
  return `${ms} ms (${count} ${unit[1]}${count === 1 ? "" : "s"})`;
}

export const milliseconds = (min: number, max: number) =>
  z
    .int("must be a whole number of milliseconds")
    .min(min, `must be at least ${showMs(min)}`)
    .max(max, `must be at most ${showMs(max)}`);

/** Template roots a step's inputs may use, and its outputMapping (which may also read {{output}}). */
export const INPUT_ROOTS = ["context", ...SCOPE_ROOTS];
const OUTPUT_ROOTS = ["context", "output", ...SCOPE_ROOTS];

/** Adds an issue for every string leaf of `value` (at `path`) that is not a well-formed template. */
export function checkTemplates(
  value: unknown,
  path: (string | number)[],
  ctx: z.RefinementCtx,
  roots: string[] = INPUT_ROOTS,
) {
  for (const [leaf, text] of stringLeaves(value)) {
    const parsed = parseTemplate(text, roots);
    if (!parsed.ok) ctx.addIssue({ code: "custom", path: [...path, ...leaf], message: parsed.error });
  }
}

/** Templates of the fields every kind shares (outputMapping) and of inputMapping where a kind has it. */
export function checkCommonTemplates(
  step: { inputMapping?: unknown; outputMapping?: unknown },
  ctx: z.RefinementCtx,
) {
  checkTemplates(step.inputMapping ?? {}, ["inputMapping"], ctx);
  checkTemplates(step.outputMapping ?? {}, ["outputMapping"], ctx, OUTPUT_ROOTS);
}

/** The fields every kind has. */
export const commonFields = {
  name: displayName(100, "a name, unique in the definition (the output is context[name])")
    .refine(notReserved, { error: (issue) => reservedMessage(String(issue.input)) })
    .describe("Unique in the whole definition, nested steps included: the output is context[name]."),
  order: z
    .int("must be a whole number")
    .min(0, "must not be negative")
    .max(1_000_000)
    .optional()
    .describe("Run order among the steps of the same body; steps sharing a parallelGroup run together."),
  parallelGroup: displayName(100).optional(),
  condition: conditionSchema.optional().describe("The step runs only when this holds; else it is skipped."),
  outputMapping: recordOf(outputKey, z.string().max(10_000))
    .optional()
    .describe("Extra context keys, each a template that may read {{output}}."),
  continueOnError: z
    .boolean({ error: "must be true or false" })
    .optional()
    .describe("A failure is recorded (context[name] = { error }) and the run goes on."),
};

export const inputMapping = recordOf(
  z.string().max(100, "keys must be at most 100 characters"),
  jsonSchemaValue,
)
  .optional()
  .describe("The step's input: any JSON, with templates such as {{context.input.topic}} in its strings.");

/** It goes with every request of the step (response_format or the system prompt), so it stays small. */
export const OUTPUT_SCHEMA_MAX_BYTES = 32_000;
const NOT_A_SCHEMA = 'must be a JSON Schema object such as { "type": "object", "properties": { ... } }';

/** An agent step's outputSchema: a JSON Schema object, checked against the draft 2020-12 meta-schema. */
export const outputSchema = z
  .record(z.string(), jsonSchemaValue, {
    error: (issue) => (issue.code === "invalid_type" ? NOT_A_SCHEMA : undefined),
  })
  .superRefine((schema, ctx) => {
    if (jsonSize(schema) > OUTPUT_SCHEMA_MAX_BYTES) {
      ctx.addIssue({ code: "custom", message: `must be at most ${OUTPUT_SCHEMA_MAX_BYTES} bytes as JSON` });
      return;
    }
    const check = checkJsonSchema(schema);
    if (check.ok) return;
    for (const problem of check.problems)
      ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
  })
  .optional()
  .describe(
    "A JSON Schema (draft 2020-12) the reply must match: sent to the model as response_format json_schema " +
      "where the model supports it, checked on return; a reply that does not match is a retryable failure. " +
      "Implies a JSON reply.",
  );

export const retryFields = {
  maxRetries: z
    .int("must be a whole number")
    .min(0, "must not be negative")
    .max(MAX_RETRIES_LIMIT, `must be at most ${MAX_RETRIES_LIMIT}`)
    .default(0),
  retryDelay: milliseconds(0, RETRY_DELAY_MAX_MS).default(DEFAULT_RETRY_DELAY_MS),
  retryBackoff: oneOf(["fixed", "exponential"]).default("fixed"),
};

/** A body of steps (a loop's, a forEach's, a branch arm's, `otherwise`): at least one step. */
export function body(missing: string, empty: string, step: () => z.ZodType) {
  return z
    .array(z.lazy(step), {
      error: required(
        `${missing}, an array of steps`,
        "must be an array of steps such as [{ name, roleName }]",
      ),
    })
    .min(1, empty)
    .max(STEPS_MAX, `at most ${STEPS_MAX} steps`);
}

const KIND_LABELS: Record<StepType, string> = {
  agent: "an agent step",
  loop: "a loop step",
  forEach: "a forEach step",
  branch: "a branch step",
  orchestration: "an orchestration step",
  approval: "an approval step",
  sleep: "a sleep step",
};
const fieldsByKind = new Map<StepType, readonly string[]>();

/** The message for `key` on a step of `kind`: which kinds it belongs to, and what to do about it. */
function unknownFieldMessage(kind: StepType, key: string, stepTypeGiven: boolean): string {
  const known = (fieldsByKind.get(kind) ?? []).join(", ");
  const owners = [...fieldsByKind].filter(([, fields]) => fields.includes(key)).map(([owner]) => owner);
  if (owners.length === 0) return `unknown field "${key}"; ${KIND_LABELS[kind]} takes ${known}`;
  const setType = owners.map((owner) => `"${owner}"`).join(" or ");
  const fix = stepTypeGiven ? "remove it" : `set stepType ${setType}, or remove it`;
  const kinds = owners.length > 1 ? `${owners.slice(0, -1).join(", ")} and ${owners.at(-1)}` : owners[0];
  return `"${key}" belongs to ${kinds} steps, not to ${KIND_LABELS[kind]}: ${fix} (${KIND_LABELS[kind]} takes ${known})`;
}

/**
 * The object schema of one step kind, with its own `check` (template syntax, field combinations). Unlike
 * a strict object, a field the kind does not take is reported at that field's path, naming the kinds that
 * take it, even when other fields are wrong too.
 */
export function stepKind<Shape extends z.core.$ZodLooseShape>(
  kind: StepType,
  shape: Shape,
  description: string,
  check: (step: z.output<z.ZodObject<Shape>>, ctx: z.RefinementCtx) => void = checkCommonTemplates,
) {
  const fields = Object.keys(shape);
  fieldsByKind.set(kind, fields);
  return z
    .looseObject(shape)
    .superRefine(
      (step, ctx) => {
        for (const key of Object.keys(step)) {
          if (fields.includes(key)) continue;
          const message = unknownFieldMessage(kind, key, "stepType" in step);
          ctx.addIssue({ code: "custom", path: [key], message });
        }
      },
      { when: (payload) => typeof payload.value === "object" && payload.value !== null },
    )
    .superRefine(check)
    .meta({
      id: `${kind.charAt(0).toUpperCase()}${kind.slice(1)}Step`,
      description,
      additionalProperties: false,
    });
}
