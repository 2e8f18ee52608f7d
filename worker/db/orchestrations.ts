// Orchestrations of one tenant, with their recent versions kept so executions can pin the one they ran.
// The header row holds the current version; orchestration_versions holds the newest definitions saved
// and any a live run pinned (orchestration-versions.ts prunes the rest on update).
import { and, asc, eq, like, sql } from "drizzle-orm";
import type { z } from "zod";
import { newId } from "../auth/crypto";
import { conflict, invalid, notFound, uniqueViolation } from "../errors";
import type { Limits } from "../limits";
import { type FieldIssue, formatPath } from "../schemas/common";
import {
  definitionWarnings,
  hasOrchestrationSteps,
  type OrchestrationRef,
} from "../schemas/definition-warnings";
import {
  type OrchestrationDefinition,
  type OrchestrationInput,
  type orchestrationUpdateSchema,
  validateDefinition,
} from "../schemas/orchestration";
import type { Page } from "../schemas/page";
import { tenantLimits } from "./accounts";
import type { Actor, Db } from "./client";
import { listVersions, missingVersion, pruneVersions } from "./orchestration-versions";
import { after, cursorKey, type PageRequest, pageOf } from "./paging";
import { countBelow, countOf, insertWhere, quotaExceeded } from "./quota";
import type { RoleStore } from "./roles";
import { orchestrations, orchestrationVersions } from "./schema";

export interface Orchestration extends OrchestrationDefinition {
  id: string;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  /** References that do not resolve yet (missing roles or orchestrations, unknown context keys); never blocking. */
  warnings: FieldIssue[];
}

export interface OrchestrationVersionSummary {
  version: number;
  createdBy: string;
  createdAt: string;
}

type Updates = z.infer<typeof orchestrationUpdateSchema>["updates"];

function parseOrThrow(definition: unknown, at: string[]): OrchestrationDefinition {
  const parsed = validateDefinition(definition);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((i) => ({ path: formatPath([...at, ...i.path]), message: i.message })),
    );
  }
  return parsed.data;
}

export class OrchestrationStore {
  constructor(
    private readonly db: Db,
    private readonly actor: Actor,
    private readonly roles: RoleStore,
    /** The tenant's limits (TenantData passes its once-per-request read). */
    private readonly limits: () => Promise<Limits> = () => tenantLimits(db, actor.tenantId),
  ) {}

  private get scope() {
    return eq(orchestrations.tenantId, this.actor.tenantId);
  }

  /** Header rows joined with the definition of their current version. */
  private selectCurrent() {
    return this.db
      .select({ header: orchestrations, definition: orchestrationVersions.definition })
      .from(orchestrations)
      .innerJoin(
        orchestrationVersions,
        and(
          eq(orchestrationVersions.orchestrationId, orchestrations.id),
          eq(orchestrationVersions.version, orchestrations.version),
        ),
      );
  }

  private async withWarnings(
    rows: { header: typeof orchestrations.$inferSelect; definition: unknown }[],
    warnings = true,
  ): Promise<Orchestration[]> {
    if (rows.length === 0) return [];
    const definitions = rows.map((row) => row.definition as OrchestrationDefinition);
    const [roleNames, targets] = warnings
      ? await Promise.all([
          this.roles.names(),
          definitions.some((def) => hasOrchestrationSteps(def.steps)) ? this.references() : [],
        ])
      : [undefined, []];
    return rows.map(({ header }, i) => {
      const def = definitions[i] as OrchestrationDefinition;
      return {
        id: header.id,
        name: header.name,
        description: header.description,
        tags: header.tags,
        isActive: header.isActive,
        steps: def.steps,
        ...(def.budget ? { budget: def.budget } : {}),
        version: header.version,
        createdBy: header.createdBy,
        createdAt: header.createdAt.toISOString(),
        updatedAt: header.updatedAt.toISOString(),
        warnings: roleNames ? definitionWarnings(def, roleNames, targets) : [],
      };
    });
  }

