// Reaching a tenant's governor (one Durable Object per tenant) from the Worker and from execution
// starts: the request check for tRPC calls, and the admission of an execution that is about to start.
import { TRPCError } from "@trpc/server";
import type { Env } from "../../worker/env";
import { TroupeError } from "../../worker/errors";
import type { Admission, RequestVerdict, TenantGovernor } from "./object";

export type GovernorRpc = Pick<
  TenantGovernor,
  | "takeRequest"
  | "admitExecution"
  | "executionEnded"
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
    verdict = governorStub(ctx.env, tenantId)
      .takeRequest({ tenantId, principal, cost })
      .catch((error: Error): RequestVerdict => {
        console.error(`governor of tenant ${tenantId} unreachable, request let through:`, error.message);
        return { ok: true };
      });
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
 * past the cap, or refuses it with TOO_MANY_REQUESTS. The same id admitted again (a retried start) is not
 * counted twice. Answers whether it was queued.
 */
export async function admitExecution(
  env: Pick<Env, "GOVERNORS">,
  tenantId: string,
  executionId: string,
  { queue = false } = {},
): Promise<{ queued: boolean }> {
  const admission = await governorStub(env, tenantId).admitExecution({ tenantId, executionId, queue });
  if (!admission.ok) throw new TroupeError("TOO_MANY_REQUESTS", admissionRefusal(admission));
  return { queued: admission.queued };
}

export function admissionRefusal(refused: Extract<Admission, { ok: false }>): string {
  const { running, max, queue } = refused;
  if (queue)
    return `the team has ${running} executions running (maxRunningExecutions ${max}) and ${queue.size} queued, the most it may queue (maxQueuedExecutions ${queue.max}); wait for one to end, or cancel one`;
  return `the team has ${running} executions running, the most it may have (maxRunningExecutions ${max}); wait for one to end, or cancel one`;
}
