// A tenant's outbound webhooks (create, list, get, update, delete) and their deliveries with attempts.
// Every query filters by the actor's tenant, so another tenant's webhook or delivery answers NOT_FOUND.
// The signing secret is sealed before it is written and returned once, by create.
import { and, asc, desc, eq, inArray } from "drizzle-orm";
import { newId } from "../auth/crypto";
import { invalid, notFound, TroupeError } from "../errors";
import type { Limits } from "../limits";
import { sealProviderKey } from "../providers/key-crypto";
import type { ProviderEnv } from "../providers/settings";
import type { Page } from "../schemas/page";
import type {
  DeliveryStatus,
  WebhookCreateInput,
  WebhookEventType,
  WebhookUpdateInput,
} from "../schemas/webhook";
import { checkWebhookUrl } from "../webhooks/url";
import type { Actor, Db } from "./client";
import { afterNewest, newestKey, type PageRequest, pageOf } from "./paging";
import { countBelow, countOf, insertWhere } from "./quota";
import { orchestrations, webhookAttempts, webhookDeliveries, webhooks } from "./schema";

export interface WebhookSummary {
  id: string;
  url: string;
  events: WebhookEventType[];
  orchestrationId: string | null;
  enabled: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookAttemptView {
  attempt: number;
  statusCode: number | null;
  durationMs: number;
  /** The first 1 KB of the response body. */
  responseExcerpt: string | null;
  error: string | null;
  at: string;
}

export interface WebhookDeliveryView {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: WebhookEventType;
  executionId: string;
  status: DeliveryStatus;
  attempts: WebhookAttemptView[];
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** The exact body POSTed. */
  body: string;
}

type WebhookRow = typeof webhooks.$inferSelect;

function toSummary(row: WebhookRow): WebhookSummary {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    orchestrationId: row.orchestrationId,
    enabled: row.enabled,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** 32 random bytes, hex: the HMAC key receivers verify Troupe-Signature with. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${[...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

export class WebhookStore {
  constructor(
    private readonly db: Db,
    private readonly actor: Actor,
    private readonly env: ProviderEnv,
    private readonly limits: () => Promise<Limits>,
  ) {}

  private get scope() {
    return eq(webhooks.tenantId, this.actor.tenantId);
  }

  private checkUrl(url: string, path: string): string {
    const checked = checkWebhookUrl(url, this.env.ALLOW_INSECURE_PROVIDER_URLS === "true");
    if (!checked.ok) throw invalid([{ path, message: checked.message }]);
    return checked.url;
  }

  /** NOT_FOUND naming the field when the orchestration is not one of this tenant's. */
  private async checkOrchestration(orchestrationId: string): Promise<void> {
    const [row] = await this.db
      .select({ id: orchestrations.id })
      .from(orchestrations)
      .where(and(eq(orchestrations.tenantId, this.actor.tenantId), eq(orchestrations.id, orchestrationId)));
    if (!row) {
      const message = `no orchestration "${orchestrationId}" in this team`;
      throw new TroupeError("NOT_FOUND", `orchestrationId: ${message}`, [
        { path: "orchestrationId", message },
      ]);
    }
  }

  async create(input: WebhookCreateInput): Promise<WebhookSummary & { secret: string }> {
    const url = this.checkUrl(input.url, "url");
    if (input.orchestrationId !== undefined) await this.checkOrchestration(input.orchestrationId);
    const id = newId("whk");
    const secret = newSecret();
    const sealed = await sealProviderKey(
      this.env.PROVIDER_KEYS_SECRET ?? "",
      this.actor.tenantId,
      id,
      secret,
    );
    const limits = await this.limits();
    const now = new Date();
    const values = {
      id,
      tenantId: this.actor.tenantId,
      url,
      events: input.events,
      orchestrationId: input.orchestrationId ?? null,
      enabled: true,
      secretCiphertext: sealed.ciphertext,
      secretIv: sealed.iv,
      createdBy: this.actor.principal,
      createdAt: now,
      updatedAt: now,
    };
    const within = countBelow(webhooks, this.scope, limits.maxWebhooks);
    const [row] = await insertWhere(this.db, webhooks, values, within).returning();
    if (!row) {
      const count = await countOf(this.db, webhooks, this.scope);
      throw new TroupeError(
        "FORBIDDEN",
        `this team has ${count} webhooks, the most its plan allows (maxWebhooks: ${limits.maxWebhooks}); delete one first, or ask the operator to raise maxWebhooks`,
      );
    }
    return { ...toSummary(row), secret };
  }

  /** Newest first; a page after `cursor` (the last creation time and id of the previous page). */
  async list(page: PageRequest): Promise<Page<WebhookSummary>> {
    const rows = await this.db
      .select()
      .from(webhooks)
      .where(and(this.scope, afterNewest(page.cursor, webhooks.createdAt, webhooks.id)))
      .orderBy(desc(webhooks.createdAt), desc(webhooks.id))
      .limit(page.limit + 1);
    return pageOf(rows, page.limit, newestKey, toSummary);
  }

  async get(id: string): Promise<WebhookSummary> {
    const [row] = await this.db
      .select()
      .from(webhooks)
      .where(and(this.scope, eq(webhooks.id, id)));
    if (!row) throw notFound("webhook", id);
    return toSummary(row);
  }

  async update(input: WebhookUpdateInput): Promise<WebhookSummary> {
    const current = await this.get(input.id);
    const url = input.url === undefined ? undefined : this.checkUrl(input.url, "url");
    if (input.orchestrationId) await this.checkOrchestration(input.orchestrationId);
    const [row] = await this.db
      .update(webhooks)
      .set({
        ...(url !== undefined ? { url } : {}),
        ...(input.events !== undefined ? { events: input.events } : {}),
        ...(input.orchestrationId !== undefined ? { orchestrationId: input.orchestrationId } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        updatedAt: new Date(Math.max(Date.now(), Date.parse(current.updatedAt) + 1)),
      })
      .where(and(this.scope, eq(webhooks.id, input.id)))
      .returning();
    if (!row) throw notFound("webhook", input.id);
    return toSummary(row);
  }

  /** Deletes the webhook with its deliveries and their attempts (foreign keys cascade). */
  async delete(id: string): Promise<{ id: string; deleted: true }> {
    const deleted = await this.db
      .delete(webhooks)
      .where(and(this.scope, eq(webhooks.id, id)))
      .returning({ id: webhooks.id });
    if (deleted.length === 0) throw notFound("webhook", id);
    return { id, deleted: true };
  }

  /** The webhook's deliveries, newest first, each with its attempts in order. */
  async deliveries(webhookId: string, page: PageRequest): Promise<Page<WebhookDeliveryView>> {
    await this.get(webhookId);
    const d = webhookDeliveries;
    const rows = await this.db
      .select()
      .from(d)
      .where(
        and(
          eq(d.tenantId, this.actor.tenantId),
          eq(d.webhookId, webhookId),
          afterNewest(page.cursor, d.createdAt, d.id),
        ),
      )
      .orderBy(desc(d.createdAt), desc(d.id))
      .limit(page.limit + 1);
    const ids = rows.slice(0, page.limit).map((row) => row.id);
    const attempts =
      ids.length === 0
        ? []
        : await this.db
            .select()
            .from(webhookAttempts)
            .where(
              and(
                eq(webhookAttempts.tenantId, this.actor.tenantId),
                inArray(webhookAttempts.deliveryId, ids),
              ),
            )
            .orderBy(asc(webhookAttempts.attempt), asc(webhookAttempts.createdAt));
    const byDelivery = new Map<string, WebhookAttemptView[]>();
    for (const attempt of attempts) {
      const list = byDelivery.get(attempt.deliveryId) ?? [];
      list.push({
        attempt: attempt.attempt,
        statusCode: attempt.statusCode,
        durationMs: attempt.durationMs,
        responseExcerpt: attempt.responseExcerpt,
        error: attempt.error,
        at: attempt.createdAt.toISOString(),
      });
      byDelivery.set(attempt.deliveryId, list);
    }
    return pageOf(rows, page.limit, newestKey, (row) => ({
      id: row.id,
      webhookId: row.webhookId,
      eventId: row.eventId,
      eventType: row.eventType,
      executionId: row.executionId,
      status: row.status,
      attempts: byDelivery.get(row.id) ?? [],
      nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      body: row.body,
    }));
  }

  /** NOT_FOUND unless the delivery is this tenant's. */
  async checkDelivery(deliveryId: string): Promise<void> {
    const [row] = await this.db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, this.actor.tenantId), eq(webhookDeliveries.id, deliveryId)));
    if (!row) throw notFound("delivery", deliveryId);
  }
}
