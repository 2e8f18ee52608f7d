// Reaching a tenant's governor (one Durable Object per tenant) from the Worker and from execution
// starts: the request check for tRPC calls, and the admission of an execution that is about to start.
import { TRPCError } from "@trpc/server";
import { RetryLaterError } from "../../worker/auth/retry-later";
import type { Env } from "../../worker/env";
import { TroupeError } from "../../worker/errors";
import type { Admission, RequestVerdict, TenantGovernor } from "./object";

export type GovernorRpc = Pick<
  TenantGovernor,
  | "takeRequest"
  | "admitExecution"
  | "executionEnded"
  | "withdrawAdmission"
  | "runningExecutions"
  | "queuedExecutions"
  | "forgetLimits"
  | "purge"
>;

export function governorStub(env: Pick<Env, "GOVERNORS">, tenantId: string): GovernorRpc {
  return env.GOVERNORS.get(env.GOVERNORS.idFromName(tenantId)) as unknown as GovernorRpc;
}

/** What the request check needs of the tRPC context. */
export interface RequestContext {
  env: Pick<Env, "GOVERNORS">;
  req: Request;
  resHeaders: Headers;
}

/** One verdict per HTTP request: the calls of a tRPC batch share it (and pay one token each). */
const verdicts = new WeakMap<Request, Promise<RequestVerdict>>();

/**
 * Tokens this isolate took from a caller's buckets ahead of its requests, so a busy caller does not cost
 * a governor RPC per call. The lease asked for is what the caller used in the last LEASE_MS, at most
 * MAX_LEASE: a caller making one call a second leases nothing. Tokens are only ever taken from the
 * governor's buckets, so no caller gets past its limits; a lease that expires unspent (at most one
 * window's demand per isolate) is lost, which can refuse a request slightly early, never late.
 */
interface Lease {
  tokens: number;
  expiresAt: number;
  /** Calls served for this caller since the lease was taken: the next lease's size. */
  used: number;
}
const LEASE_MS = 1_000;
const MAX_LEASE = 20;
const MAX_LEASES = 1_000;
const leases = new Map<string, Lease>();
/** Callers with a lease being asked for: concurrent requests then ask for their own cost only. */
const asking = new Set<string>();

function fromLease(key: string, cost: number, now: number): boolean {
  const lease = leases.get(key);
  if (!lease || lease.expiresAt <= now || lease.tokens < cost) return false;
  lease.tokens -= cost;
  lease.used += cost;
  return true;
}

async function fromGovernor(ctx: RequestContext, tenantId: string, principal: string, cost: number) {
  const key = `${tenantId} ${principal}`;
  const previous = leases.get(key);
  const recent = previous && previous.expiresAt > Date.now() - LEASE_MS && !asking.has(key);
  const extra = recent ? Math.min(MAX_LEASE, previous.used) : 0;
  if (extra > 0) asking.add(key);
  const verdict = await governorStub(ctx.env, tenantId)
    .takeRequest({ tenantId, principal, cost, extra })
    .catch((error: Error): RequestVerdict => {
      console.error(`governor of tenant ${tenantId} unreachable, request let through:`, error.message);
      return { ok: true, granted: cost };
    })
    .finally(() => {
      if (extra > 0) asking.delete(key);
    });
  if (!verdict.ok) return verdict;
  const now = Date.now();
  const current = leases.get(key);
  const live = current && current.expiresAt > now ? current : undefined;
  if (!live && leases.size >= MAX_LEASES) leases.clear();
  leases.set(key, {
    tokens: (live?.tokens ?? 0) + verdict.granted - cost,
    expiresAt: live && verdict.granted === cost ? live.expiresAt : now + LEASE_MS,
    used: (live?.used ?? 0) + cost,
  });
  return verdict;
}

/** The calls in a tRPC request: its path names them, comma-separated ("/trpc/a.list,b.get"). */
export function callsIn(url: string): number {
  const path = new URL(url).pathname.replace(/^\/trpc\/?/, "");
  return Math.max(1, path.split(",").length);
}

/**
 * Takes this request's tokens from the tenant's and the caller's buckets; out of tokens, throws
 * TOO_MANY_REQUESTS with a Retry-After header. If the governor cannot be reached the request goes
 * ahead (logged): a rate limit is not worth an outage.
 */
export async function takeRequestTokens(ctx: RequestContext, tenantId: string, principal: string) {
  let verdict = verdicts.get(ctx.req);
  if (!verdict) {
    const cost = callsIn(ctx.req.url);
    verdict = fromLease(`${tenantId} ${principal}`, cost, Date.now())
      ? Promise.resolve({ ok: true, granted: cost })
      : fromGovernor(ctx, tenantId, principal, cost);
    verdicts.set(ctx.req, verdict);
  }
  const result = await verdict;
  if (result.ok) return;
  const seconds = Number.isFinite(result.retryAfterMs)
    ? Math.max(1, Math.ceil(result.retryAfterMs / 1000))
    : 3600;
  ctx.resHeaders.set("Retry-After", String(seconds));
  throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: refusalMessage(result, principal, seconds) });
}

function refusalMessage(refused: Extract<RequestVerdict, { ok: false }>, principal: string, seconds: number) {
  const who =
    refused.scope === "tenant" ? "this team" : principal.startsWith("apiKey:") ? "this API key" : "this user";
  const names =
    refused.scope === "tenant"
      ? "requestsPerSecondPerTenant, requestBurstPerTenant"
      : "requestsPerSecondPerKey, requestBurstPerKey";
  const { perSecond, burst } = refused.rate;
  return `too many requests from ${who}: the limit is ${perSecond} per second, ${burst} at once (${names}); retry after ${seconds} s`;
}

/**
 * Counts an execution about to start against the tenant's maxRunningExecutions, or (`queue`) queues it
 * past the cap, or refuses it with TOO_MANY_REQUESTS; a new run (`countStart`) also against
 * maxExecutionsStartedPerMinute (refused with Retry-After). The same id admitted again (a retried start)
 * is not counted twice. Answers whether it was queued.
 */
export async function admitExecution(
  env: Pick<Env, "GOVERNORS">,
  tenantId: string,
  executionId: string,
  { queue = false, countStart = false } = {},
): Promise<{ queued: boolean; notify: boolean }> {
  const admission = await governorStub(env, tenantId).admitExecution({
    tenantId,
    executionId,
    queue,
    countStart,
  });
  // A queued run is released by the governor, which then needs to hear when it ends.
  if (admission.ok) return { queued: admission.queued, notify: admission.queued || admission.notify };
  if (admission.reason === "per_minute")
    throw new RetryLaterError(admission.retryAfterMs, admissionRefusal(admission));
  throw new TroupeError("TOO_MANY_REQUESTS", admissionRefusal(admission));
}

export function admissionRefusal(refused: Extract<Admission, { ok: false }>): string {
  if (refused.reason === "per_minute")
    return `this team started ${refused.max} executions in the last minute, the most its plan allows (maxExecutionsStartedPerMinute)`;
  const { running, max, queue } = refused;
  if (queue)
    return `the team has ${running} executions running (maxRunningExecutions ${max}) and ${queue.size} queued, the most it may queue (maxQueuedExecutions ${queue.max}); wait for one to end, or cancel one`;
  return `the team has ${running} executions running, the most it may have (maxRunningExecutions ${max}); wait for one to end, or cancel one`;
}
