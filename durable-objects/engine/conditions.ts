// Evaluates a step's condition (or a loop's `until`, a branch's `when`) against the context. A type
// mismatch is false plus a warning, never a crash. Pure: no storage, no clock, no network.
import type { StepCondition } from "./definition";
import { resolvePath } from "./render";
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

const show = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value));

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
      return typeof actual === "string" && typeof value === "string"
        ? new RegExp(value).test(actual)
        : undefined;
    default:
      return operator satisfies never;
  }
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
    // Save-time validation compiles `matches` patterns, but a plan is data: an invalid one must not crash a run.
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
