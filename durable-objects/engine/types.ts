// The engine's vocabulary: the plan (immutable, derived from a definition snapshot), the durable run
// state, the events that move it and the commands it asks the shell to perform.
// Pure types; the run state below is what the execution Durable Object persists.
import type { JsonValue } from "../../worker/schemas/common";
import type { StepDefinition } from "../../worker/schemas/orchestration";

export type { JsonValue };

export interface RoleSnapshot {
  id: string;
  name: string;
  basePrompt: string;
  capabilities: { needsCoding: boolean; needsTools: boolean; needsReasoning: boolean };
  contextLimits: { minContext: number; maxContext: number };
  hyperparameters: { temperature: number; maxTokens: number; topP?: number; model?: string };
  tools: string[];
}

/** What an execution runs: the definition version it pinned and the roles as they were at start. */
export interface Plan {
  executionId: string;
  steps: StepDefinition[];
  /** Step indexes per stage, in run order. */
  stages: number[][];
  roles: Record<string, RoleSnapshot>;
}

export type RunStatus = "pending" | "running" | "completed" | "failed" | "cancelled";
export type StepStatus =
  | "pending"
  | "running"
  | "waiting_retry"
  | "completed"
  | "failed"
  | "skipped"
  | "cancelled";
export type AttemptOutcome = "succeeded" | "failed" | "timed_out" | "interrupted" | "cancelled";

/** A failure as a tagged value: the kind tells retry logic what to do, the message tells a person. */
export interface StepError {
  kind: "provider" | "rate_limited" | "timeout" | "invalid_output" | "interrupted" | "cancelled" | "config";
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

// PERSISTED CONTRACT v1 (execution DO storage): AttemptRecord, StepRun, RunHeader.
export interface AttemptRecord {
  attempt: number;
  /** The DO instance that started it; an attempt whose runner is gone was cut off mid-flight. */
  runner: string;
  startedAt: number;
  deadline: number;
  endedAt?: number;
  outcome?: AttemptOutcome;
  error?: StepError;
  usage?: Usage;
  input: JsonValue;
  output?: JsonValue;
  /** Model turns of a step whose role has `meta` (optional: added after v1, absent elsewhere). */
  turns?: AgentTurn[];
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

export interface StepRun {
  index: number;
  name: string;
  status: StepStatus;
  attempts: AttemptRecord[];
  retryAt?: number;
  output?: JsonValue;
  /** Values this step's outputMapping wrote into the context. */
  mapped?: Record<string, JsonValue>;
  /** Order of completion across the run; the context applies completed steps in this order. */
  completedSeq?: number;
  reason?: string;
  warnings: string[];
  interruptions: number;
}

export interface RunHeader {
  v: 1;
  status: RunStatus;
  input: JsonValue;
  stageCursor: number;
  seq: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
  output?: JsonValue;
}

export interface RunState {
  header: RunHeader;
  steps: StepRun[];
}

export type AttemptResult =
  | { ok: true; text: string; usage: Usage; turns?: AgentTurn[] }
  | { ok: false; error: StepError; usage?: Usage; turns?: AgentTurn[] };

export type EngineEvent =
  | { type: "start" }
  | { type: "wake" }
  | { type: "attempt_finished"; step: number; attempt: number; result: AttemptResult }
  /** The shell did not make the call (it would outlive the alarm invocation): undo the attempt. */
  | { type: "attempt_deferred"; step: number; attempt: number }
  | { type: "cancel"; reason: string };

export type Command =
  | { type: "call_model"; step: number; attempt: number; input: JsonValue; deadline: number }
  | { type: "abort"; step: number; attempt: number; reason: string }
  | { type: "status_changed"; status: RunStatus };

export interface Decision {
  run: RunState;
  commands: Command[];
  /** When the run next needs attention (retry due, attempt deadline); undefined when terminal or idle. */
  wakeAt?: number;
}
