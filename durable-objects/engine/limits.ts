// Bounds of a definition and of a run, shared by save-time validation and the engine: constants, and the
// size limits a run pins at start (its tenant's, over these defaults). Pure.

export const STEPS_MAX = 1000;
export const DEFINITION_MAX_BYTES = 1_000_000;
/** How deep bodies may nest inside one definition (a loop in a forEach in a branch ... ). */
export const NESTING_MAX_DEPTH = 8;
export const DEFAULT_STEP_TIMEOUT_MS = 300_000;
/** An attempt must fit in one alarm invocation (15 min wall clock on Cloudflare). */
export const STEP_TIMEOUT_MAX_MS = 840_000;
export const DEFAULT_RETRY_DELAY_MS = 1000;
export const RETRY_DELAY_MAX_MS = 3_600_000;
export const MAX_RETRIES_LIMIT = 10;

export const LOOP_MAX_ITERATIONS = 100;
export const FOR_EACH_MAX_ITEMS = 1000;
/** A forEach keeps its items in its own record, and one Durable Object value holds at most 2 MB. */
export const FOR_EACH_ITEMS_MAX_CHARS = 1_000_000;
export const FOR_EACH_DEFAULT_CONCURRENCY = 10;
export const FOR_EACH_MAX_CONCURRENCY = 100;
export const BRANCHES_MAX = 20;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Approvals, sleeps and child runs may wait this long at most. */
export const WAIT_MAX_MS = 30 * DAY_MS;
export const APPROVAL_DEFAULT_TIMEOUT_MS = 7 * DAY_MS;
/** Step instances one run may create (loops times items times body steps), so no run grows without bound. */
export const INSTANCES_MAX = 20_000;

/**
 * PERSISTED CONTRACT v1 (in the plan, optional): the sizes a run's values may reach, in characters of
 * JSON (a string counts its length), pinned from the tenant's limits at start. A plan without them (a
 * run started before sizes were limited) runs under DEFAULT_RUN_LIMITS.
 */
export interface RunLimits {
  /** A step's rendered input (its inputMapping, or the default input), an approval's message, a sleep's until. */
  maxStepInputChars: number;
  /** A model's reply, or a child execution's output. */
  maxStepOutputChars: number;
  /** Each value an outputMapping writes into the context. */
  maxMappedValueChars: number;
  /** The whole context a step writes into (a forEach item's scope counts the run's context it sees too). */
  maxRunContextChars: number;
}

export const DEFAULT_RUN_LIMITS: Readonly<RunLimits> = Object.freeze({
  maxStepInputChars: 262_144,
  maxStepOutputChars: 262_144,
  maxMappedValueChars: 262_144,
  maxRunContextChars: 2_097_152,
});

/** The size limits of the run of `plan`: its pinned ones, the defaults for what it does not pin. */
export function runLimitsOf(plan: { limits?: Partial<RunLimits> }): RunLimits {
  return plan.limits ? { ...DEFAULT_RUN_LIMITS, ...plan.limits } : DEFAULT_RUN_LIMITS;
}

/**
 * `matches` reads at most this much of a value: RE2 matches in linear time, and this bounds that time.
 * A longer value makes the condition false with a warning naming the limit.
 */
export const MATCHES_INPUT_MAX_CHARS = 10_000;
