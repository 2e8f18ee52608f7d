// Rendering templates against the run context: a value that is one whole template keeps its type;
// templates inside longer text interpolate (JSON for non-strings). A path that resolves to nothing
// renders empty and leaves a warning. Pure: no eval, no Function, no clock.
import { type PathSegment, parseTemplate } from "./templates";
import type { JsonValue } from "./types";

export type Scope = Record<string, unknown>;

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

/** Renders one string; `scope` maps template roots ("context", "output") to values. */
export function renderString(text: string, scope: Scope, warnings: string[]): JsonValue {
  const parsed = parseTemplate(text, Object.keys(scope));
  if (!parsed.ok) {
    warnings.push(parsed.error);
    return text;
  }
  const parts = parsed.value;
  const resolved = parts.map((part) => {
    if (part.kind === "text") return part.text;
    const value = resolvePath(scope[part.root], part.path);
    if (value === undefined) {
      warnings.push(`{{${part.source}}} resolved to nothing; rendered empty`);
      return undefined;
    }
    return value;
  });
  if (parts.length === 1 && parts[0]?.kind === "ref")
    return (resolved[0] === undefined ? "" : resolved[0]) as JsonValue;
  return resolved.map((value) => (value === undefined ? "" : toText(value))).join("");
}

/** Renders every string leaf of a mapping, deeply (objects and arrays keep their shape). */
export function renderValue(value: JsonValue, scope: Scope, warnings: string[]): JsonValue {
  if (typeof value === "string") return renderString(value, scope, warnings);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, scope, warnings));
  if (value !== null && typeof value === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value))
      out[key] = renderValue(item as JsonValue, scope, warnings);
    return out;
  }
  return value;
}
