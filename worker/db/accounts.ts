// Tenants, users and sessions: sign-up, login, logout and session lookup. These run before a tenant is
// known, so they are the only queries not scoped by a tenant id; each one is keyed by a secret's hash
// or by the email being authenticated.
import { and, eq, gt } from "drizzle-orm";
import {
  newId,
  PBKDF2_ITERATIONS,
  pbkdf2Sha256Hex,
  randomBytes,
  sha256Hex,
  timingSafeEqualHex,
  toHex,
} from "../auth/crypto";
import { clearBucket, type RateLimit, releaseSlot, takeSlot } from "../auth/rate-limit";
import { conflict, TroupeError, uniqueViolation } from "../errors";
import { type Limits, limitsOf } from "../limits";
import type { Db } from "./client";
import { sessions, tenants, users } from "./schema";

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const FAILURE_WINDOW_MS = 15 * 60 * 1000;
const MAX_FAILURES_PER_EMAIL = 5;
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

const emailLimit = (email: string): RateLimit => ({
  bucket: `login-email:${email}`,
  max: MAX_FAILURES_PER_EMAIL,
  windowMs: FAILURE_WINDOW_MS,
});
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

function tooMany(waitMs: number, what: string): TroupeError {
  const seconds = Math.ceil(waitMs / 1000);
  return new TroupeError("TOO_MANY_REQUESTS", `too many ${what}; try again in ${seconds} s`);
}

/** Takes a slot in every limit, or gives them all back and refuses when any is over its limit. */
async function admit(db: Db, limits: RateLimit[], now: number, what: string): Promise<void> {
  const wait = Math.max(...(await Promise.all(limits.map((limit) => takeSlot(db, limit, now)))));
  if (wait <= 0) return;
  await Promise.all(limits.map((limit) => releaseSlot(db, limit)));
  throw tooMany(wait, what);
}

function sessionRow(tenantId: string, userId: string, tokenHash: string, now: number) {
  return { tokenHash, tenantId, userId, createdAt: new Date(now), expiresAt: new Date(now + SESSION_TTL_MS) };
}

export async function signup(
  db: Db,
  input: { tenantName: string; email: string; password: string },
  clientIp: string,
  now: number,
): Promise<NewSession> {
  const limit = signupLimit(clientIp);
  await admit(db, [limit], now, "sign-ups from this address");
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
    await releaseSlot(db, limit); // only sign-ups that happened count
    if (uniqueViolation(error)) throw conflict("email", "is already registered; log in instead");
    throw error;
  }
  return {
    token,
    expiresAt: session.expiresAt,
    user: { id: userId, email: input.email },
    tenant: { id: tenantId, name: input.tenantName },
  };
}

/** Verifies the password; failures are counted per email and per IP, and refused once over the limit. */
export async function login(
  db: Db,
  input: { email: string; password: string },
  clientIp: string,
  now: number,
): Promise<NewSession> {
  // The slots taken here stay taken if the password is wrong: they are the failure count.
  const limits = { email: emailLimit(input.email), ip: ipLimit(clientIp) };
  await admit(db, [limits.email, limits.ip], now, "failed logins");

  const [row] = await db
    .select({ user: users, tenant: tenants })
    .from(users)
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .where(eq(users.email, input.email));
  // Hash even for an unknown email so the response time does not tell which emails exist.
  const salt = row?.user.passwordSalt ?? "00".repeat(16);
  const hash = await pbkdf2Sha256Hex(input.password, salt, row?.user.passwordIterations ?? PBKDF2_ITERATIONS);
  if (!row || !timingSafeEqualHex(hash, row.user.passwordHash)) {
    throw new TroupeError("UNAUTHORIZED", "email or password is incorrect");
  }
  await Promise.all([clearBucket(db, limits.email.bucket), releaseSlot(db, limits.ip)]);
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

export async function findSession(db: Db, token: string, now: number): Promise<Account | undefined> {
  if (!/^[0-9a-f]{64}$/.test(token)) return undefined;
  const tokenHash = await sha256Hex(token);
  const [row] = await db
    .select({ user: users, tenant: tenants })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .innerJoin(tenants, eq(tenants.id, sessions.tenantId))
    .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, new Date(now))));
  if (!row) return undefined;
  return {
    user: { id: row.user.id, email: row.user.email },
    tenant: { id: row.tenant.id, name: row.tenant.name },
  };
}

export async function endSession(db: Db, token: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.tokenHash, await sha256Hex(token)));
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
