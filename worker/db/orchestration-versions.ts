// Which stored versions of an orchestration are kept: the newest `maxVersionsKept`, and any version a
// pending or running execution pinned (its index row names it). Runs carry their definition in their own
// storage, so a pruned version only matters to `execute` / `rerun` asking for it by number. Also the
// newest-first listing of the versions stored.
import { and, desc, eq, inArray, lt, lte, notInArray } from "drizzle-orm";
import { isTerminal, RUN_STATUSES } from "../../durable-objects/engine/status";
import { TroupeError } from "../errors";
import type { Db } from "./client";
import { cursorKey, type PageRequest, pageOf } from "./paging";
import { executions, orchestrationVersions } from "./schema";

const LIVE_STATUSES = RUN_STATUSES.filter((status) => !isTerminal(status));

/**
 * Deletes the versions older than the newest `maxVersionsKept` (counting `newestVersion`, and always
 * keeping that one) that no live execution pinned. Meant for the same batch as the update that wrote
 * `newestVersion`, so the check and the delete see the same executions.
 */
export function pruneVersions(
  db: Db,
  tenantId: string,
  orchestrationId: string,
  newestVersion: number,
  maxVersionsKept: number,
) {
  const pinned = db
    .select({ version: executions.orchestrationVersion })
    .from(executions)
    .where(
      and(
        eq(executions.tenantId, tenantId),
        eq(executions.orchestrationId, orchestrationId),
        inArray(executions.status, LIVE_STATUSES),
      ),
    );
  return db
    .delete(orchestrationVersions)
    .where(
      and(
        eq(orchestrationVersions.tenantId, tenantId),
        eq(orchestrationVersions.orchestrationId, orchestrationId),
        lte(orchestrationVersions.version, newestVersion - Math.max(1, maxVersionsKept)),
        notInArray(orchestrationVersions.version, pinned),
      ),
    );
}

/** NOT_FOUND for a version that is not stored: never saved, or pruned (see pruneVersions). */
export function missingVersion(header: { name: string; version: number }, version: number): TroupeError {
  const why =
    version < header.version
      ? `was pruned: only the newest versions (maxVersionsKept) and those a pending or running execution uses are kept`
      : `does not exist yet`;
  return new TroupeError(
    "NOT_FOUND",
    `version ${version} of orchestration "${header.name}" ${why}; "${header.name}" is at version ${header.version}`,
  );
}

/** Newest first; a page after `cursor` (the last version of the previous page). */
export async function listVersions(db: Db, tenantId: string, orchestrationId: string, page: PageRequest) {
  const cursor = cursorKey(page.cursor, "number");
  const rows = await db
    .select({
      version: orchestrationVersions.version,
      createdBy: orchestrationVersions.createdBy,
      createdAt: orchestrationVersions.createdAt,
    })
    .from(orchestrationVersions)
    .where(
      and(
        eq(orchestrationVersions.tenantId, tenantId),
        eq(orchestrationVersions.orchestrationId, orchestrationId),
        cursor ? lt(orchestrationVersions.version, Number(cursor[0])) : undefined,
      ),
    )
    .orderBy(desc(orchestrationVersions.version))
    .limit(page.limit + 1);
  return pageOf(
    rows,
    page.limit,
    (r) => [r.version, orchestrationId],
    (r) => ({ ...r, createdAt: r.createdAt.toISOString() }),
  );
}
