// API keys of one tenant (create, list, revoke) and the lookup that turns a bearer key into a tenant.
// Only a key's SHA-256 is stored; the key itself is returned once, by create.
import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import { generateApiKey, hasValidApiKeyShape } from "../auth/api-key-format";
import { newId, sha256Hex, timingSafeEqualHex } from "../auth/crypto";
import { conflict, notFound, uniqueViolation } from "../errors";
import type { Actor, Db } from "./client";
import { apiKeys } from "./schema";

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
  };
}

export class ApiKeyStore {
  constructor(
    private readonly db: Db,
    private readonly actor: Actor,
  ) {}

  async create(name: string): Promise<ApiKeySummary & { key: string }> {
    const { key, prefix } = generateApiKey();
    try {
      const [row] = await this.db
        .insert(apiKeys)
        .values({
          id: newId("key"),
          tenantId: this.actor.tenantId,
          name,
          prefix,
          keyHash: await sha256Hex(key),
          createdBy: this.actor.principal,
          createdAt: new Date(),
        })
        .returning();
      if (!row) throw new Error("insert returned no row");
      return { ...toSummary(row), key };
    } catch (error) {
      if (uniqueViolation(error)) throw conflict("name", `an API key named "${name}" already exists`);
      throw error;
    }
  }

  async list(): Promise<ApiKeySummary[]> {
    const rows = await this.db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.tenantId, this.actor.tenantId))
      .orderBy(desc(apiKeys.createdAt));
    return rows.map(toSummary);
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
  | { ok: true; tenantId: string; keyId: string; keyName: string; touch?: Promise<unknown> }
  | { ok: false; reason: string };

/** Resolves a bearer key; refuses a malformed one before any database access. */
export async function findApiKey(db: Db, key: string, now: number): Promise<KeyLookup> {
  if (!hasValidApiKeyShape(key))
    return { ok: false, reason: "the API key is malformed (check that it was copied whole)" };
  const keyHash = await sha256Hex(key);
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.keyHash, keyHash));
  if (!row || !timingSafeEqualHex(row.keyHash, keyHash) || row.revokedAt) {
    return { ok: false, reason: "the API key is unknown or revoked" };
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
  return { ok: true, tenantId: row.tenantId, keyId: row.id, keyName: row.name, ...(touch ? { touch } : {}) };
}
