// The engine's vocabulary: the plan (immutable, a definition snapshot), the durable run state — a header
// and one record per step *instance* — the events that move it and the commands it asks the shell to
// perform. Pure types; the run state is what the execution Durable Object persists.
import type { JsonValue, StepDefinition } from "./definition";
import type { RunLimits } from "./limits";
import type { RUN_STATUSES } from "./status";

export type { JsonValue, StepDefinition };

export interface RoleSnapshot {
  id: string;
  name: string;
  basePrompt: string;
  capabilities: { needsCoding: boolean; needsTools: boolean; needsReasoning: boolean };
  /** `onOverflow`: what a step input over the limit does (absent in snapshots from before it: "fail"). */
  contextLimits: { minContext: number; maxContext: number; onOverflow?: "fail" | "truncate" };
  hyperparameters: { temperature: number; maxTokens: number; topP?: number; model?: string };
  tools: string[];
  /** The model chosen for this role when the execution started; absent in plans started before. */
  model?: PinnedModel;
}

/**
 * PERSISTED CONTRACT v1 (in the plan): a model as resolved at start (worker/models/resolve.ts), so a run
 * keeps its model and prices whatever happens to the role or the tenant's providers meanwhile.
 */
export interface PinnedModel {
  source: "tenant" | "platform";
  /** The tenant provider's id (its key is loaded by id at call time); absent for the platform's. */
  providerId?: string;
  /** The tenant provider's name, or the platform prefix: local, workers-ai, openai, script. */
  providerName: string;
  kind: "openai-compatible" | "workers-ai" | "local" | "script";
  /** What the provider is asked for (request.model). */
  id: string;
  contextWindow: number;
  /** US dollars per million tokens. */
  priceIn: number;
  priceOut: number;
  structuredOutput: boolean;
  streaming: boolean;
}

/** What an execution runs: the definition version it pinned and the roles as they were at start. */
export interface Plan {
  executionId: string;
  steps: StepDefinition[];
  roles: Record<string, RoleSnapshot>;
  /** Written by version-1 starts (the stages of `steps`); derived again since, and ignored. */
  stages?: number[][];
  /** What the run may spend, pinned at start (absent in plans started before budgets: unlimited). */
  budget?: Budget;
  /** The sizes its values may reach, pinned at start (absent, or a limit added since: the default). */
  limits?: Partial<RunLimits>;
}

/** PERSISTED CONTRACT v1 (in the plan): a run's budget; a field left out is not limited. */
export interface Budget {
  maxTokens?: number;
  maxCostUsd?: number;
}

/** Tokens (in + out) and US dollars: what a call or child run holds or spent against a budget. */
export interface Spend {
  tokens: number;
  costUsd: number;
}

export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * pending: not started (or reset by a resume); running: a model call in flight, or a container whose
 * body runs; waiting_retry: between attempts; waiting: an approval, a timer or a child execution.
 */
export type InstanceStatus =
  | "pending"
  | "running"
  | "waiting_retry"
  | "waiting"
  | "completed"
  | "failed"
  | "skipped"
  | "cancelled";
export type AttemptOutcome = "succeeded" | "failed" | "timed_out" | "interrupted" | "cancelled";

/** A failure as a tagged value: the kind tells retry logic what to do, the message tells a person. */
export interface StepError {
  kind:
    | "provider"
    | "rate_limited"
    | "timeout"
    | "invalid_output"
    | "interrupted"
    | "cancelled"
    | "config"
    | "budget_exceeded"
    /** A size limit (the rendered input, the output, a mapped value, the context): no retry helps. */
    | "limit";
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
}

