// When a failed delivery is tried again: exponential back-off from 10 s, doubled per attempt, capped at
// an hour, jittered ±20 % (so each wait is still longer than the one before until the cap), never sooner
// than the receiver's Retry-After (within the cap). Past 24 h from the first attempt it is given up.
// Pure: the random draw comes in as an argument.

export const RETRY_BASE_MS = 10_000;
export const RETRY_CAP_MS = 60 * 60 * 1000;
/** Retries stop this long after the first attempt; the delivery is then marked failed. */
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The wait after attempt `attempt` (1-based) failed; `random` in [0, 1). */
export function retryDelayMs(attempt: number, random: number, retryAfterMs?: number): number {
  const exponential = Math.min(RETRY_BASE_MS * 2 ** Math.min(attempt - 1, 30), RETRY_CAP_MS);
  const jittered = Math.round(exponential * (0.8 + 0.4 * random));
  return Math.min(Math.max(jittered, retryAfterMs ?? 0), RETRY_CAP_MS);
}

/** When to try again, or undefined when that would be past the retry window. */
export function nextAttemptAt(
  firstAttemptAt: number,
  now: number,
  attempt: number,
  random: number,
  retryAfterMs?: number,
): number | undefined {
  const at = now + retryDelayMs(attempt, random, retryAfterMs);
  return at > firstAttemptAt + RETRY_WINDOW_MS ? undefined : at;
}
