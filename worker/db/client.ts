// The drizzle handle over D1 and the actor on whose behalf tenant-scoped stores act.
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

/**
 * One handle per D1 binding for the isolate's life: building one walks the whole schema (drizzle's
 * relational config), about a millisecond of CPU that every request and every start paid again. The
 * handle holds no per-request state.
 */
const handles = new WeakMap<D1Database, Db>();

export function openDb(d1: D1Database): Db {
  let db = handles.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    handles.set(d1, db);
  }
  return db;
}

/**
 * Who is acting, derived only from an authenticated session, API key or agent capability.
 * `principal` is recorded as `created_by` ("user:…", "apiKey:…", "role:…").
 */
export interface Actor {
  tenantId: string;
  principal: string;
}
