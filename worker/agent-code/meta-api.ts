// The meta API as TypeScript declarations: what a step whose role has `meta` reads in its system prompt,
// and what GET /meta-api.d.ts serves (editors and the dashboard's agent console load it). Hand-written to
// read well; test/agent-code/meta-api.test.ts keeps it in step with the functions MetaTools dispatches.
import {
  MAX_ARGUMENT_CHARS,
  MAX_CODE_BYTES,
  MAX_LOG_CHARS,
  MAX_META_CALLS,
  MAX_RESULT_CHARS,
} from "./limits";

export const META_API_DTS = `// Troupe meta API for agent code. Every function is a global and also system.<name>; each returns a
// Promise. Invalid arguments throw an Error whose message names the field and the reason, e.g.
//   ValidationError: create_orchestration: steps[2].condition.operator: "equals" is not one of ...
// Errors carry .name (ValidationError, NotFoundError, ConflictError, PermissionDenied,
// PreconditionFailed, LimitExceeded) and .code (BAD_REQUEST, NOT_FOUND, CONFLICT, FORBIDDEN, ...).
// Limits per run: ${MAX_META_CALLS} meta calls, ${MAX_CODE_BYTES} bytes of code, ${MAX_ARGUMENT_CHARS} characters of
// JSON per argument, ${MAX_LOG_CHARS} characters of console output, ${MAX_RESULT_CHARS} of result; no network.
// Top-level await works; a top-level \`return\` sets the run's result; console.log/info/warn/error are captured.

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

interface RoleInput {
  name: string;
  basePrompt: string;
  description?: string;
  capabilities?: { needsCoding?: boolean; needsTools?: boolean; needsReasoning?: boolean };
  /** Defaults: 4096..128000 tokens. */
  contextLimits?: { minContext?: number; maxContext?: number };
  /** Defaults: temperature 0.7, maxTokens 4096. model: a catalog id, or "openai:gpt-4o-mini". */
  hyperparameters?: { temperature?: number; maxTokens?: number; topP?: number; model?: string };
  /** "meta" lets the role's agent code call these functions. */
  tools?: string[];
  /** Folded into capabilities.needsTools. */
  needsTools?: boolean;
}

interface Role {
  id: string;
  name: string;
  description: string;
  basePrompt: string;
  capabilities: { needsCoding: boolean; needsTools: boolean; needsReasoning: boolean };
  contextLimits: { minContext: number; maxContext: number };
  hyperparameters: { temperature: number; maxTokens: number; topP?: number; model?: string };
  tools: string[];
  /** "user:<id>", "apiKey:<id>", or "role:<id>" (+ "/execution:<id>") for what agent code created. */
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

type ConditionOperator =
  | "exists" | "not_exists" | "==" | "!=" | "<" | "<=" | ">" | ">="
  | "contains" | "not_contains" | "in" | "matches";

interface StepInput {
  /** Unique within the orchestration; the step's output is stored as context[name]. */
  name: string;
  /** Run order; steps sharing a parallelGroup run together. */
  order?: number;
  roleName?: string;
  /** Rendered with {{context.input.x}}, {{context.plan}}, {{context['Step Name']}}. */
  inputMapping?: Record<string, JsonValue>;
  /** key: template; templates may use {{output}}. */
  outputMapping?: Record<string, string>;
  parallelGroup?: string;
  /** Skips the step when false, e.g. { field: "testResults.passed", operator: "<", value: 1 }. */
  condition?: { field: string; operator: ConditionOperator; value?: JsonValue };
  /** 0..10, default 0. */
  maxRetries?: number;
  /** ms, default 1000. */
  retryDelay?: number;
  retryBackoff?: "fixed" | "exponential";
  /** ms per attempt, default 300000, at most 840000. */
  timeout?: number;
  outputFormat?: "auto" | "json" | "text";
}

interface OrchestrationInput {
  name: string;
  description?: string;
  tags?: string[];
  isActive?: boolean;
  steps: StepInput[];
}

interface Orchestration extends Required<Omit<OrchestrationInput, "steps">> {
  id: string;
  version: number;
  steps: StepInput[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** References that do not resolve yet (a role not created yet, an unknown context key). */
  warnings: { path: string; message: string }[];
}

type RunStatus = "pending" | "running" | "completed" | "failed" | "cancelled";

interface StepLog {
  index: number;
  name: string;
  stage: number;
  roleName: string | null;
  status: "pending" | "running" | "completed" | "failed" | "skipped" | "cancelled";
  reason: string | null;
  output: JsonValue;
  warnings: string[];
  attempts: {
    attempt: number;
    status: string;
    startedAt: string | null;
    endedAt: string | null;
    error: string | null;
    model: string | null;
    input: JsonValue;
    output: JsonValue;
    /** For a step whose role has "meta": each model reply and the code it ran. */
    turns: { turn: number; reply: string; code?: string; run?: { ok: boolean; logs: string }; note?: string }[];
  }[];
}

interface ExecutionStatus {
  id: string;
  orchestrationId: string;
  orchestrationName: string;
  orchestrationVersion: number;
  status: RunStatus;
  input: JsonValue;
  context: Record<string, JsonValue>;
  output: JsonValue;
  /** Why the execution failed, naming the step. */
  error: string | null;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  stepLogs: StepLog[];
}

declare function create_role(role: RoleInput): Promise<Role>;
declare function list_roles(filter?: { search?: string; tool?: string }): Promise<Role[]>;
declare function get_role(args: { nameOrId: string }): Promise<Role>;
/** roleId: the role's id or name. Nested objects are merged. */
declare function update_role(args: { roleId: string; updates: Partial<RoleInput> }): Promise<Role>;
declare function delete_role(args: { roleId: string }): Promise<{ id: string; deleted: true }>;

declare function create_orchestration(orchestration: OrchestrationInput): Promise<Orchestration>;
/** tags: orchestrations carrying every tag given. */
declare function list_orchestrations(filter?: {
  tags?: string[];
  activeOnly?: boolean;
  search?: string;
}): Promise<Orchestration[]>;
declare function get_orchestration(args: { nameOrId: string; version?: number }): Promise<Orchestration>;
/** orchestrationId: id or name. Each update is a new version; expectedVersion makes it conditional. */
declare function update_orchestration(args: {
  orchestrationId: string;
  updates: Partial<OrchestrationInput>;
  expectedVersion?: number;
}): Promise<Orchestration>;
declare function delete_orchestration(args: { orchestrationId: string }): Promise<{ id: string; deleted: true }>;

/** Starts a run and returns at once; orchestrationId: id or name. */
declare function execute_orchestration(args: {
  orchestrationId: string;
  input?: JsonValue;
  idempotencyKey?: string;
}): Promise<ExecutionStatus>;
/** executionId: the execution's id, or the idempotencyKey it was started with (last 24 hours). */
declare function get_execution_status(args: { executionId: string }): Promise<ExecutionStatus>;

declare const system: {
  create_role: typeof create_role;
  list_roles: typeof list_roles;
  get_role: typeof get_role;
  update_role: typeof update_role;
  delete_role: typeof delete_role;
  create_orchestration: typeof create_orchestration;
  list_orchestrations: typeof list_orchestrations;
  get_orchestration: typeof get_orchestration;
  update_orchestration: typeof update_orchestration;
  delete_orchestration: typeof delete_orchestration;
  execute_orchestration: typeof execute_orchestration;
  get_execution_status: typeof get_execution_status;
};
`;

/** The part of a meta role's system prompt that teaches it to write agent code. */
export function agentCodePrompt(maxTurns: number): string {
  return [
    "You can manage this workspace's roles and orchestrations by writing TypeScript.",
    "To run code, put it in one ```ts block in your reply. It runs in a sandbox (no network) and you get back",
    "its console output, its result (the value of a top-level `return`) and any error with its line; then you",
    `reply again. Only the first \`\`\`ts block of a reply runs. This step allows ${maxTurns} replies in all;`,
    "code in the last one is not run. When you are done, reply without a code block: that reply is the",
    "step's output.",
    "",
    "The API, as TypeScript declarations:",
    "```ts",
    META_API_DTS.trimEnd(),
    "```",
  ].join("\n");
}