export interface Usage {
  model: string;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

// PERSISTED CONTRACT v2 (execution DO storage): AttemptRecord, StepInstance, Wait, RunHeader.
// Version-1 records (one StepRun per top-level step, a stage cursor) load through migrate.ts.
export interface AttemptRecord {
  attempt: number;
  /**
   * The DO instance that started it; a model call whose runner is gone was cut off mid-flight.
   * "dispatched:<n>": the call runs in call runner <n> of the tenant's pool, which outlives this one's restarts.
   */
  runner: string;
  startedAt: number;
  deadline: number;
  endedAt?: number;
  outcome?: AttemptOutcome;
  error?: StepError;
  usage?: Usage;
  input: JsonValue;
  output?: JsonValue;
  /** Model turns of a step whose role has `meta`. */
  turns?: AgentTurn[];
  /** The child execution this attempt of an `orchestration` step started. */
  childExecutionId?: string;
  /** A result that arrived after the attempt had ended (timed out, cut off, cancelled): kept, not used. */
  lateResult?: { at: number; ok: boolean; error?: string; usage?: Usage };
  /** The worst case this attempt holds against the run's budget while it is open (runs with a budget). */
  reserved?: Spend;
  /** What the child execution of this attempt spent, as it reported when it ended. */
  childSpent?: Spend;
}

/** The runner of an attempt whose call was handed to a call runner object (see durable-objects/call-runner). */
export const DISPATCHED_PREFIX = "dispatched:";

/** The pool index of the call runner an attempt was handed to, if it was. */
export function dispatchedTo(runner: string): number | undefined {
  return runner.startsWith(DISPATCHED_PREFIX) ? Number(runner.slice(DISPATCHED_PREFIX.length)) : undefined;
}

/** One model reply of a meta role's step, and the agent code it ran (fields clipped to stay small). */
export interface AgentTurn {
  turn: number;
  reply: string;
  code?: string;
  run?: {
    ok: boolean;
    logs: string;
    result: JsonValue;
    error: { name: string; message: string; line: number | null; column: number | null } | null;
    calls: number;
    durationMs: number;
  };
  /** Why the code was not run (e.g. the turn limit). */
  note?: string;
}

/**
 * What an unfinished instance waits for. Only a `call` lives in memory (the model request of this
 * object's instance) and is made again after a crash; the others are durable and survive restarts as is.
 */
export type Wait =
  | { kind: "call"; attempt: number }
  | { kind: "child"; attempt: number; executionId: string; deadline?: number }
  | { kind: "approval"; since: number; deadline: number; message: string | null }
  | { kind: "timer"; until: number };

export interface ApprovalDecision {
  approved: boolean;
  comment: string | null;
  data: JsonValue;
  /** Who decided: "user:<id>", "apiKey:<id>", "role:<id>/execution:<id>", or "timeout". */
  by: string;
  /** ISO time of the decision. */
  at: string;
}

/**
 * One run of one step: a top-level step ("3"), or a step inside a body, whose id extends its
 * container's with the slot (loop iteration, forEach item, branch arm) and its index in the body:
 * "3.2.0" is body step 0 of slot 2 of step 3.
 */
export interface StepInstance {
  id: string;
  name: string;
  status: InstanceStatus;
  attempts: AttemptRecord[];
  retryAt?: number;
  output?: JsonValue;
  /** Values this step's outputMapping wrote into the context. */
  mapped?: Record<string, JsonValue>;
  /** Order of settling across the run; the context applies settled instances in this order. */
  completedSeq?: number;
  /** Why it was skipped, cancelled, or how it ended. */
  reason?: string;
  /** Why it failed (the innermost cause, naming the step). */
  error?: string;
  /** Failed, but the step has continueOnError: counted as finished. */
  continued?: boolean;
  warnings: string[];
  interruptions: number;
  /** Attempts before this index do not count against maxRetries (a resume grants a fresh budget). */
  budgetFrom?: number;
  wait?: Wait;
  /** loop: the iteration running (0-based). */
  iteration?: number;
  /** forEach: the items, resolved when it started. */
  items?: JsonValue[];
  /** branch: the arm taken (`branches.length` for otherwise), null when none matched. */
  branch?: number | null;
}

export interface RunHeader {
  v: 2;
  status: RunStatus;
  input: JsonValue;
  seq: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
  output?: JsonValue;
  /** How many times the run was resumed after failing or being cancelled. */
  resumes?: number;
  /** Set when a call would cross the budget: nothing new starts; the run fails once nothing is in flight. */
  budgetStop?: string;
  /** Why the run failed, when it is a kind a client acts on. */
  errorKind?: "budget_exceeded";
  /** What the run spent, written when it ends (absent in runs that ended before budgets). */
  usage?: RunUsage;
  /** Budget held for runs its agent code started, by their execution id, until they end (budget.ts). */
  holds?: Record<string, Spend>;
  /** What those runs spent, as each told when it ended. */
  heldSpent?: Spend;
}

/** A run's usage: its own model calls (in total and by model) and what its child executions spent. */
export interface RunUsage {
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  calls: number;
  byModel: Record<string, { tokensIn: number; tokensOut: number; costUsd: number; calls: number }>;
  children: Spend;
}

export interface RunState {
  header: RunHeader;
  /** By instance id. Read-only to the engine: a decision lists the records it replaces. */
  instances: ReadonlyMap<string, StepInstance>;
}

export type AttemptResult =
  | { ok: true; text: string; usage: Usage; turns?: AgentTurn[] }
  /** `text`: a reply that came back but was refused (it failed the step's outputSchema), for the log. */
  | { ok: false; error: StepError; usage?: Usage; turns?: AgentTurn[]; text?: string };

/** How a child execution ended; "refused": it never started (its orchestration is missing, too deep...). */
export type ChildResult =
  | { ok: true; output: JsonValue; spent?: Spend }
  | { ok: false; status: "failed" | "cancelled" | "refused"; error: StepError; spent?: Spend };

export type EngineEvent =
  | { type: "start" }
  | { type: "wake" }
  | { type: "attempt_finished"; instance: string; attempt: number; result: AttemptResult }
  /**
   * A call this object had queued for one of its own connections waited too long: it goes to call
   * runner `runnerIndex` instead (recorded on the attempt, so a restart hands it there again).
   */
  | { type: "call_handed_over"; instance: string; attempt: number; runnerIndex: number }
  | { type: "child_finished"; instance: string; attempt: number; executionId: string; result: ChildResult }
  | { type: "approval"; instance: string; decision: ApprovalDecision }
  | { type: "cancel"; reason: string }
  /** The shell could not store the last decision (a record over storage's value limit): the run fails. */
  | { type: "fail"; reason: string }
  | { type: "resume" }
  /**
   * A run this one's agent code starts asks for a share of the budget (`want`: what it would take at
   * most), or, `release` given, hands its share back with what it spent.
   */
  | { type: "budget_hold"; executionId: string; want?: Budget; release?: Spend };

export type Command =
  /** `runnerIndex`: made by that call runner of the tenant's pool, not by this object (DecideOptions.dispatch). */
  | {
      type: "call_model";
      instance: string;
      attempt: number;
      input: JsonValue;
      deadline: number;
      runnerIndex?: number;
    }
  | { type: "abort"; instance: string; attempt: number; reason: string }
  | {
      type: "start_child";
      instance: string;
      attempt: number;
      executionId: string;
      stepName: string;
      orchestrationId: string;
      version?: number;
      input: JsonValue;
      /** The most the child may spend: what the parent's budget had left when it started. */
      budget?: Budget;
    }
  | { type: "cancel_child"; executionId: string; reason: string }
  | { type: "status_changed"; status: RunStatus };

/** What a decision is given besides the state: the time, who runs it, and fresh ids. */
export interface DecideContext {
  now: number;
  /** This object instance; model calls started by another (crashed) one are recognised by it. */
  runner: string;
  /** A new execution id (for child executions); the engine never makes randomness of its own. */
  newExecutionId: () => string;
}

export interface Decision {
  header: RunHeader;
  /** Instance records created or replaced by this decision, each once, in the order first touched. */
  changed: StepInstance[];
  commands: Command[];
  /** When the run next needs attention (retry due, deadline, timer); undefined when terminal or idle. */
  wakeAt?: number;
}
