// The tenant's executions started per minute (maxExecutionsStartedPerMinute), the pure math: a window
// opens at the first start after the last one closed and lasts a minute. The governor keeps it in memory
// and counts a start only when it admits or queues it, in the same call. No storage, no clock.

export const START_WINDOW_MS = 60_000;

export interface StartWindow {
  /** When the window closes (ms since epoch). */
  endsAt: number;
  count: number;
}

export type StartTake = { ok: true; window: StartWindow } | { ok: false; retryAfterMs: number };

/** One more start in the window, or how long until the window closes if it is full. */
export function takeStart(window: StartWindow | undefined, max: number, now: number): StartTake {
  const current = window && window.endsAt > now ? window : { endsAt: now + START_WINDOW_MS, count: 0 };
  if (current.count >= max) return { ok: false, retryAfterMs: Math.max(1, current.endsAt - now) };
  return { ok: true, window: { ...current, count: current.count + 1 } };
}
