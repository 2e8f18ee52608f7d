// When the next attempt of a failed step may start. Jitter is derived from a hash of the execution,
// step and attempt, so the engine stays deterministic (no Math.random). Pure.
import { RETRY_DELAY_MAX_MS } from "./limits";
import type { StepError } from "./types";

interface RetryPolicy {
  retryDelay: number;
  retryBackoff: "fixed" | "exponential";
}

/** FNV-1a over the text, mapped to [0, 1). */
export function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 2 ** 32;
}

/** Delay before retry number `retry` (1-based). Exponential: base·2^(retry-1), with jitter in [50%, 100%]. */
export function retryDelayMs(step: RetryPolicy, retry: number, seed: string, error: StepError): number {
  let delay = step.retryDelay;
  if (step.retryBackoff === "exponential") {
    const exponential = Math.min(RETRY_DELAY_MAX_MS, step.retryDelay * 2 ** (retry - 1));
    delay = Math.round(exponential * (0.5 + 0.5 * unitHash(`${seed}:${retry}`)));
  }
  // A provider's Retry-After is a floor, but a hostile or broken one cannot park a step for longer than the cap.
  return Math.min(RETRY_DELAY_MAX_MS, Math.max(delay, error.retryAfterMs ?? 0));
}

/** Attempts that count against maxRetries: interruptions by a crash do not. */
export function countedAttempts(attempts: readonly { outcome?: string }[]): number {
  return attempts.filter((a) => a.outcome !== "interrupted").length;
}
