// Deleting a team: at once nobody can sign in or use a key (its users, sessions and API keys go, and the
// tenant is marked deleted); the cron then removes its executions' objects and rows in batches and,
// when none is left, the tenant row, which takes every other row of the team with it (foreign keys
// cascade). See durable-objects/execution/retention.ts.
import { eq } from "drizzle-orm";
import { TroupeError } from "../errors";
import type { Db } from "./client";
import { apiKeys, schedules, tenants, triggers, users, webhooks } from "./schema";

export async function deleteTenant(
  db: Db,
  tenantId: string,
  confirmName: string,
  now: number,
): Promise<{ deleted: true }> {
  const [tenant] = await db.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, tenantId));
  if (!tenant) throw new TroupeError("NOT_FOUND", "the team does not exist");
  if (tenant.name !== confirmName)
    throw new TroupeError("BAD_REQUEST", "type the team's name exactly to confirm", [
      { path: "confirmName", message: `must be the team's name, "${tenant.name}"` },
    ]);
  await db.batch([
    db
      .update(tenants)
      .set({ deletedAt: new Date(now) })
      .where(eq(tenants.id, tenantId)),
    db.delete(apiKeys).where(eq(apiKeys.tenantId, tenantId)),
    // Nothing may start its runs any more: triggers answer 404, schedules stop (their runs go with them).
    db.delete(triggers).where(eq(triggers.tenantId, tenantId)),
    db.delete(schedules).where(eq(schedules.tenantId, tenantId)),
    // Nothing more is sent to its webhooks (their deliveries and attempts cascade).
    db.delete(webhooks).where(eq(webhooks.tenantId, tenantId)),
    // Sessions go with their users (cascade).
    db.delete(users).where(eq(users.tenantId, tenantId)),
  ]);
  return { deleted: true };
}
