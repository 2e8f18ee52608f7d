// Whether a decision's webhook notices are worth owing: a team with no enabled webhook is owed none, so
// its runs end with nothing in their outbox (no hand-off, no retry alarm). Read from D1 just before the
// commit; if D1 cannot answer, the notices are kept (the dispatcher decides then).
import type { Env } from "../../worker/env";
import type { ConnectionGate } from "../execution/connection-gate";
import type { OutboxEntry } from "../execution/store";

export async function withoutIdleWebhooks(
  env: Pick<Env, "DB">,
  gate: ConnectionGate,
  tenantId: string,
  owed: OutboxEntry[],
): Promise<OutboxEntry[]> {
  if (!owed.some((entry) => entry.type === "notify_webhooks")) return owed;
  try {
    const row = await gate.run(() =>
      env.DB.prepare("select 1 as found from webhooks where tenant_id = ? and enabled = 1 limit 1")
        .bind(tenantId)
        .first<{ found: number }>(),
    );
    return row ? owed : owed.filter((entry) => entry.type !== "notify_webhooks");
  } catch (error) {
    console.error(`webhooks of ${tenantId} not read, notices kept:`, (error as Error).message);
    return owed;
  }
}
