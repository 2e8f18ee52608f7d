// What a step instance sees: the scope whose context it reads and writes (the innermost forEach item
// around it, or the run's), and the variables its bodies bind — `iteration` of the innermost loop,
// `item` and `index` of the innermost forEach. Pure: no storage, no clock, no network.
import type { StepDefinition } from "./definition";
import { ancestorsOf, isTopLevel, nodeOf, ROOT } from "./tree";
import type { JsonValue, Plan, StepInstance } from "./types";

export interface ScopeVars {
  iteration?: number;
  item?: JsonValue;
  index?: number;
}

const NO_VARS: ScopeVars = Object.freeze({});

const scopeCache = new WeakMap<readonly StepDefinition[], Map<string, string>>();

/**
 * The scope an instance's output is written to: "<forEach id>.<item index>" of the innermost forEach it
 * runs in, or ROOT. Loops and branches share their enclosing scope, so a body step's output stays visible
 * after them; a forEach item's outputs are its own.
 */
export function scopeOf(tx: { plan: Plan }, id: string): string {
  if (isTopLevel(id)) return ROOT;
  let cache = scopeCache.get(tx.plan.steps);
  if (!cache) {
    cache = new Map();
    scopeCache.set(tx.plan.steps, cache);
  }
  const cached = cache.get(id);
  if (cached !== undefined) return cached;
  let scope = ROOT;
  for (const ancestor of ancestorsOf(id)) {
    if (nodeOf(tx.plan.steps, ancestor.id)?.stepType === "forEach") scope = `${ancestor.id}.${ancestor.slot}`;
  }
  cache.set(id, scope);
  return scope;
}

/** The body variables in force for instance `id`. */
export function scopeVarsOf(
  tx: { plan: Plan; get(id: string): StepInstance | undefined },
  id: string,
): ScopeVars {
  if (isTopLevel(id)) return NO_VARS;
  const vars: ScopeVars = {};
  for (const ancestor of ancestorsOf(id)) {
    const kind = nodeOf(tx.plan.steps, ancestor.id)?.stepType;
    if (kind === "loop") vars.iteration = ancestor.slot;
    if (kind === "forEach") {
      vars.index = ancestor.slot;
      vars.item = tx.get(ancestor.id)?.items?.[ancestor.slot] ?? null;
    }
  }
  return vars;
}
