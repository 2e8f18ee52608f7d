// The drizzle handle over D1 and the actor on whose behalf tenant-scoped stores act.
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

export function openDb(d1: D1Database): Db {
  return drizzle(d1, { schema });
}

/**
 * Who is acting, derived only from an authenticated session, API key or agent capability.
 * `principal` is recorded as `created_by` ("user:…", "apiKey:…", "role:…").
 */
export interface Actor {
  tenantId: string;
  principal: string;
}
