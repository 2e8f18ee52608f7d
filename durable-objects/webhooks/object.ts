// The webhook dispatcher: one Durable Object per tenant. An execution hands it an event (from its outbox,
// at least once); it finds the tenant's webhooks the event matches, keeps one delivery per webhook under
// a stable id (so a repeated hand-off is a no-op), and POSTs each until it is delivered, fails for good,
// or 24 h have passed. Its one alarm is derived from the deliveries it stores; every attempt is in D1.
//   PERSISTED CONTRACT v1 — keys: "pending:<delivery id>"  PendingDelivery (removed once settled)
import { DurableObject } from "cloudflare:workers";
import { openDb } from "../../worker/db/client";
import type { Env } from "../../worker/env";
import { openProviderKey } from "../../worker/providers/key-crypto";
import type { DeliveryStatus, WebhookEventType } from "../../worker/schemas/webhook";
import { ConnectionGate } from "../execution/connection-gate";
import type { Result } from "../execution/rpc";
import { nextAttemptAt } from "./backoff";
import type { WebhookEvent } from "./event";
import { errorOf, postDelivery, verdictOf } from "./post";
import {
  deliveryExists,
  deliveryRow,
  enabledWebhooks,
  type HookTarget,
  insertDelivery,
  matches,
  recordAttempt,
  settleDelivery,
  webhookForAttempt,
} from "./records";

export interface PendingDelivery {
  deliveryId: string;
  tenantId: string;
  webhookId: string;
  eventType: WebhookEventType;
  /** The exact bytes every attempt sends. */
  body: string;
  /** Attempts made so far (the next is numbered one more). */
  attempts: number;
  /** When the retry window started (the first attempt, or a redelivery); absent before the first. */
  firstAttemptAt?: number;
  nextAt: number;
}

export interface AttemptSummary {
  attempt: number;
  status: DeliveryStatus;
  statusCode: number | null;
  error: string | null;
  nextAttemptAt: number | null;
}

/** Re-armed before the work of an alarm, so a crashed invocation is picked up again this soon. */
const WATCHDOG_MS = 60_000;
/** A D1 failure while recording an attempt: the delivery is tried again this much later. */
const RECORD_RETRY_MS = 30_000;
/** Deliveries attempted per alarm invocation (each may take up to the 10 s timeout); more re-arm at once. */
const MAX_ATTEMPTS_PER_ALARM = 60;
/** The tenant's webhook list is read again after this long, or at once after a change through the API. */
const HOOKS_CACHE_MS = 60_000;

const keyOf = (deliveryId: string) => `pending:${deliveryId}`;

