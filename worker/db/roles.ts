// Roles of one tenant. The tenant is fixed at construction from the authenticated actor; every query
// below filters by it, so another tenant's role is indistinguishable from one that does not exist.
import { and, asc, eq, inArray, like, or, sql } from "drizzle-orm";
import { newId } from "../auth/crypto";
import { conflict, invalid, notFound, uniqueViolation } from "../errors";
import type { Limits } from "../limits";
import type { ModelEnv } from "../models/gateway";
import { checkRoleModel } from "../models/resolve-role";
import { formatPath } from "../schemas/common";
import type { Page } from "../schemas/page";
import { normalizeRole, type RoleDefinition, type RoleInput, type RoleUpdates } from "../schemas/role";
import { tenantLimits } from "./accounts";
import type { Actor, Db } from "./client";
import { after, cursorKey, type PageRequest, pageOf } from "./paging";
import { countBelow, countOf, insertWhere, quotaExceeded } from "./quota";
import { roles } from "./schema";

export interface Role extends RoleDefinition {
  id: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

type RoleRow = typeof roles.$inferSelect;

function toRole(row: RoleRow): Role {
  return {
    id: row.id,
    ...(row.definition as RoleDefinition),
    name: row.name,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function normalizeOrThrow(
  input: RoleInput | RoleUpdates,
  base?: RoleDefinition,
  at: string[] = [],
): RoleDefinition {
  const result = normalizeRole(input, base);
  if (!result.ok) {
    throw invalid(result.issues.map((i) => ({ path: formatPath([...at, ...i.path]), message: i.message })));
  }
  return result.role;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export class RoleStore {
  constructor(
    private readonly db: Db,
    private readonly actor: Actor,
    /** Which models exist (the platform's part of the catalog); a role naming another is refused. */
    private readonly modelEnv: ModelEnv,
    /** The tenant's limits (TenantData passes its once-per-request read). */
    private readonly limits: () => Promise<Limits> = () => tenantLimits(db, actor.tenantId),
  ) {}

  private get scope() {
    return eq(roles.tenantId, this.actor.tenantId);
  }

  /** By name; a page after `cursor` (the last name and id of the previous page). */
  async list(filter: { search?: string; tool?: string } & PageRequest): Promise<Page<Role>> {
    const conditions = [this.scope];
    if (filter.search) {
      const pattern = `%${escapeLike(filter.search)}%`;
      const match = or(
        like(roles.name, sql`${pattern} escape '\\'`),
        like(sql`json_extract(${roles.definition}, '$.basePrompt')`, sql`${pattern} escape '\\'`),
      );
      if (match) conditions.push(match);
    }
    if (filter.tool) {
      conditions.push(
        sql`exists (select 1 from json_each(${roles.tools}) where json_each.value = ${filter.tool})`,
      );
    }
    const cursor = cursorKey(filter.cursor, "string");
    if (cursor) conditions.push(after("asc", roles.name, roles.id, cursor[0], cursor[1]));
    const rows = await this.db
      .select()
      .from(roles)
      .where(and(...conditions))
      .orderBy(asc(roles.name), asc(roles.id))
      .limit(filter.limit + 1);
    return pageOf(rows, filter.limit, (row) => [row.name, row.id], toRole);
  }

  async get(nameOrId: string): Promise<Role> {
    const [row] = await this.db
      .select()
      .from(roles)
      .where(and(this.scope, or(eq(roles.id, nameOrId), eq(roles.name, nameOrId))))
      .orderBy(sql`${roles.id} = ${nameOrId} desc`)
      .limit(1);
    if (!row) throw notFound("role", nameOrId);
    return toRole(row);
  }

  async getById(roleId: string): Promise<Role> {
    const [row] = await this.db
      .select()
      .from(roles)
      .where(and(this.scope, eq(roles.id, roleId)));
    if (!row) throw notFound("role", roleId);
    return toRole(row);
  }

  /** The roles with these names (missing names are simply absent). */
  async byNames(names: readonly string[]): Promise<Role[]> {
    const found: Role[] = [];
    // D1 binds at most 100 parameters per statement.
    for (let i = 0; i < names.length; i += 90) {
      const rows = await this.db
        .select()
        .from(roles)
        .where(and(this.scope, inArray(roles.name, names.slice(i, i + 90))));
      found.push(...rows.map(toRole));
    }
    return found;
  }

  async names(): Promise<Set<string>> {
    const rows = await this.db.select({ name: roles.name }).from(roles).where(this.scope);
    return new Set(rows.map((r) => r.name));
  }

  async create(input: RoleInput): Promise<Role> {
    const definition = normalizeOrThrow(input);
    await checkRoleModel(this.db, this.actor.tenantId, this.modelEnv, definition);
    const now = new Date();
    const id = newId("rol");
    const limits = await this.limits();
    try {
      const values = {
        id,
        tenantId: this.actor.tenantId,
        name: definition.name,
        definition,
        tools: definition.tools,
        createdBy: this.actor.principal,
        createdAt: now,
        updatedAt: now,
      };
      const [row] = await insertWhere(
        this.db,
        roles,
        values,
        countBelow(roles, this.scope, limits.maxRoles),
      ).returning();
      if (!row) throw quotaExceeded("roles", await countOf(this.db, roles, this.scope), "maxRoles", limits);
      return toRole(row);
    } catch (error) {
      if (uniqueViolation(error)) throw conflict("name", `a role named "${definition.name}" already exists`);
      throw error;
    }
  }

  async update(roleId: string, updates: RoleUpdates): Promise<Role> {
    const current = await this.getById(roleId);
    const definition = normalizeOrThrow(updates, current, ["updates"]);
    // Only a model or maxTokens being set is checked (maxTokens against the model's cap): a role whose
    // provider went away can still be edited otherwise.
    if (updates.hyperparameters?.model !== undefined || updates.hyperparameters?.maxTokens !== undefined)
      await checkRoleModel(this.db, this.actor.tenantId, this.modelEnv, definition, ["updates"]);
    try {
      const [row] = await this.db
        .update(roles)
        .set({ name: definition.name, definition, tools: definition.tools, updatedAt: new Date() })
        .where(and(this.scope, eq(roles.id, roleId)))
        .returning();
      if (!row) throw notFound("role", roleId);
      return toRole(row);
    } catch (error) {
      if (uniqueViolation(error))
        throw conflict("updates.name", `a role named "${definition.name}" already exists`);
      throw error;
    }
  }

  async delete(roleId: string): Promise<{ id: string; deleted: true }> {
    const deleted = await this.db
      .delete(roles)
      .where(and(this.scope, eq(roles.id, roleId)))
      .returning({ id: roles.id });
    if (deleted.length === 0) throw notFound("role", roleId);
    return { id: roleId, deleted: true };
  }
}
