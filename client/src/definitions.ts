// Definitions as files: what `export` writes and `apply` reads, and whether a file differs from what is
// stored. Orchestration updates always save a new version, so equality is decided here, after filling in
// the defaults the server fills in (a step's timeout, retries, ...); a default this file does not know
// only makes apply update once too often, never miss a change.
import type { Orchestration, OrchestrationInput, Role, RoleInput } from "./types.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** An orchestration as `apply` takes it: the stored definition without ids, versions or dates. */
export function orchestrationDefinition(orchestration: Orchestration): OrchestrationInput {
  const { name, description, tags, isActive, steps, budget } = orchestration;
  return { name, description, tags, isActive, steps, ...(budget ? { budget } : {}) } as OrchestrationInput;
}

/** A role as `apply` takes it: the stored, defaulted definition without ids or dates. */
export function roleDefinition(role: Role): RoleInput {
  const { name, description, basePrompt, capabilities, contextLimits, hyperparameters, tools } = role;
  return { name, description, basePrompt, capabilities, contextLimits, hyperparameters, tools } as RoleInput;
}

/** Server-side defaults of a step, by kind (durable-objects/engine/limits.ts, worker/schemas/steps.ts). */
const RETRY_DEFAULTS = { maxRetries: 0, retryDelay: 1000, retryBackoff: "fixed" };
const STEP_DEFAULTS: Record<string, JsonObject> = {
  agent: { ...RETRY_DEFAULTS, timeout: 300_000, outputFormat: "auto" },
  orchestration: RETRY_DEFAULTS,
  forEach: { concurrency: 10 },
  approval: { timeout: 7 * 24 * 60 * 60 * 1000, onTimeout: "fail" },
};

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function normalizeCondition(condition: Json | undefined): Json | undefined {
  return isObject(condition) ? { value: null, ...condition } : condition;
}

function normalizeSteps(steps: Json | undefined): Json | undefined {
  return Array.isArray(steps) ? steps.map(normalizeStep) : steps;
}

function normalizeStep(step: Json): Json {
  if (!isObject(step)) return step;
  const stepType = typeof step.stepType === "string" ? step.stepType : "agent";
  const normalized: JsonObject = { ...STEP_DEFAULTS[stepType], ...step, stepType };
  const set = (key: string, value: Json | undefined) => {
    if (value !== undefined) normalized[key] = value;
  };
  set("condition", normalizeCondition(step.condition));
  set("until", stepType === "loop" ? normalizeCondition(step.until) : step.until);
  set("steps", normalizeSteps(step.steps));
  set("otherwise", normalizeSteps(step.otherwise));
  if (Array.isArray(step.branches)) {
    normalized.branches = step.branches.map((arm) =>
      isObject(arm)
        ? { ...arm, when: normalizeCondition(arm.when) ?? null, steps: normalizeSteps(arm.steps) ?? null }
        : arm,
    );
  }
  return normalized;
}

/** The definition with every default the server would fill in, for comparison only. */
export function normalizeOrchestration(definition: JsonObject): JsonObject {
  return {
    name: definition.name ?? null,
    description: definition.description ?? "",
    tags: definition.tags ?? [],
    isActive: definition.isActive ?? true,
    steps: normalizeSteps(definition.steps) ?? null,
    budget: definition.budget ?? null,
  };
}

/** Deep equality of JSON values, object key order ignored. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameJson(item, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = new Set(
    [...Object.keys(a), ...Object.keys(b)].filter((k) => a[k] !== undefined || b[k] !== undefined),
  );
  for (const key of keys) if (!sameJson(a[key], b[key])) return false;
  return true;
}

/** Whether applying `file` would leave the stored orchestration as it is. */
export function orchestrationUnchanged(file: JsonObject, stored: Orchestration): boolean {
  const current = orchestrationDefinition(stored) as unknown as JsonObject;
  return sameJson(normalizeOrchestration(file), normalizeOrchestration(current));
}

/**
 * Whether applying `file` would leave the stored role as it is. A role update merges the fields given over
 * the stored ones (and each group, such as hyperparameters, field by field), so only the fields the file
 * names are compared; the guide's top-level `needsTools` is capabilities.needsTools.
 */
export function roleUnchanged(file: JsonObject, stored: Role): boolean {
  const current = roleDefinition(stored) as unknown as JsonObject;
  for (const [key, value] of Object.entries(file)) {
    if (key === "needsTools") {
      if (value !== (current.capabilities as JsonObject).needsTools) return false;
    } else if (isObject(value) && isObject(current[key])) {
      const group = current[key] as JsonObject;
      if (!Object.entries(value).every(([field, v]) => sameJson(v, group[field]))) return false;
    } else if (!sameJson(value, current[key])) return false;
  }
  return true;
}
