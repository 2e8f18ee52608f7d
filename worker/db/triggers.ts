// HTTP triggers of one tenant: create (the URL's token and the signing secret are shown to the caller;
// only their hash and sealed copies are stored), list with the URL and the last runs, enable/disable,
// require a signature, rotate, delete. The request path that uses a token is worker/http/triggers.ts.
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { newId } from "../auth/crypto";
import type { Env } from "../env";
import { TroupeError } from "../errors";
import type { Limits } from "../limits";
import type { Page } from "../schemas/page";
import {
  newSigningSecret,
  newTriggerToken,
  openTriggerSecret,
  sealTriggerSecret,
  tokenHash,
} from "../triggers/secrets";
import type { Actor, Db } from "./client";
import { afterNewest, newestKey, type PageRequest, pageOf } from "./paging";
import { countBelow, countOf, insertWhere } from "./quota";
import { executions, orchestrations, triggerRuns, triggers } from "./schema";

/** Runs kept per trigger for "last runs"; older ones are pruned as new ones come. */
export const TRIGGER_RUNS_KEPT = 20;
/** Runs shown with each trigger. */
const LAST_RUNS_SHOWN = 5;

type TriggerRow = typeof triggers.$inferSelect;

export interface LastRun {
  executionId: string;
  status: string | null;
  at: string;
}

export interface TriggerView {
  id: string;
  orchestrationId: string;
  kind: "http";
  enabled: boolean;
  requireSignature: boolean;
  /** `<origin>/triggers/<token>`; empty when the token cannot be opened (PROVIDER_KEYS_SECRET changed). */
  url: string;
  lastTriggeredAt: string | null;
  createdBy: string;
  createdAt: string;
  lastRuns: LastRun[];
}

/** What a create, rotate or update answers: the secret only when it was just made (shown once). */
export interface TriggerIssued {
  trigger: TriggerView;
  url: string;
  secret?: string;
}

export function triggerUrl(origin: string, token: string): string {
  return `${origin}/triggers/${token}`;
}

/** FORBIDDEN naming the limit, as the other count quotas say it (worker/db/quota.ts). */
export function countQuotaExceeded(what: string, current: number, limit: keyof Limits, limits: Limits) {
  return new TroupeError(
    "FORBIDDEN",
    `this team has ${current} ${what}, the most its plan allows (${limit}: ${limits[limit]}); delete one first, or ask the operator to raise ${limit}`,
  );
}

/** NOT_FOUND on `orchestrationId` unless this tenant has that orchestration (by id, not name). */
export async function requireOrchestration(db: Db, tenantId: string, orchestrationId: string) {
  const [row] = await db
    .select({ id: orchestrations.id })
    .from(orchestrations)
    .where(and(eq(orchestrations.tenantId, tenantId), eq(orchestrations.id, orchestrationId)));
  if (!row)
    throw new TroupeError("NOT_FOUND", `orchestration "${orchestrationId}" was not found`, [
      { path: "orchestrationId", message: `no orchestration with id "${orchestrationId}" in this team` },
    ]);
}

export class TriggerStore {
  constructor(
    private readonly db: Db,
    private readonly actor: Actor,
    private readonly env: Pick<Env, "PROVIDER_KEYS_SECRET">,
    private readonly limits: () => Promise<Limits>,
    /** The API's origin, for the URLs. */
    private readonly origin: string,
  ) {}

  private get scope() {
    return eq(triggers.tenantId, this.actor.tenantId);
  }