  /** Every orchestration of the tenant as an orchestration step's target (for warnings). */
  private references(): Promise<OrchestrationRef[]> {
    return this.db
      .select({
        id: orchestrations.id,
        name: orchestrations.name,
        version: orchestrations.version,
        isActive: orchestrations.isActive,
      })
      .from(orchestrations)
      .where(this.scope);
  }

  /** By name; a page after `cursor` (the last name and id of the previous page). */
  async list(
    filter: { tags?: string[]; activeOnly?: boolean; search?: string } & PageRequest,
  ): Promise<Page<Orchestration>> {
    const conditions = [this.scope];
    if (filter.activeOnly) conditions.push(eq(orchestrations.isActive, true));
    for (const tag of filter.tags ?? []) {
      conditions.push(
        sql`exists (select 1 from json_each(${orchestrations.tags}) where json_each.value = ${tag})`,
      );
    }
    if (filter.search) {
      conditions.push(
        like(orchestrations.name, sql`${`%${filter.search.replace(/[\\%_]/g, "\\$&")}%`} escape '\\'`),
      );
    }
    const cursor = cursorKey(filter.cursor, "string");
    if (cursor) conditions.push(after("asc", orchestrations.name, orchestrations.id, cursor[0], cursor[1]));
    const rows = await this.selectCurrent()
      .where(and(...conditions))
      .orderBy(asc(orchestrations.name), asc(orchestrations.id))
      .limit(filter.limit + 1);
    const page = pageOf(
      rows,
      filter.limit,
      (row) => [row.header.name, row.header.id],
      (row) => row,
    );
    return { items: await this.withWarnings(page.items), nextCursor: page.nextCursor };
  }

  /**
   * By id or by name; with `version`, the definition as it was at that version. `warnings: false`
   * skips computing them (one query less, for callers that check references themselves).
   */
  async get(nameOrId: string, version?: number, { warnings = true } = {}): Promise<Orchestration> {
    const [row] = await this.selectCurrent()
      .where(
        and(this.scope, sql`(${orchestrations.id} = ${nameOrId} or ${orchestrations.name} = ${nameOrId})`),
      )
      .orderBy(sql`${orchestrations.id} = ${nameOrId} desc`)
      .limit(1);
    if (!row) throw notFound("orchestration", nameOrId);
    if (version === undefined || version === row.header.version) {
      const [full] = await this.withWarnings([row], warnings);
      if (!full) throw notFound("orchestration", nameOrId);
      return full;
    }
    const [old] = await this.db
      .select()
      .from(orchestrationVersions)
      .where(
        and(
          eq(orchestrationVersions.tenantId, this.actor.tenantId),
          eq(orchestrationVersions.orchestrationId, row.header.id),
          eq(orchestrationVersions.version, version),
        ),
      );
    if (!old) throw missingVersion(row.header, version);
    const def = old.definition as OrchestrationDefinition;
    const [full] = await this.withWarnings([{ header: { ...row.header, ...def, version }, definition: def }]);
    if (!full) throw notFound("orchestration", nameOrId);
    return { ...full, updatedAt: old.createdAt.toISOString() };
  }

  /** Newest first; a page after `cursor` (the last version of the previous page). */
  async versions(orchestrationId: string, page: PageRequest): Promise<Page<OrchestrationVersionSummary>> {
    const header = await this.header(orchestrationId);
    return listVersions(this.db, this.actor.tenantId, header.id, page);
  }

