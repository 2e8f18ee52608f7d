// Fixed-window counters in D1: login failures and sign-ups per IP (an email's failures back off instead,
// auth/login-backoff.ts). An attempt takes a slot first, in one atomic upsert, and gives it back if it
// turns out not to count: checking first and recording afterwards would let a burst of parallel attempts
// all pass the check before any is counted.
import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rateLimits } from "../db/schema";

export interface RateLimit {
  bucket: string;
  max: number;
  windowMs: number;
}

/**
 * Counts one attempt. Returns 0 if it is within the limit, else the milliseconds until the window
 * ends; a refused attempt should `releaseSlot` so that only attempts that were let through count.
 */
export async function takeSlot(db: Db, limit: RateLimit, now: number): Promise<number> {
  const windowEnd = new Date(now + limit.windowMs);
  const [row] = await db
    .insert(rateLimits)
    .values({ bucket: limit.bucket, count: 1, windowEndsAt: windowEnd })
    .onConflictDoUpdate({
      target: rateLimits.bucket,
      set: {
        count: sql`case when ${rateLimits.windowEndsAt} <= ${now} then 1 else ${rateLimits.count} + 1 end`,
        windowEndsAt: sql`case when ${rateLimits.windowEndsAt} <= ${now} then ${windowEnd.getTime()} else ${rateLimits.windowEndsAt} end`,
      },
    })
    .returning();
  if (!row || row.count <= limit.max) return 0;
  return Math.max(row.windowEndsAt.getTime() - now, 1);
}

/** Gives back a slot taken by `takeSlot` for an attempt that does not count (refused, or succeeded). */
export async function releaseSlot(db: Db, limit: RateLimit): Promise<void> {
  await db
    .update(rateLimits)
    .set({ count: sql`max(${rateLimits.count} - 1, 0)` })
    .where(eq(rateLimits.bucket, limit.bucket));
}
