// Whether a decision's webhook notices are worth owing: a team with no enabled webhook is owed none, so
// its runs end with nothing in their outbox (no hand-off, no retry alarm). Read from D1 just before the
// commit, or (a run that ends or waits during its own start) told by the start, which read it beside the
// orchestration a moment before; if D1 cannot answer, the notices are kept (the dispatcher decides then).
import type { Env } from "../../worker/env";
import type { ConnectionGate } from "../execution/connection-gate";
import type { OutboxEntry } from "../execution/store";

const ENABLED_WEBHOOK_SQL = "select 1 as found from webhooks where tenant_id = ? and enabled = 1 limit 1";

export async function withoutIdleWebhooks(
  env: Pick<Env, "DB">,
  gate: ConnectionGate,
  tenantId: string,
  owed: OutboxEntry[],
  /** Already known (the start's read); undefined reads D1. */
  known?: boolean,
): Promise<OutboxEntry[]> {
  if (!owed.some((entry) => entry.type === "notify_webhooks")) return owed;
  if (known !== undefined) return known ? owed : owed.filter((entry) => entry.type !== "notify_webhooks");
  try {
    const row = await gate.run(() =>
      env.DB.prepare(ENABLED_WEBHOOK_SQL).bind(tenantId).first<{ found: number }>(),
    );
    return row ? owed : owed.filter((entry) => entry.type !== "notify_webhooks");
  } catch (error) {
    console.error(`webhooks of ${tenantId} not read, notices kept:`, (error as Error).message);
    return owed;
  }
}
