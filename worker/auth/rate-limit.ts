// Fixed-window failure counters in D1 (login failures per email and per IP, signups per IP).
// One upsert per failure; a check is one indexed read. Counters reset when their window ends.
import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rateLimits } from "../db/schema";

export interface RateLimit {
  bucket: string;
  max: number;
  windowMs: number;
}

/** Milliseconds until the bucket accepts again, or 0 if it is under its limit now. */
export async function retryAfterMs(db: Db, limit: RateLimit, now: number): Promise<number> {
  const [row] = await db.select().from(rateLimits).where(eq(rateLimits.bucket, limit.bucket));
  if (!row || row.windowEndsAt.getTime() <= now || row.count < limit.max) return 0;
  return row.windowEndsAt.getTime() - now;
}

export async function recordHit(db: Db, limit: RateLimit, now: number): Promise<void> {
  const windowEnd = new Date(now + limit.windowMs);
  const current = new Date(now);
  await db
    .insert(rateLimits)
    .values({ bucket: limit.bucket, count: 1, windowEndsAt: windowEnd })
    .onConflictDoUpdate({
      target: rateLimits.bucket,
      set: {
        count: sql`case when ${rateLimits.windowEndsAt} <= ${current.getTime()} then 1 else ${rateLimits.count} + 1 end`,
        windowEndsAt: sql`case when ${rateLimits.windowEndsAt} <= ${current.getTime()} then ${windowEnd.getTime()} else ${rateLimits.windowEndsAt} end`,
      },
    });
}

export async function clearBucket(db: Db, bucket: string): Promise<void> {
  await db.delete(rateLimits).where(eq(rateLimits.bucket, bucket));
}
