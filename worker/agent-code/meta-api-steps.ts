// The definition part of the meta API declarations (meta-api.ts): conditions, every step kind as a
// StepInput union on `stepType`, orchestrations. Mirrors worker/schemas/steps.ts in words an agent reads;
// the bounds come from the same constants.
import {
  APPROVAL_DEFAULT_TIMEOUT_MS,
  BRANCHES_MAX,
  FOR_EACH_DEFAULT_CONCURRENCY,
  FOR_EACH_MAX_CONCURRENCY,
  FOR_EACH_MAX_ITEMS,
  LOOP_MAX_ITERATIONS,
  MAX_RETRIES_LIMIT,
  NESTING_MAX_DEPTH,
  STEP_TIMEOUT_MAX_MS,
  STEPS_MAX,
  WAIT_MAX_MS,
} from "../../durable-objects/engine/limits";

const DAY_MS = 24 * 60 * 60 * 1000;

export const STEP_DECLARATIONS = `type ConditionOperator =
  | "exists" | "not_exists" | "==" | "!=" | "<" | "<=" | ">" | ">="
  | "contains" | "not_contains" | "in" | "matches";

/**
 * e.g. { field: "testResults.passed", operator: "<", value: 1 }. field: a context path ("Critic.score",
 * "input.flag"); inside a forEach also item / index, inside a loop iteration.
 */
interface Condition {
  field: string;
  operator: ConditionOperator;
  value?: JsonValue;
}

/** Fields every step kind takes. */
interface StepBase {
  /** Unique in the whole orchestration, nested steps included; the output is stored as context[name]. */
  name: string;
  /** Run order within its body; steps sharing a parallelGroup run together. */
  order?: number;
  parallelGroup?: string;
  /** Skips the step when false. */
  condition?: Condition;
  /** key: template; templates may use {{output}}. */
  outputMapping?: Record<string, string>;
  /** On failure: record it (status "failed", context[name] = { error }) and run on. */
  continueOnError?: boolean;
}

interface Retries {
  /** 0..${MAX_RETRIES_LIMIT}, default 0. */
  maxRetries?: number;
  /** ms, default 1000. */
  retryDelay?: number;
  retryBackoff?: "fixed" | "exponential";
}

/** A model call by a role: the default kind (stepType may be left out). */
interface AgentStep extends StepBase, Retries {
  stepType?: "agent";
  roleName?: string;
  /** Rendered with {{context.input.x}}, {{context.plan}}, {{context['Step Name']}}, {{item}}, {{iteration}}. */
  inputMapping?: Record<string, JsonValue>;
  /** ms per attempt, default 300000, at most ${STEP_TIMEOUT_MAX_MS}. */
  timeout?: number;
  outputFormat?: "auto" | "json" | "text";
  /**
   * A JSON Schema (draft 2020-12) the reply must match, e.g. { type: "object", properties: { score:
   * { type: "number" } }, required: ["score"] }: sent as response_format json_schema where the model
   * supports it; a reply that does not match fails the attempt (retryable). Implies a JSON reply.
   */
  outputSchema?: Record<string, JsonValue>;
}

/**
 * Runs steps in order, then checks until; repeats until it holds or after maxIterations. Inside:
 * {{iteration}} (from 0), and context['Body Step'] is the latest iteration's output.
 * Output: { iterations, outputs: [the body's output per iteration] }.
 */
interface LoopStep extends StepBase {
  stepType: "loop";
  steps: StepInput[];
  until?: Condition;
  /** Required, 1..${LOOP_MAX_ITERATIONS}. */
  maxIterations: number;
}

/**
 * Runs steps once per item, {{item}} and {{index}} in their templates; each item's outputs are its own.
 * Output: [each item's body output], in item order ([] for no items).
 */
interface ForEachStep extends StepBase {
  stepType: "forEach";
  /** One whole template resolving to an array ("{{context.plan.tasks}}"), or the array; at most ${FOR_EACH_MAX_ITEMS} items. */
  items: string | JsonValue[];
  /** Items at a time, default ${FOR_EACH_DEFAULT_CONCURRENCY}, at most ${FOR_EACH_MAX_CONCURRENCY}. */
  concurrency?: number;
  steps: StepInput[];
}

/** Runs the first arm whose when holds, else otherwise (else nothing, output null). Output: that arm's output. */
interface BranchStep extends StepBase {
  stepType: "branch";
  /** 1..${BRANCHES_MAX} arms. */
  branches: { when: Condition; steps: StepInput[] }[];
  otherwise?: StepInput[];
}

/** Runs another orchestration as a child execution and waits for it. Output: the child's output. */
interface OrchestrationStep extends StepBase, Retries {
  stepType: "orchestration";
  /** The child's id or name. */
  orchestrationId: string;
  /** Default: its current version. */
  version?: number;
  /** The child's input; default: this execution's input. */
  inputMapping?: Record<string, JsonValue>;
  /** ms a child may run, at most ${WAIT_MAX_MS} (${WAIT_MAX_MS / DAY_MS} days). */
  timeout?: number;
}

/** Waits for approve_step (or the API's approve). Output: { approved, comment, data, by, at }. */
interface ApprovalStep extends StepBase {
  stepType: "approval";
  /** Shown to whoever decides; may hold templates. */
  message?: string;
  /** ms, default ${APPROVAL_DEFAULT_TIMEOUT_MS} (${APPROVAL_DEFAULT_TIMEOUT_MS / DAY_MS} days), at most ${WAIT_MAX_MS / DAY_MS} days. */
  timeout?: number;
  /** What the timeout does; default "fail". */
  onTimeout?: "fail" | "approve" | "reject";
}

/** Waits duration ms, or until an ISO time; exactly one of the two, at most ${WAIT_MAX_MS / DAY_MS} days. Output: { sleptUntil }. */
interface SleepStep extends StepBase {
  stepType: "sleep";
  duration?: number;
  /** An ISO time, or a template rendering one. */
  until?: string;
}

/** Any step. Bodies nest at most ${NESTING_MAX_DEPTH} deep; at most ${STEPS_MAX} steps in all. */
type StepInput = AgentStep | LoopStep | ForEachStep | BranchStep | OrchestrationStep | ApprovalStep | SleepStep;

interface OrchestrationInput {
  name: string;
  description?: string;
  tags?: string[];
  isActive?: boolean;
  steps: StepInput[];
  /** What each run may spend (with execute's budget, the smaller wins per field); left out: unlimited. */
  budget?: Budget;
}

/** maxTokens: tokens in + out over all the run's model calls; maxCostUsd: US dollars. */
interface Budget {
  maxTokens?: number;
  maxCostUsd?: number;
}

interface Orchestration extends Required<Omit<OrchestrationInput, "steps" | "budget">> {
  budget?: Budget;
  id: string;
  version: number;
  /** As saved, with the defaults filled in. */
  steps: StepInput[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** References that do not resolve yet (a role or orchestration not created yet, an unknown context key). */
  warnings: { path: string; message: string }[];
}
`;
