// The execution object's RPC vocabulary, shared with its callers (the Worker, the sweeper, the bench).
// Across a Durable Object RPC boundary results are values ({ ok: false, error }), not thrown errors.
import type { JsonValue, Plan } from "./engine/types";
import type { ExecutionMeta } from "./execution-store";

/** A long-poll may wait at most this long, so it fits comfortably in one request. */
export const MAX_WATCH_MS = 30_000;

export interface WatchToken {
  runner: string;
  revision: number;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

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
}
