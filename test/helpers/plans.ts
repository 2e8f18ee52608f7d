// Writes straight into D1 that tests of limits need: a tenant's plan, as an operator sets it (README
// "Limits and quotas"; the next request reads it), and many rows at once, as if created over time.
// Governor-cached limits (rate limits) need their own refresh; see rate-limits.test.ts.
import { env } from "cloudflare:workers";
import type { PlanOverrides } from "../../worker/limits";

export async function setPlan(tenantId: string, plan: PlanOverrides): Promise<void> {
  await env.DB.prepare("update tenants set plan = ? where id = ?").bind(JSON.stringify(plan), tenantId).run();
}

/** Inserts `count` roles named "Seeded 0001", "Seeded 0002", ... for the tenant, in one statement. */
export async function seedRoles(tenantId: string, count: number): Promise<void> {
  await env.DB.prepare(
    `with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
     insert into roles (id, tenant_id, name, definition, tools, created_by, created_at, updated_at)
     select 'rol_seed_' || ? || '_' || i, ?, 'Seeded ' || printf('%04d', i), '{}', '[]', 'test', 0, 0 from n`,
  )
    .bind(count, tenantId, tenantId)
    .run();
}
