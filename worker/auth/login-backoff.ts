// Per-email exponential back-off for logins, in place of a hard lock that anyone could keep a victim in.
// An attempt claims its turn first, in one atomic upsert that counts it as a failure and pushes the next
// turn out; a correct password then forgets the email's failures. Claiming first means a burst of
// parallel guesses cannot all reach the password check before any of them is counted.
import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { loginBackoff } from "../db/schema";
import { sha256Hex } from "./crypto";

/** Failures that cost nothing: a person mistyping a password twice or three times never waits. */
export const FREE_LOGIN_FAILURES = 3;
/** The longest wait, however many failures: a correct password is never more than this away. */
export const MAX_LOGIN_WAIT_MS = 15 * 60 * 1000;
/** An email's failures are forgotten this long after the last one. */
export const LOGIN_FAILURES_FORGOTTEN_AFTER_MS = 24 * 60 * 60 * 1000;

/** After `failures` consecutive failures the next attempt waits 2^failures seconds (0 for the free ones), capped. */
export function loginWaitMs(failures: number): number {
  if (failures < FREE_LOGIN_FAILURES) return 0;
  return Math.min(MAX_LOGIN_WAIT_MS, 2 ** Math.min(failures, 30) * 1000);
}

/** The same as `loginWaitMs`, as SQL over a failure count expression. */
function waitSql(failures: ReturnType<typeof sql>) {
  return sql`case when ${failures} < ${FREE_LOGIN_FAILURES} then 0
    else min(${MAX_LOGIN_WAIT_MS}, (1 << min(${failures}, 30)) * 1000) end`;
}

async function keyOf(email: string): Promise<string> {
  return sha256Hex(`login:${email}`);
}

/**
 * Claims a login attempt for `email`: 0 when it may go ahead (already counted as a failure), else the
 * milliseconds until it may; a refused attempt is not counted.
 */
export async function claimLoginAttempt(db: Db, email: string, now: number): Promise<number> {
  const emailHash = await keyOf(email);
  const forgotten = sql`${loginBackoff.lastFailureAt} <= ${now - LOGIN_FAILURES_FORGOTTEN_AFTER_MS}`;
  const failures = sql`(case when ${forgotten} then 1 else ${loginBackoff.failures} + 1 end)`;
  const claimed = await db
    .insert(loginBackoff)
    .values({
      emailHash,
      failures: 1,
      lastFailureAt: new Date(now),
      nextAttemptAt: new Date(now + loginWaitMs(1)),
    })
    .onConflictDoUpdate({
      target: loginBackoff.emailHash,
      set: {
        failures,
        lastFailureAt: new Date(now),
        nextAttemptAt: sql`${now} + ${waitSql(failures)}`,
      },
      setWhere: sql`${loginBackoff.nextAttemptAt} <= ${now}`,
    })
    .returning({ failures: loginBackoff.failures });
  if (claimed.length > 0) return 0;
  const [row] = await db
    .select({ nextAttemptAt: loginBackoff.nextAttemptAt })
    .from(loginBackoff)
    .where(eq(loginBackoff.emailHash, emailHash));
  return Math.max((row?.nextAttemptAt.getTime() ?? now) - now, 1);
}

/** A correct password: the email's failures are forgotten. */
export async function forgetLoginFailures(db: Db, email: string): Promise<void> {
  await db.delete(loginBackoff).where(eq(loginBackoff.emailHash, await keyOf(email)));
}
