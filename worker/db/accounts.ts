// Tenants, users and sessions: sign-up, login, logout, password change and session lookup. These run
// before a tenant is known, so they are the only queries not scoped by a tenant id; each one is keyed by
// a secret's hash, by the email being authenticated or by the signed-in user's id.
import { and, eq, gt, ne } from "drizzle-orm";
import {
  newId,
  PBKDF2_ITERATIONS,
  pbkdf2Sha256Hex,
  randomBytes,
  sha256Hex,
  timingSafeEqualHex,
  toHex,
} from "../auth/crypto";
import { claimLoginAttempt, forgetLoginFailures } from "../auth/login-backoff";
import { type RateLimit, releaseSlot, takeSlot } from "../auth/rate-limit";
import { RetryLaterError } from "../auth/retry-later";
import { TroupeError, uniqueViolation } from "../errors";
import { type Limits, limitsOf } from "../limits";
import type { Db } from "./client";
import { sessions, tenants, users } from "./schema";
import { hasEnabledWebhook, type TenantFacts } from "./tenant-facts";

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const FAILURE_WINDOW_MS = 15 * 60 * 1000;
const MAX_FAILURES_PER_IP = 50;
const MAX_SIGNUPS_PER_IP_PER_HOUR = 20;

export interface Account {
  user: { id: string; email: string };
  tenant: { id: string; name: string };
}
export interface NewSession extends Account {
  token: string;
  expiresAt: Date;
}

const ipLimit = (ip: string): RateLimit => ({
  bucket: `login-ip:${ip}`,
  max: MAX_FAILURES_PER_IP,
  windowMs: FAILURE_WINDOW_MS,
});
const signupLimit = (ip: string): RateLimit => ({
  bucket: `signup-ip:${ip}`,
  max: MAX_SIGNUPS_PER_IP_PER_HOUR,
  windowMs: 60 * 60 * 1000,
});

/** Takes a slot in the limit, or gives it back and refuses when it is over. */
async function admit(db: Db, limit: RateLimit, now: number, what: string): Promise<void> {
  const wait = await takeSlot(db, limit, now);
  if (wait <= 0) return;
  await releaseSlot(db, limit);
  throw new RetryLaterError(wait, `too many ${what}`);
}

function sessionRow(tenantId: string, userId: string, tokenHash: string, now: number) {
  return { tokenHash, tenantId, userId, createdAt: new Date(now), expiresAt: new Date(now + SESSION_TTL_MS) };
}

/**
 * Creates a tenant, its first user and a session. An email that is already registered gets the same
 * answer (a session-shaped result and a cookie) so sign-up does not tell which emails exist; its token
 * names no session and nothing is written, so the next request asks the visitor to log in. Every
 * attempt counts against the address's sign-up limit, a taken email included.
 */
export async function signup(
  db: Db,
  input: { tenantName: string; email: string; password: string },
  clientIp: string,
  now: number,
): Promise<NewSession> {
  const limit = signupLimit(clientIp);
  await admit(db, limit, now, "sign-ups from this address");
  const tenantId = newId("ten");
  const userId = newId("usr");
  const salt = toHex(randomBytes(16));
  const passwordHash = await pbkdf2Sha256Hex(input.password, salt, PBKDF2_ITERATIONS);
  const token = toHex(randomBytes(32));
  const session = sessionRow(tenantId, userId, await sha256Hex(token), now);
  try {
    await db.batch([
      db.insert(tenants).values({ id: tenantId, name: input.tenantName, createdAt: new Date(now) }),
      db.insert(users).values({
        id: userId,
        tenantId,
        email: input.email,
        passwordHash,
        passwordSalt: salt,
        passwordIterations: PBKDF2_ITERATIONS,
        createdAt: new Date(now),
      }),
      db.insert(sessions).values(session),
    ]);
  } catch (error) {
    if (!uniqueViolation(error)?.includes("users.email")) {
      await releaseSlot(db, limit); // a failure of ours is not the visitor's attempt
      throw error;
    }
    // The email is taken: the batch is one transaction, so nothing was written; answer as below.
  }
  return {
    token,
    expiresAt: session.expiresAt,
    user: { id: userId, email: input.email },
    tenant: { id: tenantId, name: input.tenantName },
  };
}

/**
 * Takes the address's failure slot and the email's turn (exponential back-off), or refuses with the wait.
 * Both stay counted unless the password then proves right: they are the failure counts.
 */
async function admitLogin(db: Db, email: string, clientIp: string, now: number): Promise<RateLimit> {
  const ip = ipLimit(clientIp);
  await admit(db, ip, now, "failed logins from this address");
  const wait = await claimLoginAttempt(db, email, now);
  if (wait > 0) {
    await releaseSlot(db, ip);
    throw new RetryLaterError(wait, "too many failed logins for this email");
  }
  return ip;
}

