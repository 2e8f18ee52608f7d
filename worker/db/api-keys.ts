// API keys of one tenant (create, list, revoke) and the lookup that turns a bearer key into a tenant and
// the scopes it holds. Only a key's SHA-256 is stored; the key itself is returned once, by create.
import { and, desc, eq, gt, isNull, lt, or, type SQL } from "drizzle-orm";
import { generateApiKey, hasValidApiKeyShape } from "../auth/api-key-format";
import { newId, sha256Hex, timingSafeEqualHex } from "../auth/crypto";
import { conflict, notFound, uniqueViolation } from "../errors";
import { API_KEY_SCOPES, type ApiKeyScope, type Limits, limitsOf } from "../limits";
import type { Page } from "../schemas/page";
import { tenantLimits } from "./accounts";
import type { Actor, Db } from "./client";
import { afterNewest, newestKey, type PageRequest, pageOf } from "./paging";
import { countBelow, countOf, insertWhere, quotaExceeded } from "./quota";
import { apiKeys, tenants } from "./schema";
import { hasEnabledWebhook } from "./tenant-facts";

/** last_used_at is refreshed at most this often, so a busy key does not write on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiKeySummary {
  id: string;
  name: string;
  prefix: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  scopes: ApiKeyScope[];
  /** null: the key never expires. */
  expiresAt: string | null;
}

export interface NewApiKey {
  name: string;
  scopes: ApiKeyScope[];
  expiresAt: Date | null;
}

/** A stored scopes value as a list of known scopes (anything else in the column is ignored). */
function scopesIn(stored: unknown): ApiKeyScope[] {
  return Array.isArray(stored) ? API_KEY_SCOPES.filter((scope) => stored.includes(scope)) : [];
}

function toSummary(row: typeof apiKeys.$inferSelect): ApiKeySummary {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    scopes: scopesIn(row.scopes),
    expiresAt: row.expiresAt?.toISOString() ?? null,
  };
}

export class ApiKeyStore {
  constructor(
    private readonly db: Db,
    private readonly actor: Actor,
    /** The tenant's limits (TenantData passes its once-per-request read). */
    private readonly limits: () => Promise<Limits> = () => tenantLimits(db, actor.tenantId),
  ) {}

  /** The keys that count against maxApiKeys: not revoked, not expired (those only stay for the record). */
  private live(now: Date): SQL {
    return and(
      eq(apiKeys.tenantId, this.actor.tenantId),
      isNull(apiKeys.revokedAt),
      or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
    ) as SQL;
  }

  async create({ name, scopes, expiresAt }: NewApiKey): Promise<ApiKeySummary & { key: string }> {
    const { key, prefix } = generateApiKey();
    const now = new Date();
    const limits = await this.limits();
    try {
      const values = {
        id: newId("key"),
        tenantId: this.actor.tenantId,
        name,
        prefix,
        keyHash: await sha256Hex(key),
        createdBy: this.actor.principal,
        createdAt: now,
        scopes,
        expiresAt,
      };
      const live = this.live(now);
      const [row] = await insertWhere(
        this.db,
        apiKeys,
        values,
        countBelow(apiKeys, live, limits.maxApiKeys),
      ).returning();
      if (!row) throw quotaExceeded("API keys", await countOf(this.db, apiKeys, live), "maxApiKeys", limits);
      return { ...toSummary(row), key };
    } catch (error) {
      if (uniqueViolation(error)) throw conflict("name", `an API key named "${name}" already exists`);
      throw error;
    }
  }

  /** Newest first, revoked and expired keys included; a page after `cursor`. */
  async list(page: PageRequest): Promise<Page<ApiKeySummary>> {
    const rows = await this.db
      .select()
      .from(apiKeys)
      .where(
        and(
          eq(apiKeys.tenantId, this.actor.tenantId),
          afterNewest(page.cursor, apiKeys.createdAt, apiKeys.id),
        ),
      )
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
      .limit(page.limit + 1);
    return pageOf(rows, page.limit, newestKey, toSummary);
  }

  async revoke(apiKeyId: string): Promise<ApiKeySummary> {
    const [row] = await this.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(
        and(eq(apiKeys.tenantId, this.actor.tenantId), eq(apiKeys.id, apiKeyId), isNull(apiKeys.revokedAt)),
      )
      .returning();
    if (row) return toSummary(row);
    const [existing] = await this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, this.actor.tenantId), eq(apiKeys.id, apiKeyId)));
    if (!existing) throw notFound("API key", apiKeyId);
    return toSummary(existing);
  }
}

export type KeyLookup =
  | {
      ok: true;
      tenantId: string;
      keyId: string;
      keyName: string;
      scopes: ApiKeyScope[];
      /** The key's tenant's limits, read with the key. */
      limits: Limits;
      /** Whether the key's tenant has an enabled webhook, read with the key. */
      webhooks: boolean;
      touch?: Promise<unknown>;
    }
  | { ok: false; reason: string };

/** Resolves a bearer key; refuses a malformed one before any database access. */
export async function findApiKey(db: Db, key: string, now: number): Promise<KeyLookup> {
  if (!hasValidApiKeyShape(key))
    return { ok: false, reason: "the API key is malformed (check that it was copied whole)" };
  const keyHash = await sha256Hex(key);
  const [found] = await db
    .select({ key: apiKeys, plan: tenants.plan, webhooks: hasEnabledWebhook })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(eq(apiKeys.keyHash, keyHash));
  if (!found || !timingSafeEqualHex(found.key.keyHash, keyHash) || found.key.revokedAt) {
    return { ok: false, reason: "the API key is unknown or revoked" };
  }
  const row = found.key;
  if (row.expiresAt && row.expiresAt.getTime() <= now) {
    return { ok: false, reason: `the API key expired at ${row.expiresAt.toISOString()}` };
  }
  const stale = !row.lastUsedAt || row.lastUsedAt.getTime() < now - LAST_USED_RESOLUTION_MS;
  const touch = stale
    ? db
        .update(apiKeys)
        .set({ lastUsedAt: new Date(now) })
        .where(
          and(
            eq(apiKeys.id, row.id),
            or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, new Date(now - LAST_USED_RESOLUTION_MS))),
          ),
        )
        .run()
    : undefined;
  const lookup = {
    tenantId: row.tenantId,
    keyId: row.id,
    keyName: row.name,
    scopes: scopesIn(row.scopes),
    limits: limitsOf(found.plan),
    webhooks: Boolean(found.webhooks),
  };
  return { ok: true, ...lookup, ...(touch ? { touch } : {}) };
}