  async create(input: OrchestrationInput): Promise<Orchestration> {
    const definition = parseOrThrow(input, []);
    const id = newId("orc");
    const now = new Date();
    const limits = await this.limits();
    const header = {
      id,
      tenantId: this.actor.tenantId,
      name: definition.name,
      description: definition.description,
      tags: definition.tags,
      isActive: definition.isActive,
      version: 1,
      createdBy: this.actor.principal,
      createdAt: now,
      updatedAt: now,
    };
    const first = {
      orchestrationId: id,
      version: 1,
      tenantId: this.actor.tenantId,
      definition,
      createdBy: this.actor.principal,
      createdAt: now,
    };
    try {
      // One transaction: the header only while under the quota, its first version only with the header.
      const [inserted] = await this.db.batch([
        insertWhere(
          this.db,
          orchestrations,
          header,
          countBelow(orchestrations, this.scope, limits.maxOrchestrations),
        ).returning({ id: orchestrations.id }),
        insertWhere(
          this.db,
          orchestrationVersions,
          first,
          sql`exists (select 1 from ${orchestrations} where ${orchestrations.id} = ${id})`,
        ),
      ]);
      if (inserted.length === 0) {
        const count = await countOf(this.db, orchestrations, this.scope);
        throw quotaExceeded("orchestrations", count, "maxOrchestrations", limits);
      }
    } catch (error) {
      if (uniqueViolation(error)) {
        throw conflict("name", `an orchestration named "${definition.name}" already exists`);
      }
      throw error;
    }
    return this.get(id);
  }

  /** Applies `updates` to the current definition as a new version; concurrent updates cannot both win. */
  async update(orchestrationId: string, updates: Updates, expectedVersion?: number): Promise<Orchestration> {
    const current = await this.get(orchestrationId);
    if (current.id !== orchestrationId) throw notFound("orchestration", orchestrationId);
    if (expectedVersion !== undefined && expectedVersion !== current.version) {
      throw conflict(
        "expectedVersion",
        `is ${expectedVersion}, but the orchestration is at version ${current.version}`,
      );
    }
    const { name, description, tags, isActive, steps } = { ...current, ...updates };
    // budget: null removes it, left out keeps it.
    const budget = updates.budget === undefined ? current.budget : (updates.budget ?? undefined);
    const definition = parseOrThrow(
      { name, description, tags, isActive, steps, ...(budget ? { budget } : {}) },
      ["updates"],
    );
    const version = current.version + 1;
    const now = new Date();
    const { maxVersionsKept } = await this.limits();
    try {
      await this.db.batch([
        // Inserting the version row first makes a concurrent update fail on its primary key.
        this.db.insert(orchestrationVersions).values({
          orchestrationId,
          version,
          tenantId: this.actor.tenantId,
          definition,
          createdBy: this.actor.principal,
          createdAt: now,
        }),
        this.db
          .update(orchestrations)
          .set({ name, description, tags, isActive, version, updatedAt: now })
          .where(
            and(
              this.scope,
              eq(orchestrations.id, orchestrationId),
              eq(orchestrations.version, current.version),
            ),
          ),
        pruneVersions(this.db, this.actor.tenantId, orchestrationId, version, maxVersionsKept),
      ]);
    } catch (error) {
      const columns = uniqueViolation(error);
      if (columns?.includes("orchestrations.name")) {
        throw conflict("updates.name", `an orchestration named "${name}" already exists`);
      }
      if (columns) throw conflict("orchestrationId", "was updated concurrently; fetch it again and retry");
      throw error;
    }
    return this.get(orchestrationId);
  }

  async delete(orchestrationId: string): Promise<{ id: string; deleted: true }> {
    const header = await this.header(orchestrationId);
    await this.db.batch([
      this.db
        .delete(orchestrationVersions)
        .where(
          and(
            eq(orchestrationVersions.tenantId, this.actor.tenantId),
            eq(orchestrationVersions.orchestrationId, header.id),
          ),
        ),
      this.db.delete(orchestrations).where(and(this.scope, eq(orchestrations.id, header.id))),
    ]);
    return { id: header.id, deleted: true };
  }

  private async header(orchestrationId: string) {
    const [row] = await this.db
      .select()
      .from(orchestrations)
      .where(and(this.scope, eq(orchestrations.id, orchestrationId)));
    if (!row) throw notFound("orchestration", orchestrationId);
    return row;
  }
}