/** Whether `password` is the user's; hashes even without a user, so the time taken does not tell. */
async function passwordMatches(
  user: { passwordSalt: string; passwordIterations: number; passwordHash: string } | undefined,
  password: string,
): Promise<boolean> {
  const salt = user?.passwordSalt ?? "00".repeat(16);
  const hash = await pbkdf2Sha256Hex(password, salt, user?.passwordIterations ?? PBKDF2_ITERATIONS);
  return user !== undefined && timingSafeEqualHex(hash, user.passwordHash);
}

/** Verifies the password; failures back the email off exponentially and count against the address. */
export async function login(
  db: Db,
  input: { email: string; password: string },
  clientIp: string,
  now: number,
): Promise<NewSession> {
  const ip = await admitLogin(db, input.email, clientIp, now);
  const [row] = await db
    .select({ user: users, tenant: tenants })
    .from(users)
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .where(eq(users.email, input.email));
  if (!(await passwordMatches(row?.user, input.password)) || !row) {
    throw new TroupeError("UNAUTHORIZED", "email or password is incorrect");
  }
  await Promise.all([forgetLoginFailures(db, input.email), releaseSlot(db, ip)]);
  const token = toHex(randomBytes(32));
  const session = sessionRow(row.tenant.id, row.user.id, await sha256Hex(token), now);
  await db.insert(sessions).values(session);
  return {
    token,
    expiresAt: session.expiresAt,
    user: { id: row.user.id, email: row.user.email },
    tenant: { id: row.tenant.id, name: row.tenant.name },
  };
}

/** The signed-in account, with its tenant's facts (read in the same query, so a request pays no more). */
export async function findSession(
  db: Db,
  token: string,
  now: number,
): Promise<(Account & TenantFacts) | undefined> {
  if (!/^[0-9a-f]{64}$/.test(token)) return undefined;
  const tokenHash = await sha256Hex(token);
  const [row] = await db
    .select({ user: users, tenant: tenants, webhooks: hasEnabledWebhook })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .innerJoin(tenants, eq(tenants.id, sessions.tenantId))
    .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, new Date(now))));
  if (!row) return undefined;
  return {
    user: { id: row.user.id, email: row.user.email },
    tenant: { id: row.tenant.id, name: row.tenant.name },
    limits: limitsOf(row.tenant.plan),
    webhooks: Boolean(row.webhooks),
  };
}

export async function endSession(db: Db, token: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.tokenHash, await sha256Hex(token)));
}

/** Ends every session of the user, on every device, the caller's own included. */
export async function endAllSessions(db: Db, userId: string): Promise<number> {
  const ended = await db
    .delete(sessions)
    .where(eq(sessions.userId, userId))
    .returning({ id: sessions.tokenHash });
  return ended.length;
}

/**
 * Replaces the user's password after checking the current one (which backs off like a login, so a
 * stolen session cannot guess it), and ends all the user's other sessions; `keepToken`'s stays.
 */
export async function changePassword(
  db: Db,
  input: { userId: string; email: string; keepToken: string; currentPassword: string; newPassword: string },
  clientIp: string,
  now: number,
): Promise<{ endedSessions: number }> {
  const ip = await admitLogin(db, input.email, clientIp, now);
  const [user] = await db.select().from(users).where(eq(users.id, input.userId));
  if (!(await passwordMatches(user, input.currentPassword))) {
    const message = "is not your current password";
    throw new TroupeError("BAD_REQUEST", `currentPassword: ${message}`, [
      { path: "currentPassword", message },
    ]);
  }
  await Promise.all([forgetLoginFailures(db, input.email), releaseSlot(db, ip)]);
  const salt = toHex(randomBytes(16));
  const passwordHash = await pbkdf2Sha256Hex(input.newPassword, salt, PBKDF2_ITERATIONS);
  const keepHash = await sha256Hex(input.keepToken);
  const [, ended] = await db.batch([
    db
      .update(users)
      .set({ passwordHash, passwordSalt: salt, passwordIterations: PBKDF2_ITERATIONS })
      .where(eq(users.id, input.userId)),
    db
      .delete(sessions)
      .where(and(eq(sessions.userId, input.userId), ne(sessions.tokenHash, keepHash)))
      .returning({ id: sessions.tokenHash }),
  ]);
  return { endedSessions: ended.length };
}

export async function tenantName(db: Db, tenantId: string): Promise<string | undefined> {
  const [row] = await db.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, tenantId));
  return row?.name;
}

/** The limits the tenant runs under: its plan over the defaults (worker/limits.ts). */
export async function tenantLimits(db: Db, tenantId: string): Promise<Limits> {
  const [row] = await db.select({ plan: tenants.plan }).from(tenants).where(eq(tenants.id, tenantId));
  return limitsOf(row?.plan);
}
