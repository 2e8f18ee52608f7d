// A step's outputSchema: is it a JSON Schema (checked at save time, against the draft 2020-12 meta-schema
// and what the validator can evaluate), and does a model's reply match it (checked after each reply).
// Uses @cfworker/json-schema, which interprets schemas (ajv compiles them with new Function, which Workers
// forbid). Pure: no storage, no network; never throws for any input.
import {
  dereference,
  type OutputUnit,
  type Schema,
  schemaArrayKeyword,
  schemaKeyword,
  schemaMapKeyword,
  Validator,
} from "@cfworker/json-schema";
import type { JsonValue } from "../../durable-objects/engine/definition";
import { formatPath } from "../schemas/common";
import { META_SCHEMAS } from "./json-schema-meta";

const DRAFT = "2020-12";
/** More than this many problems read as noise; the first few say what to fix. */
const MAX_PROBLEMS = 5;

export interface SchemaProblem {
  /** Where in the schema (or the reply), e.g. ["properties", "age", "minimum"]; [] is the whole of it. */
  path: (string | number)[];
  message: string;
}

export type SchemaCheck = { ok: true } | { ok: false; message: string; problems: SchemaProblem[] };
export type OutputCheck = { ok: true; value: JsonValue } | { ok: false; errors: string[] };

let metaValidator: Validator | undefined;

function metaSchemaValidator(): Validator {
  if (!metaValidator) {
    const [root, ...vocabularies] = structuredClone(META_SCHEMAS);
    metaValidator = new Validator(root as Schema, DRAFT, false);
    for (const vocabulary of vocabularies) metaValidator.addSchema(vocabulary);
  }
  return metaValidator;
}

/** "#/properties/a~1b/0" → ["properties", "a/b", 0] (the library percent-encodes pointer segments). */
function pointerPath(location: string): (string | number)[] {
  const pointer = location.slice(location.indexOf("#") + 1);
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => decodeURIComponent(segment).replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((segment) => (/^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : segment));
}

/** The library's sentences ("Instance type "x" is invalid. Expected "y".") in the project's voice. */
function reword(unit: OutputUnit): string {
  const text = unit.error.replace(/\.$/, "");
  const typeMatch = /^Instance type "(\w+)" is invalid\. Expected (.+)$/.exec(text);
  if (typeMatch)
    return `must be ${typeMatch[2]?.replace(/"/g, "").replace(/, /g, " or ")} (it is ${typeMatch[1]})`;
  const required = /^Instance does not have required property "(.*)"$/.exec(text);
  if (required) return `is missing the required property "${required[1]}"`;
  // Left as a leaf only when the subschema was `false` (its own error is dropped as saying nothing).
  const additional =
    /^Property "(.*)" does not match (?:additional properties |unevaluated properties )?schema$/.exec(text);
  if (additional) return `has the property "${additional[1]}", which the schema does not allow`;
  const oneOf = /^Instance does not match any of (.*)$/.exec(text);
  if (oneOf) return `must be one of ${oneOf[1]}`;
  if (/^String does not match format "regex"$/.test(text)) return "is not a valid regular expression";
  const rest = text.replace(/^(Instance|Array|String|Object) /, "");
  return rest.charAt(0).toLowerCase() + rest.slice(1);
}

/** An error another error explains in more detail (a wrapper such as "A subschema had errors."). */
function explainedByAnother(unit: OutputUnit, all: OutputUnit[]): boolean {
  return all.some((other) => other !== unit && other.keywordLocation.startsWith(`${unit.keywordLocation}/`));
}

/** The innermost anyOf/oneOf a leaf sits under, if any: its alternatives are reported together. */
function enclosingChoice(unit: OutputUnit, all: OutputUnit[]): OutputUnit | undefined {
  return all.find(
    (other) =>
      (other.keyword === "anyOf" || other.keyword === "oneOf") &&
      unit.keywordLocation.startsWith(`${other.keywordLocation}/`),
  );
}

/**
 * Readable problems from the library's flat error list: only the errors nothing else explains, the
 * alternatives of a failed anyOf/oneOf as one problem, each at the instance path it is about.
 */
function problemsOf(errors: OutputUnit[]): SchemaProblem[] {
  const relevant = errors.filter((unit) => unit.keyword !== "false");
  const leaves = relevant.filter((unit) => !explainedByAnother(unit, relevant));
  const byText = new Map<string, SchemaProblem>();
  const choices = new Map<OutputUnit, Set<string>>();
  for (const leaf of leaves) {
    const choice = enclosingChoice(leaf, relevant);
    if (choice) {
      choices.set(choice, (choices.get(choice) ?? new Set()).add(reword(leaf)));
      continue;
    }
    const path = pointerPath(leaf.instanceLocation);
    byText.set(`${formatPath(path)}\u0000${reword(leaf)}`, { path, message: reword(leaf) });
  }
  for (const [choice, alternatives] of choices) {
    const path = pointerPath(choice.instanceLocation);
    const message = `matches none of the allowed forms: ${[...alternatives].join("; or ")}`;
    byText.set(`${formatPath(path)}\u0000${message}`, { path, message });
  }
  const problems = [...byText.values()];
  return problems.length > 0 ? problems : [{ path: [], message: "the schema allows no value at all" }];
}

