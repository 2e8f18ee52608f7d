// The steps of a definition as the graph needs them, nested bodies included, read leniently from whatever
// the editor holds (a half-typed definition still draws), and the one-line summaries of a step's settings.
import { formatDuration } from "./format";

export const CONTAINER_KINDS = ["loop", "forEach", "branch"] as const;
const OTHER_KINDS = ["orchestration", "approval", "sleep"] as const;
export type StepKind = "agent" | (typeof CONTAINER_KINDS)[number] | (typeof OTHER_KINDS)[number];

export interface GraphCondition {
  field: string;
  operator: string;
  value: unknown;
}

/** One arm of a branch: `branches[i]` (with its `when`), or `otherwise` (when null). */
export interface GraphArm {
  label: string;
  when: GraphCondition | null;
  steps: GraphStep[];
}

export interface GraphStep {
  name: string;
  /** Absent for agent steps, as in the definition. */
  stepType?: Exclude<StepKind, "agent">;
  order?: number;
  roleName?: string;
  parallelGroup?: string;
  condition?: GraphCondition;
  maxRetries?: number;
  retryDelay?: number;
  retryBackoff?: string;
  timeout?: number;
  outputMapping?: Record<string, unknown>;
  continueOnError?: boolean;
  /** loop and forEach: the body. */
  steps?: GraphStep[];
  /** loop */
  until?: GraphCondition;
  maxIterations?: number;
  /** forEach: the items template, or "[3 items]" for a literal array. */
  items?: string;
  concurrency?: number;
  /** branch: `branches` in order, then `otherwise`. */
  arms?: GraphArm[];
  /** orchestration */
  orchestrationId?: string;
  version?: number;
  /** approval */
  message?: string;
  onTimeout?: string;
  /** sleep */
  duration?: number;
  sleepUntil?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const str = (value: unknown) => (typeof value === "string" ? value : undefined);
const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);
/** Deeper than the schema allows (8): a pasted cycle-like monster still draws, just cut off. */
const MAX_DEPTH = 10;

export function kindOf(step: GraphStep): StepKind {
  return step.stepType ?? "agent";
}

export function isContainer(step: GraphStep): boolean {
  return step.stepType === "loop" || step.stepType === "forEach" || step.stepType === "branch";
}

function conditionOf(value: unknown): GraphCondition | undefined {
  if (!isRecord(value)) return undefined;
  return { field: str(value.field) ?? "?", operator: str(value.operator) ?? "?", value: value.value };
}

function set<K extends keyof GraphStep>(step: GraphStep, key: K, value: GraphStep[K] | undefined) {
  if (value !== undefined) step[key] = value;
}

function kindFields(step: GraphStep, raw: Record<string, unknown>, depth: number) {
  const kind = step.stepType;
  if (kind === "loop" || kind === "forEach") step.steps = stepsOf(raw.steps, depth + 1);
  if (kind === "loop") {
    set(step, "until", conditionOf(raw.until));
    set(step, "maxIterations", num(raw.maxIterations));
  }
  if (kind === "forEach") {
    set(step, "items", Array.isArray(raw.items) ? `[${raw.items.length} items]` : str(raw.items));
    set(step, "concurrency", num(raw.concurrency));
  }
  if (kind === "branch") {
    const branches = Array.isArray(raw.branches) ? raw.branches.filter(isRecord) : [];
    step.arms = branches.map((arm, i) => ({
      label: `branches[${i}]`,
      when: conditionOf(arm.when) ?? null,
      steps: stepsOf(arm.steps, depth + 1),
    }));
    if (Array.isArray(raw.otherwise))
      step.arms.push({ label: "otherwise", when: null, steps: stepsOf(raw.otherwise, depth + 1) });
  }
  if (kind === "orchestration") {
    set(step, "orchestrationId", str(raw.orchestrationId));
    set(step, "version", num(raw.version));
  }
  if (kind === "approval") {
    set(step, "message", str(raw.message));
    set(step, "onTimeout", str(raw.onTimeout));
  }
  if (kind === "sleep") {
    set(step, "duration", num(raw.duration));
    set(step, "sleepUntil", str(raw.until));
  }
}

function stepOf(raw: Record<string, unknown>, index: number, depth: number): GraphStep {
  const step: GraphStep = { name: str(raw.name) ?? `(step ${index + 1} has no name)` };
  const kind = str(raw.stepType);
  if (
    (CONTAINER_KINDS as readonly string[]).includes(kind ?? "") ||
    (OTHER_KINDS as readonly string[]).includes(kind ?? "")
  )
    step.stepType = kind as GraphStep["stepType"];
  set(step, "order", num(raw.order));
  set(step, "roleName", str(raw.roleName));
  set(step, "parallelGroup", str(raw.parallelGroup));
  set(step, "condition", conditionOf(raw.condition));
  for (const key of ["maxRetries", "retryDelay", "timeout"] as const) set(step, key, num(raw[key]));
  set(step, "retryBackoff", str(raw.retryBackoff));
  if (isRecord(raw.outputMapping)) step.outputMapping = raw.outputMapping;
  if (raw.continueOnError === true) step.continueOnError = true;
  kindFields(step, raw, depth);
  return step;
}