/** A delivery's id, from its webhook and event: the same pair always gives the same id. */
export async function deliveryIdOf(webhookId: string, eventId: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${webhookId}\n${eventId}`));
  const hex = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `whd_${hex.slice(0, 32)}`;
}

export class WebhookDispatcher extends DurableObject<Env> {
  private readonly db = openDb(this.env.DB);
  /** Production's six outgoing connections per object (POSTs and D1 alike). */
  private readonly gate = new ConnectionGate();
  /** Deliveries with an attempt on its way in this instance. */
  private readonly inFlight = new Set<string>();
  private hooks: { readAt: number; rows: HookTarget[] } | undefined;

  /** Stores a delivery per matching webhook (before it answers) and arms the alarm to send them. */
  async enqueue(tenantId: string, event: WebhookEvent): Promise<Result<{ deliveryIds: string[] }>> {
    try {
      const targets = (await this.webhooksOf(tenantId)).filter((hook) => matches(hook, event));
      const body = JSON.stringify(event);
      const now = Date.now();
      const deliveryIds: string[] = [];
      for (const hook of targets) {
        const id = await deliveryIdOf(hook.id, event.id);
        const stored = await this.ctx.storage.get<PendingDelivery>(keyOf(id));
        // No pending record but a row: delivered or failed already, this is a repeated hand-off.
        if (!stored && (await this.gate.run(() => deliveryExists(this.db, id)))) continue;
        if (!stored) {
          const pending: PendingDelivery = {
            deliveryId: id,
            tenantId,
            webhookId: hook.id,
            eventType: event.type,
            body,
            attempts: 0,
            nextAt: now,
          };
          await this.ctx.storage.put(keyOf(id), pending);
        }
        const delivery = { id, tenantId, webhookId: hook.id, event, body, nextAttemptAt: now };
        try {
          await this.gate.run(() => insertDelivery(this.db, delivery));
        } catch (error) {
          if (!/FOREIGN KEY/i.test(String((error as Error).message ?? error))) throw error;
          // The webhook was deleted after the list was read: nothing is owed to it.
          await this.ctx.storage.delete(keyOf(id));
          this.hooks = undefined;
          continue;
        }
        deliveryIds.push(id);
      }
      if (deliveryIds.length > 0) await this.armNoLaterThan(now);
      return { ok: true, value: { deliveryIds } };
    } catch (error) {
      return { ok: false, error: `webhooks not reached: ${(error as Error).message}` };
    }
  }

  /** A webhook was created, changed or deleted: the next event reads the list again. */
  async webhooksChanged(): Promise<void> {
    this.hooks = undefined;
  }

  /** A new attempt of a delivery now, with its body as first sent; a new 24 h retry window if it fails. */
  async redeliver(tenantId: string, deliveryId: string): Promise<Result<AttemptSummary>> {
    const row = await this.gate.run(() => deliveryRow(this.db, tenantId, deliveryId));
    if (!row) return { ok: false, code: "NOT_FOUND", error: `delivery "${deliveryId}" was not found` };
    if (this.inFlight.has(deliveryId))
      return {
        ok: false,
        code: "CONFLICT",
        error: "an attempt of this delivery is on its way; try again in a moment",
      };
    const now = Date.now();
    const pending: PendingDelivery = {
      deliveryId,
      tenantId,
      webhookId: row.webhookId,
      eventType: row.eventType,
      body: row.body,
      attempts: row.attempts,
      firstAttemptAt: now,
      nextAt: now,
    };
    await this.ctx.storage.put(keyOf(deliveryId), pending);
    const summary = await this.attempt(pending);
    await this.armAlarm();
    return { ok: true, value: summary };
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
    const now = Date.now();
    const due = [...(await this.pending()).values()]
      .filter((pending) => pending.nextAt <= now && !this.inFlight.has(pending.deliveryId))
      .sort((a, b) => a.nextAt - b.nextAt)
      .slice(0, MAX_ATTEMPTS_PER_ALARM);
    // Each attempt takes its connections from the gate, so at most six are open at once.
    await Promise.all(due.map((pending) => this.attempt(pending)));
    await this.armAlarm();
  }

  /** One POST and its record; the stored delivery is then updated (or removed once settled). */
  private async attempt(pending: PendingDelivery): Promise<AttemptSummary> {
    this.inFlight.add(pending.deliveryId);
    try {
      return await this.attemptOnce(pending);
    } catch (error) {
      // D1 could not record it: the delivery stays owed and is tried again a little later.
      console.error(`webhook delivery ${pending.deliveryId}: ${(error as Error).message}`);
      const nextAt = Date.now() + RECORD_RETRY_MS;
      await this.ctx.storage.put(keyOf(pending.deliveryId), { ...pending, nextAt });
      const error_ = `not recorded, tried again soon: ${(error as Error).message}`;
      return {
        attempt: pending.attempts,
        status: "pending",
        statusCode: null,
        error: error_,
        nextAttemptAt: nextAt,
      };
    } finally {
      this.inFlight.delete(pending.deliveryId);
    }
  }

  private async attemptOnce(pending: PendingDelivery): Promise<AttemptSummary> {
    const { tenantId, deliveryId } = pending;
    const hook = await this.gate.run(() => webhookForAttempt(this.db, tenantId, pending.webhookId));
    if (!hook?.enabled) {
      // Deleted (its deliveries went with it) or disabled: nothing more is sent.
      if (hook) await this.gate.run(() => settleDelivery(this.db, tenantId, deliveryId, "failed"));
      await this.ctx.storage.delete(keyOf(deliveryId));
      const error = hook ? "the webhook is disabled" : "the webhook was deleted";
      return { attempt: pending.attempts, status: "failed", statusCode: null, error, nextAttemptAt: null };
    }
    const sealed = { ciphertext: hook.secretCiphertext, iv: hook.secretIv };
    const secret = await openProviderKey(this.env.PROVIDER_KEYS_SECRET ?? "", tenantId, hook.id, sealed);
    if (secret === undefined)
      throw new Error("the signing secret does not decrypt (was PROVIDER_KEYS_SECRET changed?)");
    const startedAt = Date.now();
    const firstAttemptAt = pending.firstAttemptAt ?? startedAt;
    const request = { url: hook.url, secret, deliveryId, eventType: pending.eventType, body: pending.body };
    const result = await this.gate.run(() => postDelivery(request));
    const attempt = pending.attempts + 1;
    const verdict = verdictOf(result);
    const retryAfter = result.kind === "response" ? result.retryAfterMs : undefined;
    const next =
      verdict === "retry"
        ? nextAttemptAt(firstAttemptAt, Date.now(), attempt, Math.random(), retryAfter)
        : undefined;
    const status: DeliveryStatus =
      verdict === "delivered" ? "delivered" : next === undefined ? "failed" : "pending";
    let error = errorOf(result);
    if (verdict === "retry" && next === undefined)
      error = `${error}; retries stop 24 h after the first attempt`;
    await this.gate.run(() =>
      recordAttempt(this.db, {
        tenantId,
        deliveryId,
        attempt,
        statusCode: result.kind === "response" ? result.status : null,
        durationMs: result.durationMs,
        responseExcerpt: result.kind === "response" ? result.excerpt : null,
        error,
        status,
        nextAttemptAt: next ?? null,
      }),
    );
    if (next === undefined) await this.ctx.storage.delete(keyOf(deliveryId));
    else
      await this.ctx.storage.put(keyOf(deliveryId), {
        ...pending,
        attempts: attempt,
        firstAttemptAt,
        nextAt: next,
      });
    const statusCode = result.kind === "response" ? result.status : null;
    return { attempt, status, statusCode, error, nextAttemptAt: next ?? null };
  }

  private async webhooksOf(tenantId: string): Promise<HookTarget[]> {
    const now = Date.now();
    if (!this.hooks || now - this.hooks.readAt > HOOKS_CACHE_MS) {
      const rows = await this.gate.run(() => enabledWebhooks(this.db, tenantId));
      this.hooks = { readAt: now, rows };
    }
    return this.hooks.rows;
  }

  private pending(): Promise<Map<string, PendingDelivery>> {
    return this.ctx.storage.list<PendingDelivery>({ prefix: "pending:" });
  }

  /** The one alarm: the earliest stored delivery's next attempt, none when nothing is owed. */
  private async armAlarm(): Promise<void> {
    let earliest: number | undefined;
    for (const pending of (await this.pending()).values())
      earliest = earliest === undefined ? pending.nextAt : Math.min(earliest, pending.nextAt);
    if (earliest === undefined) return this.ctx.storage.deleteAlarm();
    // Never already due: an alarm set for a past time from inside alarm() may not fire (workerd#6866).
    await this.ctx.storage.setAlarm(Math.max(earliest, Date.now() + 1));
  }

  private async armNoLaterThan(at: number): Promise<void> {
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > at) await this.ctx.storage.setAlarm(at);
  }
}
