// The orchestration definition as the engine reads it: one step kind per `stepType`, nested bodies for
// the control-flow kinds. Plain types with the defaults filled in (worker/schemas/steps.ts parses user
// input into these). PERSISTED CONTRACT: definitions are stored in D1 and in every execution's plan;
// a step without `stepType` is an agent step, as every definition saved before step kinds existed is.
// Pure: no imports from the Worker, no runtime.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const STEP_TYPES = [
  "agent",
  "loop",
  "forEach",
  "branch",
  "orchestration",
  "approval",
  "sleep",
] as const;
export type StepType = (typeof STEP_TYPES)[number];

export const CONDITION_OPERATORS = [
  "exists",
  "not_exists",
  "==",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "contains",
  "not_contains",
  "in",
  "matches",
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export interface StepCondition {
  /** A path into the context ("testResults.passed"); inside a body also `item`, `index`, `iteration`. */
  field: string;
  operator: ConditionOperator;
  value: JsonValue;
}

interface StepCommon {
  name: string;
  order?: number;
  parallelGroup?: string;
  condition?: StepCondition;
  outputMapping?: Record<string, string>;
  /** A failure is recorded (status failed, `context[name] = { error }`) and the run goes on. */
  continueOnError?: boolean;
}

interface Retries {
  maxRetries: number;
  retryDelay: number;
  retryBackoff: "fixed" | "exponential";
}

/** Today's model step: the default kind. */
export interface AgentStep extends StepCommon, Retries {
  stepType?: "agent";
  roleName?: string;
  inputMapping?: Record<string, JsonValue>;
  timeout: number;
  outputFormat: "auto" | "json" | "text";
  /** A JSON Schema (draft 2020-12) the reply must match; implies a JSON reply. */
  outputSchema?: Record<string, unknown>;
}

export interface LoopStep extends StepCommon {
  stepType: "loop";
  steps: StepDefinition[];
  until?: StepCondition;
  maxIterations: number;
}

export interface ForEachStep extends StepCommon {
  stepType: "forEach";
  /** One whole template resolving to an array ("{{context.plan.tasks}}"), or the array itself. */
  items: string | JsonValue[];
  concurrency: number;
  steps: StepDefinition[];
}

export interface BranchArm {
  when: StepCondition;
  steps: StepDefinition[];
}

export interface BranchStep extends StepCommon {
  stepType: "branch";
  branches: BranchArm[];
  otherwise?: StepDefinition[];
}

export interface OrchestrationStep extends StepCommon, Retries {
  stepType: "orchestration";
  /** The child orchestration's id or name (same tenant). */
  orchestrationId: string;
  version?: number;
  inputMapping?: Record<string, JsonValue>;
  /** How long one child may run before it is cancelled and the attempt times out; none by default. */
  timeout?: number;
}

export interface ApprovalStep extends StepCommon {
  stepType: "approval";
  message?: string;
  timeout: number;
  onTimeout: "fail" | "approve" | "reject";
}

export interface SleepStep extends StepCommon {
  stepType: "sleep";
  duration?: number;
  /** An ISO time, or a template rendering one. */
  until?: string;
}

export type StepDefinition =
  | AgentStep
  | LoopStep
  | ForEachStep
  | BranchStep
  | OrchestrationStep
  | ApprovalStep
  | SleepStep;

export type ContainerStep = LoopStep | ForEachStep | BranchStep;

export function kindOf(step: StepDefinition): StepType {
  return step.stepType ?? "agent";
}

export function isContainer(step: StepDefinition): step is ContainerStep {
  return step.stepType === "loop" || step.stepType === "forEach" || step.stepType === "branch";
}

/** The bodies a step holds, in order: a loop's or forEach's steps, each branch arm, then `otherwise`. */
export function bodiesOf(step: StepDefinition): StepDefinition[][] {
  switch (step.stepType) {
    case "loop":
    case "forEach":
      return [step.steps];
    case "branch":
      return [...step.branches.map((arm) => arm.steps), ...(step.otherwise ? [step.otherwise] : [])];
    default:
      return [];
  }
}

export type DefinitionPath = (string | number)[];

/** Where each body of `step` sits under the step's own path (`steps`, `branches[i].steps`, `otherwise`). */
export function bodyPathsOf(step: StepDefinition): DefinitionPath[] {
  switch (step.stepType) {
    case "loop":
    case "forEach":
      return [["steps"]];
    case "branch":
      return [
        ...step.branches.map((_, i) => ["branches", i, "steps"]),
        ...(step.otherwise ? [["otherwise"]] : []),
      ];
    default:
      return [];
  }
}

export interface StepVisit {
  step: StepDefinition;
  /** From the definition's root, e.g. ["steps", 1, "branches", 0, "steps", 2]. */
  path: DefinitionPath;
  /** 0 for top-level steps. */
  depth: number;
}

/** Every step of a tree, parents before their bodies, in definition order. */
export function* allSteps(
  steps: readonly StepDefinition[],
  path: DefinitionPath = ["steps"],
  depth = 0,
): Generator<StepVisit> {
  for (const [index, step] of steps.entries()) {
    const at = [...path, index];
    yield { step, path: at, depth };
    const bodies = bodiesOf(step);
    const paths = bodyPathsOf(step);
    for (const [b, body] of bodies.entries()) yield* allSteps(body, [...at, ...(paths[b] ?? [])], depth + 1);
  }
}
