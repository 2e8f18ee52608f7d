// The meta API as TypeScript declarations: what a step whose role has `meta` reads in its system prompt,
// and what GET /meta-api.d.ts serves (editors and the dashboard's agent console load it). Hand-written to
// read well (step kinds in meta-api-steps.ts, execution status in meta-api-status.ts);
// test/agent-code/meta-api.test.ts keeps it in step with the functions MetaTools dispatches.
import {
  MAX_ARGUMENT_CHARS,
  MAX_CODE_BYTES,
  MAX_LOG_CHARS,
  MAX_META_CALLS,
  MAX_RESULT_CHARS,
} from "./limits";
import { STATUS_DECLARATIONS } from "./meta-api-status";
import { STEP_DECLARATIONS } from "./meta-api-steps";
import { META_FUNCTION_NAMES, META_FUNCTION_SCOPES } from "./meta-names";

/** "//   meta:read   list_roles, get_role, ...": which tool allows which functions, from the one table. */
const SCOPE_LINES = (["read", "run", "write"] as const)
  .map((scope) => {
    const names = META_FUNCTION_NAMES.filter((name) => META_FUNCTION_SCOPES[name] === scope);
    return `//   meta:${scope.padEnd(6)}${names.join(", ")}`;
  })
  .join("\n");

export const META_API_DTS = `// Troupe meta API for agent code. Every function is a global and also system.<name>; each returns a
// Promise. Invalid arguments throw an Error whose message names the field and the reason, e.g.
//   ValidationError: create_orchestration: steps[2].condition.operator: "equals" is not one of ...
// Errors carry .name (ValidationError, NotFoundError, ConflictError, PermissionDenied,
// PreconditionFailed, LimitExceeded) and .code (BAD_REQUEST, NOT_FOUND, CONFLICT, FORBIDDEN, ...).
// Limits per run: ${MAX_META_CALLS} meta calls, ${MAX_CODE_BYTES} bytes of code, ${MAX_ARGUMENT_CHARS} characters of
// JSON per argument, ${MAX_LOG_CHARS} characters of console output, ${MAX_RESULT_CHARS} of result; no network.
// Top-level await works; a top-level \`return\` sets the run's result; console.log/info/warn/error are captured.
// A role's tool "meta" allows every function; "meta:read", "meta:run" and "meta:write" allow a part of them
// (others throw PermissionDenied naming the tool needed):
${SCOPE_LINES}

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

interface RoleInput {
  name: string;
  basePrompt: string;
  description?: string;
  capabilities?: { needsCoding?: boolean; needsTools?: boolean; needsReasoning?: boolean };
  /** Defaults: 4096..128000 tokens. */
  /** onOverflow: a step input over the limit fails the step ("fail", the default) or is cut ("truncate"). */
  contextLimits?: { minContext?: number; maxContext?: number; onOverflow?: "fail" | "truncate" };
  /** Defaults: temperature 0.7, maxTokens 4096. model: a catalog id, or "openai:gpt-4o-mini". */
  /** model: "<provider>:<model>" (one of the team's providers, or local / workers-ai / openai) or a bare id. */
  hyperparameters?: { temperature?: number; maxTokens?: number; topP?: number; model?: string };
  /** "meta" lets the role's agent code call these functions; "meta:read", "meta:run", "meta:write" a part. */
  tools?: ("meta" | "meta:read" | "meta:run" | "meta:write" | (string & {}))[];
  /** Folded into capabilities.needsTools. */
  needsTools?: boolean;
}

interface Role {
  id: string;
  name: string;
  description: string;
  basePrompt: string;
  capabilities: { needsCoding: boolean; needsTools: boolean; needsReasoning: boolean };
  contextLimits: { minContext: number; maxContext: number; onOverflow?: "fail" | "truncate" };
  hyperparameters: { temperature: number; maxTokens: number; topP?: number; model?: string };
  tools: string[];
  /** "user:<id>", "apiKey:<id>", or "role:<id>" (+ "/execution:<id>") for what agent code created. */
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

${STEP_DECLARATIONS}
${STATUS_DECLARATIONS}
declare function create_role(role: RoleInput): Promise<Role>;
/** The first page by name: at most maxPageSize roles (200 by default); narrow with search or tool. */
declare function list_roles(filter?: { search?: string; tool?: string }): Promise<Role[]>;
declare function get_role(args: { nameOrId: string }): Promise<Role>;
/** roleId: the role's id or name. Nested objects are merged. */
declare function update_role(args: { roleId: string; updates: Partial<RoleInput> }): Promise<Role>;
declare function delete_role(args: { roleId: string }): Promise<{ id: string; deleted: true }>;

declare function create_orchestration(orchestration: OrchestrationInput): Promise<Orchestration>;
/**
 * tags: orchestrations carrying every tag given. The first page by name: at most maxPageSize (200 by
 * default); narrow with tags, activeOnly or search.
 */
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

/** Starts a run and returns at once; orchestrationId: id or name; version: that version's definition (default: current). */
declare function execute_orchestration(args: {
  orchestrationId: string;
  version?: number;
  input?: JsonValue;
  idempotencyKey?: string;
  /**
   * This run's budget. Inside a run that has one, the new run holds a share of what that run has left
   * (at most this budget) until it ends; PreconditionFailed when nothing is left.
   */
  budget?: Budget;
}): Promise<ExecutionStatus>;
/** executionId: the execution's id, or the idempotencyKey it was started with (last 24 hours). */
declare function get_execution_status(args: { executionId: string }): Promise<ExecutionStatus>;
/**
 * Decides an approval step that is waiting (stepLogs[].status "waiting", wait.kind "approval"); its output
 * becomes { approved, comment, data, by, at }. instanceId (a stepLogs[].id) picks one when the step waits in
 * several places (inside a forEach). PreconditionFailed when it is not waiting; ConflictError when decided.
 */
declare function approve_step(args: {
  executionId: string;
  stepName: string;
  instanceId?: string;
  approved: boolean;
  comment?: string;
  data?: JsonValue;
}): Promise<ExecutionStatus>;
/**
 * Continues a failed or cancelled execution from the steps that failed or were cancelled, with fresh
 * retries; completed outputs are kept. PreconditionFailed for an execution in any other status.
 */
declare function resume_execution(args: { executionId: string }): Promise<ExecutionStatus>;
/** Starts a new execution with the same input and definition version; returns the new one. */
declare function rerun_execution(args: { executionId: string }): Promise<ExecutionStatus>;

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
  approve_step: typeof approve_step;
  resume_execution: typeof resume_execution;
  rerun_execution: typeof rerun_execution;
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
