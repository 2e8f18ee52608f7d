// Every limit and quota a tenant runs under, with its default, in one place. A tenant's plan (the
// `tenants.plan` column, JSON) overrides any of them; `limitsOf(plan)` is what the platform enforces.
// An operator raises a tenant's limits with one SQL statement (README "Limits and quotas"), e.g.
//   update tenants set plan = '{"maxRoles": 5000}' where id = '<tenant id>';

/** API key scopes: read (list/get/status), run (execute and run control), write (create/update/delete), admin. */
export const API_KEY_SCOPES = ["read", "run", "write", "admin"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const DEFAULT_LIMITS = {
  // Counts per tenant
  maxRoles: 1_000,
  maxOrchestrations: 1_000,
  /** Versions kept per orchestration; older ones are pruned (not one a live run pinned). */
  maxVersionsKept: 50,
  maxApiKeys: 50,
  maxProviders: 20,
  // Lists
  defaultPageSize: 50,
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
