// Per-request tRPC context: the database, the caller's identity (session cookie or bearer API key), and
// response headers for cookies. The tenant is derived here and nowhere else; inputs never carry it.
import type { FetchCreateContextFnOptions } from "@trpc/server/adapters/fetch";
import { type Account, findSession } from "../db/accounts";
import { findApiKey } from "../db/api-keys";
import { openDb } from "../db/client";
import type { TenantFacts } from "../db/tenant-facts";
import type { Env } from "../env";
import type { ApiKeyScope } from "../limits";
import { readSessionCookie } from "./cookies";

export type Caller =
  | { kind: "anonymous" }
  | { kind: "invalid"; reason: string }
  | ({ kind: "user"; sessionToken: string } & Account & TenantFacts)
  | ({
      kind: "apiKey";
      tenantId: string;
      keyId: string;
      keyName: string;
      scopes: readonly ApiKeyScope[];
    } & TenantFacts);

export async function resolveCaller(
  request: Request,
  db: ReturnType<typeof openDb>,
  now: number,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Caller> {
  const authorization = request.headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1])
      return { kind: "invalid", reason: 'the Authorization header must be "Bearer <API key>"' };
    const found = await findApiKey(db, match[1], now);
    if (!found.ok) return { kind: "invalid", reason: found.reason };
    if (found.touch) waitUntil(found.touch);
    const { tenantId, keyId, keyName, scopes, limits, webhooks } = found;
    return { kind: "apiKey", tenantId, keyId, keyName, scopes, limits, webhooks };
  }
  const token = readSessionCookie(request);
  if (!token) return { kind: "anonymous" };
  const account = await findSession(db, token, now);
  if (!account) return { kind: "invalid", reason: "the session has expired or was ended; log in again" };
  return { kind: "user", sessionToken: token, ...account };
}

export function contextFactory(env: Env, keepAlive: (promise: Promise<unknown>) => void) {
  return async ({ req, resHeaders }: FetchCreateContextFnOptions) => {
    const db = openDb(env.DB);
    const now = Date.now();
    const waitUntil = (promise: Promise<unknown>) => keepAlive(promise.catch(() => undefined));
    return {
      env,
      db,
      req,
      resHeaders,
      now,
      waitUntil,
      clientIp: req.headers.get("cf-connecting-ip") ?? "local",
      caller: await resolveCaller(req, db, now, waitUntil),
    };
  };
}

export type Context = Awaited<ReturnType<ReturnType<typeof contextFactory>>>;
