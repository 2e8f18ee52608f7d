// The call path's view of a tenant provider: its current endpoint and decrypted key, read from D1 by the
// id the execution pinned. Kept in this isolate's memory for up to a minute (so a fan-out of calls reads
// D1 once), and decrypted again only when the row's updatedAt changed. Keys live only in this memory.
import { and, eq } from "drizzle-orm";
import type { PinnedModel } from "../../durable-objects/engine/types";
import { openDb } from "../db/client";
import { decryptRowKey } from "../db/providers";
import { providers } from "../db/schema";
import type { ProviderKind } from "../schemas/provider";
import type { ProviderEnv } from "./settings";

export const PROVIDER_ACCESS_TTL_MS = 60_000;

export interface ProviderAccess {
  kind: ProviderKind;
  baseUrl: string | null;
  apiKey: string | undefined;
}

interface CachedAccess {
  tenantId: string;
  updatedAt: number;
  loadedAt: number;
  access: ProviderAccess;
}

const cache = new Map<string, CachedAccess>();

export type AccessResult = { ok: true; access: ProviderAccess } | { ok: false; message: string };

async function readRow(db: D1Database, tenantId: string, providerId: string) {
  const [row] = await openDb(db)
    .select()
    .from(providers)
    .where(and(eq(providers.tenantId, tenantId), eq(providers.id, providerId)));
  return row;
}

export async function providerAccess(
  env: ProviderEnv & { DB: D1Database },
  tenantId: string,
  model: PinnedModel,
  now = Date.now(),
): Promise<AccessResult> {
  const providerId = model.providerId ?? "";
  const cached = cache.get(providerId);
  const usable = cached?.tenantId === tenantId;
  if (cached && usable && now - cached.loadedAt < PROVIDER_ACCESS_TTL_MS)
    return { ok: true, access: cached.access };
  const row = await readRow(env.DB, tenantId, providerId);
  if (!row) {
    cache.delete(providerId);
    return {
      ok: false,
      message: `provider "${model.providerName}" no longer exists (it was deleted after this execution started); create it again or change the role's model`,
    };
  }
  const updatedAt = row.updatedAt.getTime();
  if (cached && usable && cached.updatedAt === updatedAt) {
    cache.set(providerId, { ...cached, loadedAt: now });
    return { ok: true, access: cached.access };
  }
  let apiKey: string | undefined;
  try {
    apiKey = await decryptRowKey(row, env);
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  const access = { kind: row.kind, baseUrl: row.baseUrl, apiKey };
  cache.set(providerId, { tenantId, updatedAt, loadedAt: now, access });
  return { ok: true, access };
}