  async create(input: { orchestrationId: string; requireSignature?: boolean }): Promise<TriggerIssued> {
    await requireOrchestration(this.db, this.actor.tenantId, input.orchestrationId);
    const limits = await this.limits();
    const id = newId("tri");
    const token = newTriggerToken();
    const secret = input.requireSignature ? newSigningSecret() : undefined;
    const sealedToken = await sealTriggerSecret(this.env, this.actor.tenantId, id, "token", token);
    const sealedSecret = secret
      ? await sealTriggerSecret(this.env, this.actor.tenantId, id, "secret", secret)
      : undefined;
    const now = new Date();
    const inserted = await insertWhere(
      this.db,
      triggers,
      {
        id,
        tenantId: this.actor.tenantId,
        orchestrationId: input.orchestrationId,
        kind: "http",
        enabled: true,
        tokenHash: await tokenHash(token),
        tokenCiphertext: sealedToken.ciphertext,
        tokenIv: sealedToken.iv,
        requireSignature: secret !== undefined,
        secretCiphertext: sealedSecret?.ciphertext ?? null,
        secretIv: sealedSecret?.iv ?? null,
        createdBy: this.actor.principal,
        createdAt: now,
        updatedAt: now,
      },
      countBelow(triggers, this.scope, limits.maxTriggers),
    ).returning({ id: triggers.id });
    if (inserted.length === 0) {
      const count = await countOf(this.db, triggers, this.scope);
      throw countQuotaExceeded("triggers", count, "maxTriggers", limits);
    }
    const trigger = await this.get(id);
    return { trigger, url: trigger.url, ...(secret ? { secret } : {}) };
  }

  /** Newest first; a page after `cursor`. */
  async list(filter: { orchestrationId?: string | undefined } & PageRequest): Promise<Page<TriggerView>> {
    const rows = await this.db
      .select()
      .from(triggers)
      .where(
        and(
          this.scope,
          filter.orchestrationId ? eq(triggers.orchestrationId, filter.orchestrationId) : undefined,
          afterNewest(filter.cursor, triggers.createdAt, triggers.id),
        ),
      )
      .orderBy(desc(triggers.createdAt), desc(triggers.id))
      .limit(filter.limit + 1);
    const page = pageOf(rows, filter.limit, newestKey, (row) => row);
    return { items: await this.views(page.items), nextCursor: page.nextCursor };
  }

  async get(id: string): Promise<TriggerView> {
    const [view] = await this.views([await this.row(id)]);
    if (!view) throw this.notFound(id);
    return view;
  }

  /**
   * Enables or disables, requires a signature or stops requiring one. The first time a signature is
   * required a signing secret is made and answered once; requiring it again keeps the secret.
   */
  async update(input: { id: string; enabled?: boolean; requireSignature?: boolean }): Promise<TriggerIssued> {
    const row = await this.row(input.id);
    let secret: string | undefined;
    const set: Partial<TriggerRow> = { updatedAt: new Date() };
    if (input.enabled !== undefined) set.enabled = input.enabled;
    if (input.requireSignature !== undefined) set.requireSignature = input.requireSignature;
    if (input.requireSignature && !row.secretCiphertext) {
      secret = newSigningSecret();
      const sealed = await sealTriggerSecret(this.env, this.actor.tenantId, row.id, "secret", secret);
      set.secretCiphertext = sealed.ciphertext;
      set.secretIv = sealed.iv;
    }
    await this.db
      .update(triggers)
      .set(set)
      .where(and(this.scope, eq(triggers.id, row.id)));
    const trigger = await this.get(row.id);
    return { trigger, url: trigger.url, ...(secret ? { secret } : {}) };
  }

  /** A new URL (the old one answers 404 at once) and, when signatures are required, a new secret. */
  async rotate(id: string): Promise<TriggerIssued> {
    const row = await this.row(id);
    const token = newTriggerToken();
    const sealedToken = await sealTriggerSecret(this.env, this.actor.tenantId, row.id, "token", token);
    const secret = row.requireSignature ? newSigningSecret() : undefined;
    const sealedSecret = secret
      ? await sealTriggerSecret(this.env, this.actor.tenantId, row.id, "secret", secret)
      : undefined;
    await this.db
      .update(triggers)
      .set({
        tokenHash: await tokenHash(token),
        tokenCiphertext: sealedToken.ciphertext,
        tokenIv: sealedToken.iv,
        ...(sealedSecret ? { secretCiphertext: sealedSecret.ciphertext, secretIv: sealedSecret.iv } : {}),
        updatedAt: new Date(),
      })
      .where(and(this.scope, eq(triggers.id, row.id)));
    const trigger = await this.get(row.id);
    return { trigger, url: trigger.url, ...(secret ? { secret } : {}) };
  }

