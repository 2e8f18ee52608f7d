// The execution object's RPC vocabulary, shared with its callers (the Worker, other execution objects,
// the sweeper, the bench). Across a Durable Object RPC boundary results are values ({ ok: false, error }),
// not thrown errors, because thrown errors lose their properties on the way.
import type { AttemptResult, Budget, ChildResult, JsonValue, Plan, Spend } from "../engine/types";
import type { ExecutionMeta } from "./store";

/** A long-poll may wait at most this long, so it fits comfortably in one request. */
export const MAX_WATCH_MS = 30_000;

export interface WatchToken {
  runner: string;
  revision: number;
}

/** Why a request was refused, as the API answers it. */
export type RefusalCode = "BAD_REQUEST" | "NOT_FOUND" | "PRECONDITION_FAILED" | "CONFLICT";

export type Result<T> =
  | { ok: true; value: T }
  /** `field`: the request field a BAD_REQUEST is about. */
  | { ok: false; error: string; code?: RefusalCode; field?: string };

export interface StartRequest {
  meta: ExecutionMeta;
  plan: Plan;
  input: JsonValue;
  /**
   * True when the caller already inserted the index row ("pending"; an idempotent start claims its key
   * that way). Otherwise the object's first projection creates the row, and `start` answers ok only
   * once it has: an execution the caller was told about is always listed.
   */
  indexed: boolean;
  /**
   * Whether the team had an enabled webhook when the start was prepared: a run that ends or starts an
   * approval's wait within this start owes webhook notices by it, without reading D1 again.
   */
  webhooks?: boolean;
}

export interface ApprovalRequest {
  stepName: string;
  /** Which instance, when the step waits in several places (inside a forEach). */
  instanceId?: string;
  approved: boolean;
  comment: string | null;
  data: JsonValue;
  /** The principal deciding. */
  by: string;
}

/** What a child execution tells its parent when it ends. */
export interface ChildNotice {
  instance: string;
  attempt: number;
  executionId: string;
  result: ChildResult;
}

/** A run started by this one's agent code asks for a share of its budget, or gives it back (`release`). */
export interface BudgetHoldRequest {
  executionId: string;
  /** The most the run would take (its own budget); absent: everything left. */
  want?: Budget;
  /** What the run spent: the hold ends. */
  release?: Spend;
}

/** A call runner's result for one attempt. */
export interface AttemptReport {
  instance: string;
  attempt: number;
  result: AttemptResult;
}

/** The text a call runner's attempt has streamed so far. */
export interface AttemptText {
  instance: string;
  attempt: number;
  text: string;
}
