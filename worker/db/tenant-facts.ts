// What a request learns about its tenant with the caller's session or key, in the same query: the plan's
// limits, and whether the team has an enabled webhook (a run that ends within its own start owes webhook
// notices by it, so that start reads nothing more).
import { and, eq, sql } from "drizzle-orm";
import type { Limits } from "../limits";
import type { Db } from "./client";
import { tenants, webhooks } from "./schema";

export interface TenantFacts {
  limits: Limits;
  webhooks: boolean;
}

/** A column for a query that joins `tenants`: 1 when the tenant has an enabled webhook. */
export const hasEnabledWebhook = sql<number>`exists(select 1 from ${webhooks} where ${webhooks.tenantId} = ${tenants.id} and ${webhooks.enabled} = 1)`;

export async function teamHasWebhooks(db: Db, tenantId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: webhooks.id })
    .from(webhooks)
    .where(and(eq(webhooks.tenantId, tenantId), eq(webhooks.enabled, true)))
    .limit(1);
  return row !== undefined;
}