  async delete(id: string): Promise<{ id: string; deleted: true }> {
    const row = await this.row(id);
    await this.db.delete(triggers).where(and(this.scope, eq(triggers.id, row.id)));
    return { id: row.id, deleted: true };
  }

  private notFound(id: string) {
    return new TroupeError("NOT_FOUND", `trigger "${id}" was not found`, [
      { path: "id", message: `no trigger with id "${id}" in this team` },
    ]);
  }

  private async row(id: string): Promise<TriggerRow> {
    const [row] = await this.db
      .select()
      .from(triggers)
      .where(and(this.scope, eq(triggers.id, id)));
    if (!row) throw this.notFound(id);
    return row;
  }

  private async views(rows: TriggerRow[]): Promise<TriggerView[]> {
    if (rows.length === 0) return [];
    const runs = await lastRunsOf(
      this.db,
      rows.map((row) => row.id),
    );
    return Promise.all(
      rows.map(async (row) => {
        const token = await openTriggerSecret(this.env, row.tenantId, row.id, "token", {
          ciphertext: row.tokenCiphertext,
          iv: row.tokenIv,
        });
        return {
          id: row.id,
          orchestrationId: row.orchestrationId,
          kind: row.kind,
          enabled: row.enabled,
          requireSignature: row.requireSignature,
          url: token ? triggerUrl(this.origin, token) : "",
          lastTriggeredAt: row.lastTriggeredAt?.toISOString() ?? null,
          createdBy: row.createdBy,
          createdAt: row.createdAt.toISOString(),
          lastRuns: runs.get(row.id) ?? [],
        };
      }),
    );
  }
}

/** Each trigger's newest runs, with the status its execution's index row has now. */
async function lastRunsOf(db: Db, triggerIds: string[]): Promise<Map<string, LastRun[]>> {
  const rows = await db
    .select({
      triggerId: triggerRuns.triggerId,
      executionId: triggerRuns.executionId,
      createdAt: triggerRuns.createdAt,
      status: executions.status,
    })
    .from(triggerRuns)
    .leftJoin(executions, eq(executions.id, triggerRuns.executionId))
    .where(inArray(triggerRuns.triggerId, triggerIds))
    .orderBy(desc(triggerRuns.createdAt));
  const byTrigger = new Map<string, LastRun[]>();
  for (const row of rows) {
    const list = byTrigger.get(row.triggerId) ?? [];
    if (list.length < LAST_RUNS_SHOWN)
      list.push({ executionId: row.executionId, status: row.status, at: row.createdAt.toISOString() });
    byTrigger.set(row.triggerId, list);
  }
  return byTrigger;
}

/** Records a run a trigger started (a replayed Idempotency-Key adds nothing) and prunes the oldest. */
export async function recordTriggerRun(
  db: Db,
  trigger: { id: string; tenantId: string },
  executionId: string,
  now: number,
): Promise<void> {
  await db.batch([
    db
      .insert(triggerRuns)
      .values({ triggerId: trigger.id, tenantId: trigger.tenantId, executionId, createdAt: new Date(now) })
      .onConflictDoNothing(),
    db
      .update(triggers)
      .set({ lastTriggeredAt: new Date(now) })
      .where(eq(triggers.id, trigger.id)),
    db.delete(triggerRuns).where(
      and(
        eq(triggerRuns.triggerId, trigger.id),
        sql`${triggerRuns.createdAt} < (select created_at from trigger_runs where trigger_id = ${trigger.id}
          order by created_at desc limit 1 offset ${TRIGGER_RUNS_KEPT - 1})`,
      ),
    ),
  ]);
}