function describe(problems: SchemaProblem[], root: string): string {
  return problems
    .slice(0, MAX_PROBLEMS)
    .map((problem) => `${formatPath(problem.path) || root}: ${problem.message}`)
    .join("; ");
}

/** Every subschema of `schema` with its path, following the keywords that hold schemas. */
function* subschemas(
  schema: unknown,
  path: (string | number)[] = [],
): Generator<[Schema, (string | number)[]]> {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return;
  yield [schema as Schema, path];
  for (const [key, value] of Object.entries(schema)) {
    if (Array.isArray(value) && schemaArrayKeyword[key]) {
      for (const [index, item] of value.entries()) yield* subschemas(item, [...path, key, index]);
    } else if (schemaMapKeyword[key] && typeof value === "object" && value !== null) {
      for (const [name, item] of Object.entries(value)) yield* subschemas(item, [...path, key, name]);
    } else if (schemaKeyword[key]) {
      yield* subschemas(value, [...path, key]);
    }
  }
}

function compiles(pattern: string): string | undefined {
  try {
    new RegExp(pattern, "u");
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * What the meta-schema cannot see but the validator needs: every $ref resolves inside the schema (the
 * validator fetches nothing and throws on a dangling one), regular expressions compile (with the `u` flag
 * the validator uses), and no $dynamicRef (the validator does not implement it, so it would be ignored).
 */
function evaluabilityProblems(schema: Schema): SchemaProblem[] {
  const copy = structuredClone(schema);
  let lookup: Record<string, Schema | boolean>;
  try {
    lookup = dereference(copy);
  } catch (error) {
    return [{ path: [], message: (error as Error).message }];
  }
  const problems: SchemaProblem[] = [];
  for (const [subschema, path] of subschemas(copy)) {
    const absoluteRef = subschema.__absolute_ref__;
    if (absoluteRef !== undefined && lookup[absoluteRef] === undefined)
      problems.push({
        path: [...path, "$ref"],
        message: `"${subschema.$ref}" does not point inside this schema; use a local reference such as "#/$defs/item"`,
      });
    if ("$dynamicRef" in subschema || "$dynamicAnchor" in subschema)
      problems.push({ path, message: "$dynamicRef and $dynamicAnchor are not supported; use $ref" });
    if (typeof subschema.pattern === "string") {
      const error = compiles(subschema.pattern);
      if (error)
        problems.push({ path: [...path, "pattern"], message: `is not a regular expression: ${error}` });
    }
    for (const pattern of Object.keys(subschema.patternProperties ?? {})) {
      const error = compiles(pattern);
      if (error)
        problems.push({
          path: [...path, "patternProperties", pattern],
          message: `is not a regular expression: ${error}`,
        });
    }
  }
  return problems;
}

const TYPES = "array, boolean, integer, null, number, object, string";

/** The meta-schema's two ways to spell `type` read badly as alternatives; say it once. */
function typeProblem(problem: SchemaProblem): SchemaProblem {
  if (problem.path.at(-1) !== "type" || !problem.message.startsWith("matches none")) return problem;
  return { path: problem.path, message: `must be one of ${TYPES}, or an array of them` };
}

/** Is `schema` a JSON Schema (draft 2020-12) object this platform can validate replies against? */
export function checkJsonSchema(schema: unknown): SchemaCheck {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    const message = 'must be a JSON Schema object such as { "type": "object", "properties": { ... } }';
    return { ok: false, message, problems: [{ path: [], message }] };
  }
  const meta = metaSchemaValidator().validate(schema);
  const problems = meta.valid
    ? evaluabilityProblems(schema as Schema)
    : problemsOf(meta.errors).map(typeProblem);
  if (problems.length === 0) return { ok: true };
  return { ok: false, message: describe(problems, "the schema"), problems };
}

/** Parses a reply as JSON and checks it against a step's outputSchema (already passed checkJsonSchema). */
export function validateOutput(schema: Record<string, unknown>, text: string): OutputCheck {
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (error) {
    return { ok: false, errors: [`the reply is not JSON: ${(error as Error).message}`] };
  }
  let result: ReturnType<Validator["validate"]>;
  try {
    result = new Validator(structuredClone(schema) as Schema, DRAFT, false).validate(value);
  } catch (error) {
    // Only a schema saved before checkJsonSchema existed, or one it misjudged, gets here.
    return { ok: false, errors: [`the outputSchema cannot be evaluated: ${(error as Error).message}`] };
  }
  if (result.valid) return { ok: true, value };
  const problems = problemsOf(result.errors).slice(0, MAX_PROBLEMS);
  return {
    ok: false,
    errors: problems.map((problem) => `${formatPath(problem.path) || "the reply"}: ${problem.message}`),
  };
}
