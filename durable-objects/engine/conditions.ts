// Evaluates a step's condition (or a loop's `until`, a branch's `when`) against the context. A type
// mismatch is false plus a warning, never a crash. `matches` runs RE2 (re2js: linear time, no
// backtracking, a pure package) on at most MATCHES_INPUT_MAX_CHARS characters, so no pattern a tenant
// writes can hold the execution object's CPU. Pure: no storage, no clock, no network.
import { RE2JS } from "re2js";
import type { StepCondition } from "./definition";
import { MATCHES_INPUT_MAX_CHARS } from "./limits";
import { jsonChars, resolvePath } from "./render";
import type { ScopeVars } from "./scope";
import { parsePath } from "./templates";

export interface ConditionResult {
  pass: boolean;
  reason: string;
  warning?: string;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) =>
    deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

/** How a value reads in a reason or warning; a long one is cut (it is kept on the step, once per run). */
const SHOWN_MAX_CHARS = 200;
function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string" && value.length > SHOWN_MAX_CHARS)
    return `${JSON.stringify(value.slice(0, SHOWN_MAX_CHARS))}… (${value.length} characters)`;
  if (jsonChars(value, SHOWN_MAX_CHARS) > SHOWN_MAX_CHARS)
    return `${Array.isArray(value) ? "an array" : "an object"} of over ${SHOWN_MAX_CHARS} characters`;
  return JSON.stringify(value);
}

function compare(actual: unknown, operator: "<" | "<=" | ">" | ">=", expected: unknown): boolean | undefined {
  const comparable =
    (typeof actual === "number" && typeof expected === "number") ||
    (typeof actual === "string" && typeof expected === "string");
  if (!comparable) return undefined;
  const [a, b] = [actual as number | string, expected as number | string];
  switch (operator) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
}

function contains(actual: unknown, expected: unknown): boolean | undefined {
  if (typeof actual === "string") return typeof expected === "string" ? actual.includes(expected) : undefined;
  if (Array.isArray(actual)) return actual.some((item) => deepEqual(item, expected));
  if (actual !== null && typeof actual === "object" && typeof expected === "string")
    return Object.hasOwn(actual, expected);
  return undefined;
}

function test(condition: StepCondition, actual: unknown): boolean | undefined {
  const { operator, value } = condition;
  switch (operator) {
    case "exists":
      return actual !== undefined && actual !== null;
    case "not_exists":
      return actual === undefined || actual === null;
    case "==":
      return deepEqual(actual, value);
    case "!=":
      return !deepEqual(actual, value);
    case "<":
    case "<=":
    case ">":
    case ">=":
      return compare(actual, operator, value);
    case "contains":
      return contains(actual, value);
    case "not_contains": {
      const result = contains(actual, value);
      return result === undefined ? undefined : !result;
    }
    case "in":
      return Array.isArray(value) ? value.some((item) => deepEqual(item, actual)) : undefined;
    case "matches":
      return typeof actual === "string" && typeof value === "string" ? matches(value, actual) : undefined;
    default:
      return operator satisfies never;
  }
}

/** A plan is data: each run compiles the same few patterns, once. Results are shared, never changed. */
const COMPILED_MAX = 500;
const compiled = new Map<string, RE2JS>();

/**
 * `pattern` compiled with RE2 syntax (save-time validation asks this too), or why RE2 refuses it: no
 * backreferences, no lookahead or lookbehind — what would need backtracking.
 */
export function compilePattern(pattern: string): { ok: true; regex: RE2JS } | { ok: false; error: string } {
  const cached = compiled.get(pattern);
  if (cached) return { ok: true, regex: cached };
  try {
    const regex = RE2JS.compile(pattern);
    if (compiled.size >= COMPILED_MAX) compiled.clear();
    compiled.set(pattern, regex);
    return { ok: true, regex };
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).replace(
      /^error parsing regexp: /,
      "",
    );
    return {
      ok: false,
      error: `is not a regular expression RE2 accepts (${why}); matches uses RE2 syntax, which has no backreferences or lookaround`,
    };
  }
}

/** Whether RE2 finds `pattern` anywhere in `text`; throws for a pattern RE2 refuses or a text too long. */
function matches(pattern: string, text: string): boolean {
  if (text.length > MATCHES_INPUT_MAX_CHARS)
    throw new Error(
      `the value is ${text.length} characters; matches reads at most ${MATCHES_INPUT_MAX_CHARS}, so the condition is false`,
    );
  const compiledPattern = compilePattern(pattern);
  if (!compiledPattern.ok) throw new Error(`the pattern ${compiledPattern.error}`);
  return compiledPattern.regex.test(text);
}

/**
 * `field` is a path into the context ("testResults.passed"); a leading "context." is accepted too. Inside
 * a body, a path starting with `item`, `index` or `iteration` reads the body's variable instead.
 */
export function evaluateCondition(
  condition: StepCondition,
  context: Record<string, unknown>,
  vars: ScopeVars = {},
): ConditionResult {
  const path = parsePath(condition.field, true);
  if (!path.ok) return { pass: false, reason: `condition field is malformed`, warning: path.error };
  const segments =
    path.value[0] === "context" && !Object.hasOwn(context, "context") ? path.value.slice(1) : path.value;
  const first = segments[0];
  const fromVars =
    path.value[0] !== "context" && typeof first === "string" && vars[first as keyof ScopeVars] !== undefined;
  const actual = fromVars ? resolvePath(vars, segments) : resolvePath(context, segments);
  const described = `${condition.field} (${show(actual)}) ${condition.operator} ${show(condition.value)}`;
  let result: boolean | undefined;
  try {
    result = test(condition, actual);
  } catch (error) {
    // Save-time validation compiles `matches` patterns with RE2, but a plan is data (and one saved before
    // RE2 may hold a backreference): a pattern RE2 refuses, or a value too long, is false with a warning.
    const why = error instanceof Error ? error.message : String(error);
    return {
      pass: false,
      reason: `condition ${described} is false: ${why}`,
      warning: `condition ${described}: ${why}`,
    };
  }
  if (result === undefined) {
    return {
      pass: false,
      reason: `condition ${described} is false: the types cannot be compared`,
      warning: `condition ${described}: type mismatch, treated as false`,
    };
  }
  return { pass: result, reason: `condition ${described} is ${result}` };
}
