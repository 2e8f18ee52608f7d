// Rendering templates against the run context: a value that is one whole template keeps its type;
// templates inside longer text interpolate (JSON for non-strings). A path that resolves to nothing
// renders empty and leaves a warning. A render held to a size limit measures as it goes and stops as
// soon as the running size passes the limit, before it builds the text that would (`{{context.a}}` four
// times never makes the fourfold string). Pure: no eval, no Function, no clock.
import { type PathSegment, parseTemplate } from "./templates";
import type { JsonValue } from "./types";

export type Scope = Record<string, unknown>;

/** A size a render may not pass: `what` and `name` (the limit's name in the tenant's limits) go into the message. */
export interface SizeLimit {
  max: number;
  name: string;
  what: string;
}

/** Thrown by a render that passed its limit; the engine turns it into a step failure of kind `limit`. */
export class SizeLimitExceeded extends Error {
  readonly limit: SizeLimit;

  constructor(limit: SizeLimit) {
    super(`${limit.what} is over ${limit.max} characters (${limit.name})`);
    this.limit = limit;
  }
}

/** How much of its limit a render has used so far. */
export interface RenderBudget {
  limit: SizeLimit;
  used: number;
}

export function budgetFor(limit: SizeLimit): RenderBudget {
  return { limit, used: 0 };
}

/** Counts `chars` against the budget; throws once the running size passes the limit. */
function charge(budget: RenderBudget | undefined, chars: number): void {
  if (!budget) return;
  budget.used += chars;
  if (budget.used > budget.limit.max) throw new SizeLimitExceeded(budget.limit);
}

const left = (budget: RenderBudget) => budget.limit.max - budget.used;

/** Sizes of objects and arrays measured whole: outputs and mapped values never change once written. */
const measured = new WeakMap<object, number>();

/**
 * The length of `value` as JSON text (a string counts its characters and quotes, not escapes), or some
 * number over `max` as soon as the count passes it, so measuring a huge value costs no more than `max`.
 */
export function jsonChars(value: unknown, max = Number.POSITIVE_INFINITY): number {
  if (typeof value === "string") return value.length + 2;
  if (value === null || typeof value !== "object") return value === undefined ? 0 : String(value).length;
  const known = measured.get(value);
  if (known !== undefined) return known;
  // The brackets, then a comma before every item but the first.
  let size = 1;
  if (Array.isArray(value)) {
    for (const item of value) {
      size += 1 + jsonChars(item, max - size);
      if (size > max) return size;
    }
  } else {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      size += key.length + 4 + jsonChars((value as Record<string, unknown>)[key], max - size);
      if (size > max) return size;
    }
  }
  size = Math.max(size, 2);
  measured.set(value, size);
  return size;
}

/**
 * The size of a context as JSON, or some number over `max` once it passes it. Its entries are measured
 * (and remembered) one by one; the context object itself changes as steps settle, so it never is.
 */
export function contextChars(context: Record<string, unknown>, max = Number.POSITIVE_INFINITY): number {
  let size = 1;
  for (const key in context) {
    if (!Object.hasOwn(context, key)) continue;
    size += key.length + 4 + jsonChars(context[key], max - size);
    if (size > max) return size;
  }
  return Math.max(size, 2);
}

export function resolvePath(root: unknown, path: readonly PathSegment[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || current === undefined) return undefined;
    if (typeof segment === "number") {
      if (!Array.isArray(current)) return undefined;
      current = current[segment];
    } else if (typeof current === "object" && Object.hasOwn(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return current;
}

function toText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** What `{{context}}` stands for, measured without remembering the live (changing) context object. */
function measureRef(value: unknown, wholeContext: boolean, max: number): number {
  return wholeContext ? contextChars(value as Record<string, unknown>, max) : jsonChars(value, max);
}

/**
 * Renders one string; `scope` maps template roots ("context", "output") to values. With a budget, the
 * render counts what it produces and throws SizeLimitExceeded as soon as that passes the limit.
 */
export function renderString(
  text: string,
  scope: Scope,
  warnings: string[],
  budget?: RenderBudget,
): JsonValue {
  const parsed = parseTemplate(text, Object.keys(scope));
  if (!parsed.ok) {
    warnings.push(parsed.error);
    charge(budget, text.length + 2);
    return text;
  }
  const parts = parsed.value;
  const [only] = parts;
  if (parts.length === 1 && only?.kind === "ref") {
    const value = resolvePart(only, scope, warnings);
    if (value === undefined) return "";
    const whole = only.root === "context" && only.path.length === 0;
    if (budget) charge(budget, measureRef(value, whole, left(budget)));
    // The live context changes as steps settle: a value that is all of it is a copy, never the object.
    return (whole ? { ...(value as object) } : value) as JsonValue;
  }
  let out = "";
  for (const part of parts) {
    if (part.kind === "text") {
      charge(budget, part.text.length);
      out += part.text;
      continue;
    }
    const value = resolvePart(part, scope, warnings);
    if (value === undefined) continue;
    // Measured before it is turned into text, so a value that would pass the limit is never stringified.
    if (budget && typeof value !== "string") {
      const whole = part.root === "context" && part.path.length === 0;
      if (measureRef(value, whole, left(budget)) > left(budget)) throw new SizeLimitExceeded(budget.limit);
    }
    const piece = toText(value);
    charge(budget, piece.length);
    out += piece;
  }
  charge(budget, 2);
  return out;
}

function resolvePart(
  part: { root: string; path: readonly PathSegment[]; source: string },
  scope: Scope,
  warnings: string[],
): unknown {
  const value = resolvePath(scope[part.root], part.path);
  if (value === undefined) warnings.push(`{{${part.source}}} resolved to nothing; rendered empty`);
  return value;
}

/** Renders every string leaf of a mapping, deeply (objects and arrays keep their shape), within `budget`. */
export function renderValue(
  value: JsonValue,
  scope: Scope,
  warnings: string[],
  budget?: RenderBudget,
): JsonValue {
  if (typeof value === "string") return renderString(value, scope, warnings, budget);
  // Brackets and separators as JSON writes them: a comma before every item but the first.
  if (Array.isArray(value)) {
    charge(budget, value.length === 0 ? 2 : 1 + value.length);
    return value.map((item) => renderValue(item, scope, warnings, budget));
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    charge(budget, entries.length === 0 ? 2 : 1);
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of entries) {
      charge(budget, key.length + 4);
      out[key] = renderValue(item as JsonValue, scope, warnings, budget);
    }
    return out;
  }
  charge(budget, jsonChars(value));
  return value;
}
