// Step instances and where they sit in the definition tree. An instance id is the path of numbers
// "step(.slot.step)*": top-level step 3 is "3"; body step 0 of slot 2 (loop iteration, forEach item or
// branch arm) of it is "3.2.0". Lookups are memoized per definition array, which a plan never changes.
// Pure: no storage, no clock, no network.
import type { StepDefinition } from "./definition";
import { stagesOf } from "./plan";

export const ROOT = "";

export function childId(container: string, slot: number, index: number): string {
  return `${container}.${slot}.${index}`;
}

/** Whether `id` is a top-level step's instance (no container around it). */
export function isTopLevel(id: string): boolean {
  return !id.includes(".");
}

/** The container instance and slot an instance runs in; undefined at top level. */
export function parentOf(id: string): { id: string; slot: number } | undefined {
  const last = id.lastIndexOf(".");
  if (last < 0) return undefined;
  const slotStart = id.lastIndexOf(".", last - 1);
  return { id: id.slice(0, slotStart), slot: Number(id.slice(slotStart + 1, last)) };
}

/** The steps a container runs in `slot`: the body of a loop or forEach, a branch arm or `otherwise`. */
export function bodyOf(step: StepDefinition, slot: number): StepDefinition[] | undefined {
  switch (step.stepType) {
    case "loop":
    case "forEach":
      return step.steps;
    case "branch":
      return slot < step.branches.length ? step.branches[slot]?.steps : step.otherwise;
    default:
      return undefined;
  }
}

const stageCache = new WeakMap<readonly StepDefinition[], number[][]>();
/** The stages of a body (or of the top level), computed once per array. */
export function stagesOfBody(steps: readonly StepDefinition[]): number[][] {
  let stages = stageCache.get(steps);
  if (!stages) {
    stages = stagesOf(steps);
    stageCache.set(steps, stages);
  }
  return stages;
}

const stageIndexCache = new WeakMap<readonly StepDefinition[], number[]>();
/** Which stage of its body step `index` is in (-1 for an index the body does not have). */
export function stageIndexOf(steps: readonly StepDefinition[], index: number): number {
  let byIndex = stageIndexCache.get(steps);
  if (!byIndex) {
    byIndex = [];
    for (const [s, stage] of stagesOfBody(steps).entries()) for (const i of stage) byIndex[i] = s;
    stageIndexCache.set(steps, byIndex);
  }
  return byIndex[index] ?? -1;
}

const nodeCache = new WeakMap<readonly StepDefinition[], Map<string, StepDefinition | null>>();

/** The definition of the step an instance runs; undefined for an id that fits no step of the tree. */
export function nodeOf(root: readonly StepDefinition[], id: string): StepDefinition | undefined {
  // Top-level steps, most of any run, need no lookup.
  if (isTopLevel(id)) return root[Number(id)];
  let cache = nodeCache.get(root);
  if (!cache) {
    cache = new Map();
    nodeCache.set(root, cache);
  }
  const cached = cache.get(id);
  if (cached !== undefined) return cached ?? undefined;
  const found = findNode(root, id);
  cache.set(id, found ?? null);
  return found;
}

function findNode(root: readonly StepDefinition[], id: string): StepDefinition | undefined {
  const parts = id.split(".").map(Number);
  let step = root[parts[0] ?? -1];
  for (let i = 1; step && i + 1 < parts.length; i += 2) {
    step = bodyOf(step, parts[i] ?? -1)?.[parts[i + 1] ?? -1];
  }
  return parts.length % 2 === 1 ? step : undefined;
}

/** Every container instance id from the top down to `id`'s parent, each with the slot `id` runs in. */
export function ancestorsOf(id: string): { id: string; slot: number }[] {
  const chain: { id: string; slot: number }[] = [];
  for (let at = parentOf(id); at; at = parentOf(at.id)) chain.unshift(at);
  return chain;
}

/** Whether `id` is `container` itself or runs somewhere inside it. */
export function isWithin(id: string, container: string): boolean {
  return container === ROOT || id === container || id.startsWith(`${container}.`);
}
