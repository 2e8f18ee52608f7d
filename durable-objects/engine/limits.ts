// Bounds of a definition and of a run, shared by save-time validation and the engine. Pure constants.

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
/** Executions started by `orchestration` steps nest at most this deep below the top-level run. */
export const CHILD_DEPTH_MAX = 5;
/** Step instances one run may create (loops times items times body steps), so no run grows without bound. */
export const INSTANCES_MAX = 20_000;
