// The limits of one agent-code run, in one place: the sandbox prelude, the host and the README quote them.
// Pure constants. The sandbox's own limits are part of its prelude, which is hashed into the isolate id.

/** Source size of one run's code (UTF-8 bytes). */
export const MAX_CODE_BYTES = 100_000;
/** JSON size of one meta function's argument; an orchestration definition may be 1 MB. */
export const MAX_ARGUMENT_CHARS = 1_100_000;
/** Console output kept per run; the rest is dropped and the logs say how much. */
export const MAX_LOG_CHARS = 64_000;
export const MAX_LOG_ENTRIES = 1_000;
/** JSON size of the value a run returns; a larger one comes back as a truncated preview. */
export const MAX_RESULT_CHARS = 64_000;
/** Meta function calls per run. */
export const MAX_META_CALLS = 100;

export const DEFAULT_TIMEOUT_MS = 30_000;
export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 120_000;

/**
 * The instrumentation guard: loop iterations plus function calls per run, and the longest stretch of
 * computation without waiting for a meta call or a timer. Local workerd does not enforce `limits.cpuMs`,
 * so without this a `while (true) {}` would hang the whole runtime.
 */
export const GUARD_MAX_TICKS = 20_000_000;
export const GUARD_BUSY_MS = 500;
/** A pause this long between two guard checks is taken as waiting (a timer), not computing. */
export const GUARD_IDLE_GAP_MS = 100;
/** Production's CPU limit per run (enforced by Cloudflare, not by local workerd). */
export const SANDBOX_CPU_MS = 2_000;

/** Cloudflare: at most 4 loaded isolates in flight per request and 10 per Durable Object. */
export const ISOLATES_PER_REQUEST = 4;
export const ISOLATES_PER_OBJECT = 10;

/** Model turns of one orchestration step whose role has `meta` (each may run one code block). */
export const DEFAULT_AGENT_MAX_TURNS = 5;
export const MAX_AGENT_MAX_TURNS = 20;

/** The sandbox's compatibility date: the Worker's own (see wrangler.toml). */
export const SANDBOX_COMPATIBILITY_DATE = "2026-11-01";

export const SANDBOX_LIMITS = {
  maxTicks: GUARD_MAX_TICKS,
  busyMs: GUARD_BUSY_MS,
  idleGapMs: GUARD_IDLE_GAP_MS,
  maxCalls: MAX_META_CALLS,
  maxArgumentChars: MAX_ARGUMENT_CHARS,
  maxLogChars: MAX_LOG_CHARS,
  maxLogEntries: MAX_LOG_ENTRIES,
  maxResultChars: MAX_RESULT_CHARS,
} as const;