function stepsOf(raw: unknown, depth: number): GraphStep[] {
  if (!Array.isArray(raw) || depth > MAX_DEPTH) return [];
  return raw.filter(isRecord).map((step, index) => stepOf(step, index, depth));
}

/** Reads `{ steps: [...] }` (or a bare array) without trusting it; unnamed steps get a placeholder name. */
export function graphStepsOf(definition: unknown): GraphStep[] {
  return stepsOf(isRecord(definition) ? definition.steps : definition, 0);
}

export function describeCondition(condition: GraphCondition): string {
  if (condition.operator === "exists" || condition.operator === "not_exists") {
    return `${condition.field} ${condition.operator === "exists" ? "exists" : "does not exist"}`;
  }
  return `${condition.field} ${condition.operator} ${JSON.stringify(condition.value ?? null)}`;
}

export function conditionText(step: GraphStep): string | null {
  return step.condition ? `only if ${describeCondition(step.condition)}` : null;
}

export function retryText(step: GraphStep): string {
  const retries = step.maxRetries ?? 0;
  const timeout =
    step.stepType === "orchestration"
      ? step.timeout === undefined
        ? "no timeout"
        : `timeout ${formatDuration(step.timeout)}`
      : `timeout ${formatDuration(step.timeout ?? 300_000)}`;
  if (retries === 0) return `no retries · ${timeout}`;
  const delay = formatDuration(step.retryDelay ?? 1000);
  return `retry ×${retries} (${delay}${step.retryBackoff === "exponential" ? ", exponential" : ""}) · ${timeout}`;
}

const DAY_MS = 86_400_000;
function longDuration(ms: number): string {
  return ms >= DAY_MS && ms % (DAY_MS / 24) === 0
    ? `${Number((ms / DAY_MS).toFixed(1))} d`
    : formatDuration(ms);
}

/** What the step does, in one line: its role, or what its kind waits for or repeats. */
export function kindText(step: GraphStep): string {
  switch (step.stepType) {
    case undefined:
      return step.roleName ? `role ${step.roleName}` : "no role";
    case "loop":
      return step.until
        ? `until ${describeCondition(step.until)} · max ${step.maxIterations ?? "?"}×`
        : `repeats ${step.maxIterations ?? "?"}×`;
    case "forEach":
      return `for each of ${step.items ?? "?"} · ${step.concurrency ?? 10} at a time`;
    case "branch": {
      const arms = step.arms ?? [];
      const otherwise = arms.at(-1)?.when === null ? ", else otherwise" : "";
      const count = arms.length - (otherwise ? 1 : 0);
      return count === 1
        ? `runs its arm if the condition holds${otherwise}`
        : `runs the first of ${count} arms that holds${otherwise}`;
    }
    case "orchestration":
      return `runs orchestration ${step.orchestrationId ?? "?"}${step.version ? ` v${step.version}` : ""}`;
    case "approval":
      return `waits for approval · ${longDuration(step.timeout ?? 7 * DAY_MS)}, then ${step.onTimeout ?? "fail"}`;
    case "sleep":
      return step.sleepUntil !== undefined
        ? `sleeps until ${step.sleepUntil}`
        : `sleeps ${longDuration(step.duration ?? 0)}`;
  }
}

export const KIND_LABELS: Record<StepKind, string> = {
  agent: "agent",
  loop: "loop",
  forEach: "for each",
  branch: "branch",
  orchestration: "sub-flow",
  approval: "approval",
  sleep: "sleep",
};

/** Every step of a tree with its key ("2", "2.*.0" in a loop or forEach body, "2.1.0" in branch arm 1). */
export function* stepsWithKeys(
  steps: readonly GraphStep[],
  prefix = "",
): Generator<{ step: GraphStep; key: string; depth: number }> {
  for (const [j, step] of steps.entries()) {
    const key = prefix ? `${prefix}.${j}` : String(j);
    yield { step, key, depth: prefix ? key.split(".").length >> 1 : 0 };
    if (step.steps) yield* stepsWithKeys(step.steps, `${key}.*`);
    for (const [a, arm] of (step.arms ?? []).entries()) yield* stepsWithKeys(arm.steps, `${key}.${a}`);
  }
}
