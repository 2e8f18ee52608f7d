// Every limit and quota a tenant runs under, with its default, in one place. A tenant's plan (the
// `tenants.plan` column, JSON) overrides any of them; `limitsOf(plan)` is what the platform enforces.
// An operator raises a tenant's limits with one SQL statement (README "Limits and quotas"), e.g.
//   update tenants set plan = '{"maxRoles": 5000}' where id = '<tenant id>';

import { DEFAULT_RUN_LIMITS } from "../durable-objects/engine/limits";

/** API key scopes: read (list/get/status), run (execute and run control), write (create/update/delete), admin. */
export const API_KEY_SCOPES = ["read", "run", "write", "admin"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const DEFAULT_LIMITS = {
  // Counts per tenant (a create past one answers FORBIDDEN naming it; parallel creates cannot pass it)
  /** Roles the tenant may have. */
  maxRoles: 1_000,
  /** Orchestrations the tenant may have. */
  maxOrchestrations: 1_000,
  /** Versions kept per orchestration; older ones are pruned (not one a live run pinned). */
  maxVersionsKept: 50,
  /** API keys not revoked and not expired (revoked and expired ones stay listed but do not count). */
  maxApiKeys: 50,
  /** Model providers the tenant may have. */
  maxProviders: 20,
  /** Outbound webhooks the tenant may have (enabled or not). */
  maxWebhooks: 20,
  /** Inbound HTTP triggers the tenant may have (enabled or not). */
  maxTriggers: 50,
  /** Cron schedules the tenant may have (active, paused or failed). */
  maxSchedules: 50,
  /** Ended executions older than this are deleted (their object's storage and index row). */
  retentionDays: 30,
  // The edge (enforced before a tenant is known, so always these defaults, never a plan's)
  /** A request body over this many bytes answers 413 before anything parses it. */
  maxRequestBodyBytes: 2 * 1024 * 1024,
  /** Calls in one tRPC batch request (the dashboard's batch link sends at most this many). */
  maxBatchSize: 25,
  // Request rates (token buckets in the tenant's governor object; each tRPC call takes one token)
  /** Sustained authenticated calls per second for the whole tenant. */
  requestsPerSecondPerTenant: 200,
  /** Calls the tenant may make at once above its sustained rate (the tenant bucket's size). */
  requestBurstPerTenant: 1_000,
  /** Sustained calls per second for one API key, or one signed-in user. */
  requestsPerSecondPerKey: 100,
  /** Calls one API key or user may make at once above its sustained rate. */
  requestBurstPerKey: 500,
  /** Executions of the tenant admitted and not yet ended (children included); more queue, or are refused. */
  maxRunningExecutions: 200,
  /** Executions waiting for a running slot (execute and rerun past maxRunningExecutions queue, in order); more are refused. */
  maxQueuedExecutions: 1_000,
  // Runs started from runs (orchestration steps and agent code alike)
  /** How deep runs started from runs nest below the run started from outside (which is depth 0). */
  maxRunDepth: 5,
  /** Executions one execution may start (child steps, retries of them, and its agent code's runs). */
  maxChildrenPerExecution: 1_000,
  /** Executions the tenant may start per minute, counting every start (execute, rerun, agent code, child steps). */
  maxExecutionsStartedPerMinute: 600,
  // Sizes inside a run, in characters of JSON, pinned into each run when it starts (the engine's defaults)
  /** A step's rendered input (inputMapping, or the default input), an approval's message, a sleep's until. */
  maxStepInputChars: DEFAULT_RUN_LIMITS.maxStepInputChars,
  /** A model's reply, or a child execution's output. */
  maxStepOutputChars: DEFAULT_RUN_LIMITS.maxStepOutputChars,
  /** Each value an outputMapping writes into the context. */
  maxMappedValueChars: DEFAULT_RUN_LIMITS.maxMappedValueChars,
  /** The whole context a step writes into (every step's output and mapped values it can see). */
  maxRunContextChars: DEFAULT_RUN_LIMITS.maxRunContextChars,
  // Money
  /** The tenant's spend per calendar month (UTC) in US dollars, across all its runs; 0 = no monthly budget. */
  maxCostUsdPerMonth: 0,
  /** Under a monthly budget, what a run without its own maxCostUsd reserves at start and may spend at most. */
  runCostReserveUsd: 1,
  // Lists (every list pages with limit and cursor)
  /** Items per page when a list call gives no limit (listExecutions keeps its own default of 50). */
  defaultPageSize: 50,
  /** The largest limit a list call may ask for; agent code's list_* functions answer one page this large. */
  maxPageSize: 200,
} as const;

export type Limits = {
  -readonly [K in keyof typeof DEFAULT_LIMITS]: (typeof DEFAULT_LIMITS)[K] extends number
    ? number
    : (typeof DEFAULT_LIMITS)[K];
};
export type PlanOverrides = Partial<Limits>;

/** The limits a tenant runs under: its plan's overrides (numbers only, unknown names ignored) over the defaults. */
export function limitsOf(plan: PlanOverrides | null | undefined): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  if (!plan || typeof plan !== "object") return limits;
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = (plan as Record<string, unknown>)[key];
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) limits[key] = value;
  }
  return limits;
}
