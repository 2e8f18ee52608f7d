// Model providers of one tenant (create, list, update, delete) and the tenant's model catalog for
// resolution. Every query filters by the actor's tenant, so another tenant's provider answers NOT_FOUND
// exactly like one that does not exist. Keys are sealed before they are written and never returned.
import { and, asc, eq } from "drizzle-orm";
import { newId } from "../auth/crypto";
import { conflict, notFound, uniqueViolation } from "../errors";
import type { Limits } from "../limits";
import { openProviderKey, sealProviderKey } from "../providers/key-crypto";
import {
  checkSettings,
  type KeyChange,
  type ProviderEnv,
  type ProviderSettings,
} from "../providers/settings";
import type { Page } from "../schemas/page";
import {
  normalizeModel,
  type ProviderCreateInput,
  type ProviderKind,
  type ProviderModel,
  type ProviderUpdates,
} from "../schemas/provider";
import { tenantLimits } from "./accounts";
import type { Actor, Db } from "./client";
import { after, cursorKey, type PageRequest, pageOf } from "./paging";
import { countBelow, countOf, insertWhere, quotaExceeded } from "./quota";
import { providers } from "./schema";

export interface ProviderSummary {
  id: string;
  name: string;
  kind: ProviderKind;
  baseUrl: string | null;
  /** The last 4 characters of the stored key, or null for a keyless provider; the key is never returned. */
  keyLast4: string | null;
  models: ProviderModel[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** One model of a tenant's provider, as model resolution sees it. */
export interface TenantModel {
  providerId: string;
  providerName: string;
  kind: ProviderKind;
  model: ProviderModel;
}

type ProviderRow = typeof providers.$inferSelect;

function toSummary(row: ProviderRow): ProviderSummary {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    baseUrl: row.baseUrl,
    keyLast4: row.apiKeyLast4,
    models: row.models,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const NO_KEY = { apiKeyCiphertext: null, apiKeyIv: null, apiKeyLast4: null };

function keyChangeOf(apiKey: string | null | undefined): KeyChange {
  if (apiKey === undefined) return { change: "keep" };
  return apiKey === null ? { change: "remove" } : { change: "set", apiKey };
}

export class ProviderStore {
  constructor(
    private readonly db: Db,
    private readonly actor: Actor,
    private readonly env: ProviderEnv,
    /** The tenant's limits, for the maxProviders quota (create reads them itself when not given). */
    private readonly limits: () => Promise<Limits> = () => tenantLimits(db, actor.tenantId),
  ) {}

  private get scope() {
    return eq(providers.tenantId, this.actor.tenantId);
  }

  /** The key columns for a write: sealed under this tenant, bound to this provider's id. */
  private async keyColumns(providerId: string, key: KeyChange) {
    if (key.change === "keep") return {};
    if (key.change === "remove") return NO_KEY;
    const secret = this.env.PROVIDER_KEYS_SECRET ?? "";
    const sealed = await sealProviderKey(secret, this.actor.tenantId, providerId, key.apiKey);
    return { apiKeyCiphertext: sealed.ciphertext, apiKeyIv: sealed.iv, apiKeyLast4: key.apiKey.slice(-4) };
  }

  /** By name; a page after `cursor` (the last name and id of the previous page). */
  async list(page: PageRequest): Promise<Page<ProviderSummary>> {
    const cursor = cursorKey(page.cursor, "string");
    const rows = await this.db
      .select()
      .from(providers)
      .where(
        and(
          this.scope,
          cursor ? after("asc", providers.name, providers.id, cursor[0], cursor[1]) : undefined,
        ),
      )
      .orderBy(asc(providers.name), asc(providers.id))
      .limit(page.limit + 1);
    return pageOf(rows, page.limit, (row) => [row.name, row.id], toSummary);
  }

  private async row(providerId: string): Promise<ProviderRow> {
    const [row] = await this.db
      .select()
      .from(providers)
      .where(and(this.scope, eq(providers.id, providerId)));
    if (!row) throw notFound("provider", providerId);
    return row;
  }

  async create(input: ProviderCreateInput): Promise<ProviderSummary> {
    const settings: ProviderSettings = checkSettings(
      { kind: input.kind, baseUrl: input.baseUrl ?? null, key: keyChangeOf(input.apiKey) },
      undefined,
      this.env,
    );
    const id = newId("prv");
    const now = new Date();
    const limits = await this.limits();
    try {
      const values = {
        id,
        tenantId: this.actor.tenantId,
        name: input.name,
        kind: settings.kind,
        baseUrl: settings.baseUrl,
        ...NO_KEY,
        ...(await this.keyColumns(id, settings.key)),
        models: input.models.map(normalizeModel),
        createdBy: this.actor.principal,
        createdAt: now,
        updatedAt: now,
      };
      const within = countBelow(providers, this.scope, limits.maxProviders);
      const [row] = await insertWhere(this.db, providers, values, within).returning();
      if (!row) {
        const count = await countOf(this.db, providers, this.scope);
        throw quotaExceeded("providers", count, "maxProviders", limits);
      }
      return toSummary(row);
    } catch (error) {
      if (uniqueViolation(error)) throw conflict("name", `a provider named "${input.name}" already exists`);
      throw error;
    }
  }

  async update(providerId: string, updates: ProviderUpdates): Promise<ProviderSummary> {
    const current = await this.row(providerId);
    const settings = checkSettings(
      {
        kind: updates.kind ?? current.kind,
        baseUrl: updates.baseUrl === undefined ? current.baseUrl : updates.baseUrl,
        key: keyChangeOf(updates.apiKey),
      },
      { kind: current.kind, baseUrl: current.baseUrl, hasKey: current.apiKeyCiphertext !== null },
      this.env,
      ["updates"],
    );
    try {
      const [row] = await this.db
        .update(providers)
        .set({
          ...(updates.name !== undefined ? { name: updates.name } : {}),
          kind: settings.kind,
          baseUrl: settings.baseUrl,
          ...(await this.keyColumns(providerId, settings.key)),
          ...(updates.models ? { models: updates.models.map(normalizeModel) } : {}),
          // Strictly later than before, so a key cache keyed by updatedAt always sees the change.
          updatedAt: new Date(Math.max(Date.now(), current.updatedAt.getTime() + 1)),
        })
        .where(and(this.scope, eq(providers.id, providerId)))
        .returning();
      if (!row) throw notFound("provider", providerId);
      return toSummary(row);
    } catch (error) {
      if (uniqueViolation(error))
        throw conflict("updates.name", `a provider named "${updates.name}" already exists`);
      throw error;
    }
  }

  async delete(providerId: string): Promise<{ id: string; deleted: true }> {
    const deleted = await this.db
      .delete(providers)
      .where(and(this.scope, eq(providers.id, providerId)))
      .returning({ id: providers.id });
    if (deleted.length === 0) throw notFound("provider", providerId);
    return { id: providerId, deleted: true };
  }

  /** Every model of every provider of the tenant, providers by name, models in their listed order. */
  async models(): Promise<TenantModel[]> {
    const rows = await this.db
      .select({ id: providers.id, name: providers.name, kind: providers.kind, models: providers.models })
      .from(providers)
      .where(this.scope)
      .orderBy(asc(providers.name));
    return rows.flatMap((row) =>
      row.models.map((model) => ({ providerId: row.id, providerName: row.name, kind: row.kind, model })),
    );
  }

  /** The provider with its key decrypted, for the connection test (never returned to the client). */
  async withKey(providerId: string): Promise<{ provider: ProviderSummary; apiKey: string | undefined }> {
    const row = await this.row(providerId);
    return { provider: toSummary(row), apiKey: await decryptRowKey(row, this.env) };
  }
}

/** A row's key in clear, or undefined when it has none; throws when it has one that does not decrypt. */
export async function decryptRowKey(
  row: Pick<ProviderRow, "id" | "tenantId" | "name" | "apiKeyCiphertext" | "apiKeyIv">,
  env: ProviderEnv,
): Promise<string | undefined> {
  if (row.apiKeyCiphertext === null || row.apiKeyIv === null) return undefined;
  const sealed = { ciphertext: row.apiKeyCiphertext, iv: row.apiKeyIv };
  const key = await openProviderKey(env.PROVIDER_KEYS_SECRET ?? "", row.tenantId, row.id, sealed);
  if (key === undefined)
    throw new Error(
      `the key of provider "${row.name}" cannot be decrypted (was PROVIDER_KEYS_SECRET changed?); set the key again with provider.update`,
    );
  return key;
}
