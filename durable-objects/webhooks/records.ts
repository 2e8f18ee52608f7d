// The dispatcher's D1 access: the tenant's webhooks an event matches, the delivery rows (inserted once:
// the id is stable, so a repeat is ignored) and one row per attempt. Always scoped by tenant id.
import { and, eq, sql } from "drizzle-orm";
import { newId } from "../../worker/auth/crypto";
import type { Db } from "../../worker/db/client";
import { webhookAttempts, webhookDeliveries, webhooks } from "../../worker/db/schema";
import type { DeliveryStatus, WebhookEventType } from "../../worker/schemas/webhook";
import type { WebhookEvent } from "./event";

export interface HookTarget {
  id: string;
  events: WebhookEventType[];
  orchestrationId: string | null;
}

/** The tenant's enabled webhooks (filtered per event by `matches`). */
export async function enabledWebhooks(db: Db, tenantId: string): Promise<HookTarget[]> {
  return db
    .select({ id: webhooks.id, events: webhooks.events, orchestrationId: webhooks.orchestrationId })
    .from(webhooks)
    .where(and(eq(webhooks.tenantId, tenantId), eq(webhooks.enabled, true)));
}

export function matches(hook: HookTarget, event: WebhookEvent): boolean {
  if (!hook.events.includes(event.type)) return false;
  return hook.orchestrationId === null || hook.orchestrationId === event.data.orchestrationId;
}

/** The webhook an attempt posts to (with its sealed secret), or undefined when it was deleted. */
export async function webhookForAttempt(db: Db, tenantId: string, webhookId: string) {
  const [row] = await db
    .select({
      id: webhooks.id,
      url: webhooks.url,
      enabled: webhooks.enabled,
      secretCiphertext: webhooks.secretCiphertext,
      secretIv: webhooks.secretIv,
    })
    .from(webhooks)
    .where(and(eq(webhooks.tenantId, tenantId), eq(webhooks.id, webhookId)));
  return row;
}

export async function deliveryRow(db: Db, tenantId: string, deliveryId: string) {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, deliveryId)));
  return row;
}

export async function deliveryExists(db: Db, deliveryId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.id, deliveryId));
  return row !== undefined;
}

export interface NewDelivery {
  id: string;
  tenantId: string;
  webhookId: string;
  event: WebhookEvent;
  body: string;
  nextAttemptAt: number;
}

/** Inserts the delivery's row unless it is there already (a repeated hand-off). */
export async function insertDelivery(db: Db, delivery: NewDelivery): Promise<void> {
  const now = new Date();
  await db
    .insert(webhookDeliveries)
    .values({
      id: delivery.id,
      tenantId: delivery.tenantId,
      webhookId: delivery.webhookId,
      eventId: delivery.event.id,
      eventType: delivery.event.type,
      executionId: delivery.event.data.executionId,
      body: delivery.body,
      status: "pending",
      nextAttemptAt: new Date(delivery.nextAttemptAt),
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing();
}

export interface AttemptRecord {
  tenantId: string;
  deliveryId: string;
  attempt: number;
  statusCode: number | null;
  durationMs: number;
  responseExcerpt: string | null;
  error: string | null;
  /** What the delivery is after this attempt, and when it is tried next (pending only). */
  status: DeliveryStatus;
  nextAttemptAt: number | null;
}

/** The attempt's row and the delivery's new status, in one batch. */
export async function recordAttempt(db: Db, record: AttemptRecord): Promise<void> {
  const now = new Date();
  await db.batch([
    db.insert(webhookAttempts).values({
      id: newId("wha"),
      tenantId: record.tenantId,
      deliveryId: record.deliveryId,
      attempt: record.attempt,
      statusCode: record.statusCode,
      durationMs: record.durationMs,
      responseExcerpt: record.responseExcerpt,
      error: record.error,
      createdAt: now,
    }),
    db
      .update(webhookDeliveries)
      .set({
        status: record.status,
        attempts: sql`max(${webhookDeliveries.attempts}, ${record.attempt})`,
        nextAttemptAt: record.nextAttemptAt === null ? null : new Date(record.nextAttemptAt),
        updatedAt: now,
      })
      .where(
        and(eq(webhookDeliveries.tenantId, record.tenantId), eq(webhookDeliveries.id, record.deliveryId)),
      ),
  ]);
}

/** A pending delivery ends without an attempt (its webhook was disabled meanwhile). */
export async function settleDelivery(db: Db, tenantId: string, deliveryId: string, status: DeliveryStatus) {
  await db
    .update(webhookDeliveries)
    .set({ status, nextAttemptAt: null, updatedAt: new Date() })
    .where(and(eq(webhookDeliveries.tenantId, tenantId), eq(webhookDeliveries.id, deliveryId)));
}
