// Small zod building blocks and the one place that turns zod issues into messages naming the field.
// Shared by the API, the engine and the dashboard: no runtime imports beyond zod.
import { z } from "zod";

/** A name a person types: trimmed, 1..max characters, no control characters; `what` it is, for "is required". */
export function displayName(max: number, what?: string) {
  return (what === undefined ? z.string() : z.string({ error: required(what, "must be a string") }))
    .trim()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\p{Cc}]*$/u, "must not contain control characters");
}

export const idSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters");

/** Any JSON value; size is bounded by the caller (see `withinJsonSize`). */
export const jsonValue = z.json();
export type JsonValue = z.infer<typeof jsonValue>;

export function jsonSize(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value) ?? "").byteLength;
}

/** Renders `["steps", 2, "condition"]` as `steps[2].condition`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][\w$]*$/.test(segment))
      out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

export interface FieldIssue {
  path: string;
  message: string;
}

export function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** `steps[2].condition.operator: "equals" is not one of ...; name: must not be empty` */
export function describeIssues(issues: readonly FieldIssue[]): string {
  return issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("; ");
}

/**
 * Unique values in an array, reported at the index of the first repeat (and at `field` inside it, when
 * the value is one field of an object, so `steps[1].name` rather than `steps[1]`).
 */
export function uniqueBy<T>(
  items: readonly T[],
  key: (item: T) => string,
  ctx: z.RefinementCtx,
  what: string,
  field?: string,
) {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const k = key(item);
    const first = seen.get(k);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: field === undefined ? [index] : [index, field],
        message: `${what} "${k}" is already used at [${first}]`,
      });
    } else {
      seen.set(k, index);
    }
  });
}

/** `z.enum` whose issue names the value given and the ones allowed: `"skip" is not one of fail, approve, reject`. */
export function oneOf<const Values extends readonly [string, ...string[]]>(values: Values) {
  return z.enum(values, {
    error: (issue) =>
      issue.input === undefined
        ? `is required: one of ${values.join(", ")}`
        : `${JSON.stringify(issue.input)} is not one of ${values.join(", ")}`,
  });
}

/**
 * A type issue's message: `is required: <what>` when the field is missing, else `otherwise` for a value of
 * the wrong type (zod's own message when not given). For a schema's `error` parameter.
 */
export function required(what: string, otherwise?: string) {
  return (issue: { code?: string; input?: unknown }) => {
    if (issue.input === undefined) return `is required: ${what}`;
    return issue.code === "invalid_type" || issue.code === "invalid_union" ? otherwise : undefined;
  };
}

/**
 * `z.strictObject` whose unknown-key issue names the key and the fields that are allowed; with `what`, a
 * missing or non-object value reads `is required: <what>` / `must be <what>`.
 */
export function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape, what?: string) {
  const known = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "invalid_type" && what !== undefined)
        return issue.input === undefined ? `is required: ${what}` : `must be ${what}`;
      if (issue.code !== "unrecognized_keys") return undefined;
      const keys = issue.keys.map((key) => JSON.stringify(key)).join(", ");
      return `unknown field${issue.keys.length > 1 ? "s" : ""} ${keys}; the fields are ${known}`;
    },
  });
}

/** `z.record` whose invalid-key issue carries the key schema's own message, not "Invalid key in record". */
export function recordOf<Key extends z.core.$ZodRecordKey, Value extends z.core.SomeType>(
  key: Key,
  value: Value,
) {
  return z.record(key, value, {
    error: (issue) =>
      issue.code === "invalid_key" ? issue.issues.map((inner) => inner.message).join("; ") : undefined,
  });
}
