// The execution part of the meta API declarations (meta-api.ts): ExecutionStatus and its StepLogs, as
// durable-objects/execution/status-view.ts builds them (test/agent-code/meta-api.test.ts compares the
// declared fields with a real status).

export const STATUS_DECLARATIONS = `type RunStatus = "pending" | "running" | "completed" | "failed" | "cancelled";
type StepStatus = "pending" | "running" | "waiting" | "completed" | "failed" | "skipped" | "cancelled";

/** What a step that has not finished waits for (times are ISO strings). */
type StepWait =
  | { kind: "call"; attempt: number; deadline: string | null }
  | { kind: "child"; executionId: string; deadline: string | null }
  | { kind: "approval"; message: string | null; since: string | null; deadline: string | null }
  | { kind: "timer"; until: string | null };

/** Tokens (in + out) and US dollars. */
interface Spend {
  tokens: number;
  costUsd: number;
}

interface Attempt {
  attempt: number;
  status: "running" | "succeeded" | "failed" | "timed_out" | "interrupted" | "cancelled";
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  error: string | null;
  errorKind: string | null;
  model: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
  costUsd: number | null;
  input: JsonValue;
  output: JsonValue;
  /** For a step whose role has "meta": each model reply and the code it ran. */
  turns: { turn: number; reply: string; code?: string; run?: { ok: boolean; logs: string }; note?: string }[];
  /** The child execution this attempt of an orchestration step started. */
  childExecutionId: string | null;
  /** What that child execution spent, once it ended. */
  childSpent: Spend | null;
  /** What this attempt holds of the run's budget while it is open. */
  reserved: Spend | null;
  /** A result that arrived after this attempt had ended (timed out, cut off, cancelled): noted, not used. */
  lateResult: { at: string | null; ok: boolean; error: string | null } | null;
}

/** One per step instance: every top-level step, and each started run of a body step. */
interface StepLog {
  /** "2" for top-level step 2; "2.0.1" for step 1 of slot 0 (loop iteration, forEach item, branch arm) of "2". */
  id: string;
  /** Position in its body. */
  index: number;
  name: string;
  stepType: "agent" | "loop" | "forEach" | "branch" | "orchestration" | "approval" | "sleep";
  stage: number;
  roleName: string | null;
  parallelGroup: string | null;
  /** The container instance this one runs in, and its slot there. */
  parentId: string | null;
  slot: number | null;
  depth: number;
  status: StepStatus;
  waitingForRetry: boolean;
  retryAt: string | null;
  /** Why it was skipped, cancelled or ended as it did. */
  reason: string | null;
  error: string | null;
  /** Failed, and the run went on (continueOnError). */
  continued: boolean;
  output: JsonValue;
  /** While a streaming model call runs: its reply so far (the output replaces it once it ends). */
  streamingText: string | null;
  warnings: string[];
  wait: StepWait | null;
  childExecutionId: string | null;
  /** Spent over all its attempts, its child runs included. */
  spent: Spend;
  attempts: Attempt[];
  loop?: { iteration: number | null; maxIterations: number };
  forEach?: {
    total: number | null;
    done: number;
    failed: number;
    running: number;
    concurrency: number;
    items: ("pending" | "running" | "completed" | "failed" | "cancelled")[];
  };
  branch?: {
    /** The arm taken: its index, branches.length for otherwise, null before (or when none holds). */
    taken: number | null;
    arms: { index: number; label: string; when: Condition | null; status: "taken" | "skipped" | "pending" }[];
  };
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
  /** "budget_exceeded": a call would have crossed the run's budget, so it was not started. */
  errorKind: "budget_exceeded" | null;
  /** The budget pinned at start; null: unlimited. */
  budget: Budget | null;
  /** Spent so far (final once it ended): its own model calls, by model, and its child runs. */
  usage: {
    tokensIn: number;
    tokensOut: number;
    costUsd: number;
    calls: number;
    byModel: Record<string, { tokensIn: number; tokensOut: number; costUsd: number; calls: number }>;
    children: Spend;
  };
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** Set when an orchestration step of another execution started this one. */
  parent: { executionId: string; stepName: string; instanceId: string } | null;
  /** 0 for a top-level run, 1 for its child, ... */
  depth: number;
  /** How many times resume_execution continued it. */
  resumes: number;
  stepLogs: StepLog[];
}
`;
