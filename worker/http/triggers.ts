// `POST /triggers/<token>`: an inbound HTTP trigger. Called from anywhere (no same-origin rule; the body
// size limit of worker/http/edge.ts still applies). The JSON body becomes the input of a new execution of
// the trigger's orchestration, started through the same path as tRPC `execute` (startExecution), as the
// principal `trigger:<id>`. Every refusal is `{ error: { code, message, field? } }` and starts nothing.
import { TRPCError } from "@trpc/server";
import { and, eq, isNull } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { startExecution } from "../../durable-objects/execution/start";
import { takeRequestTokens } from "../../durable-objects/governor/client";
import { RetryLaterError } from "../auth/retry-later";
import { openDb } from "../db/client";
import { tenants, triggers } from "../db/schema";
import { TenantData } from "../db/tenant-data";
import { recordTriggerRun, requireOrchestration } from "../db/triggers";
import type { Env } from "../env";
import { type ErrorCode, TroupeError } from "../errors";
import { formatPath } from "../schemas/common";
import { executeSchema } from "../schemas/execution";
import { openTriggerSecret, TRIGGER_TOKEN_PATTERN, tokenHash } from "../triggers/secrets";
import { SIGNATURE_HEADER, verifySignature } from "../webhooks/signature";

export const IDEMPOTENCY_HEADER = "Idempotency-Key";

const STATUS_OF: Record<ErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  TOO_MANY_REQUESTS: 429,
};

class TriggerRefusal extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

function refusalResponse(refusal: TriggerRefusal): Response {
  const headers: Record<string, string> = {};
  if (refusal.retryAfterSeconds !== undefined) headers["retry-after"] = String(refusal.retryAfterSeconds);
  const error = {
    code: refusal.code,
    message: refusal.message,
    ...(refusal.field ? { field: refusal.field } : {}),
  };
  return Response.json({ error }, { status: refusal.status, headers });
}

const UNKNOWN = "no trigger has this URL; it may have been deleted or rotated";

type Trigger = typeof triggers.$inferSelect;

/** The trigger this token names, of a team not deleted; 404 otherwise. */
async function findTrigger(env: Env, token: string): Promise<Trigger> {
  if (!TRIGGER_TOKEN_PATTERN.test(token)) throw new TriggerRefusal(404, "NOT_FOUND", UNKNOWN);
  const db = openDb(env.DB);
  const [row] = await db
    .select({ trigger: triggers })
    .from(triggers)
    .innerJoin(tenants, eq(tenants.id, triggers.tenantId))
    .where(and(eq(triggers.tokenHash, await tokenHash(token)), isNull(tenants.deletedAt)));
  if (!row) throw new TriggerRefusal(404, "NOT_FOUND", UNKNOWN);
  return row.trigger;
}

/** The tenant's request buckets, with this trigger as the caller (its own bucket): 429 + Retry-After. */
async function takeTokens(c: Context<{ Bindings: Env }>, trigger: Trigger): Promise<void> {
  const resHeaders = new Headers();
  try {
    await takeRequestTokens(
      { env: c.env, req: c.req.raw, resHeaders },
      trigger.tenantId,
      `trigger:${trigger.id}`,
    );
  } catch (error) {
    if (!(error instanceof TRPCError) || error.code !== "TOO_MANY_REQUESTS") throw error;
    const seconds = Number(resHeaders.get("retry-after") ?? "1");
    throw new TriggerRefusal(
      429,
      "TOO_MANY_REQUESTS",
      `too many requests to this trigger or this team (requestsPerSecondPerKey, requestsPerSecondPerTenant); retry after ${seconds} s`,
      undefined,
      seconds,
    );
  }
}

async function checkSignature(
  env: Env,
  trigger: Trigger,
  header: string | undefined,
  body: string,
  now: number,
) {
  if (!trigger.requireSignature) return;
  const secret =
    trigger.secretCiphertext && trigger.secretIv
      ? await openTriggerSecret(env, trigger.tenantId, trigger.id, "secret", {
          ciphertext: trigger.secretCiphertext,
          iv: trigger.secretIv,
        })
      : undefined;
  if (!secret)
    throw new TriggerRefusal(401, "UNAUTHORIZED", "this trigger's signing secret cannot be read; rotate it");
  const check = await verifySignature(secret, header, body, Math.floor(now / 1000));
  if (!check.ok) throw new TriggerRefusal(401, "UNAUTHORIZED", check.reason, SIGNATURE_HEADER);
}

/** Only JSON is accepted (or no content type at all): anything else is refused before the body is read. */
function checkContentType(contentType: string | undefined): void {
  const type = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase();
  if (type && type !== "application/json" && !type.endsWith("+json"))
    throw new TriggerRefusal(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      `send the body as application/json, not "${type}"`,
      "body",
    );
}

/** The body as the execution's input: empty is `{}`; anything else must be JSON. */
function parseBody(body: string): unknown {
  if (body.trim() === "") return {};
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new TriggerRefusal(
      400,
      "BAD_REQUEST",
      `the body is not valid JSON: ${(error as Error).message}`,
      "body",
    );
  }
}

/** The start request, checked by the same schema as tRPC `execute` (input size, key length). */
function startRequest(trigger: Trigger, input: unknown, key: string | undefined) {
  const parsed = executeSchema.safeParse({
    orchestrationId: trigger.orchestrationId,
    input,
    ...(key === undefined ? {} : { idempotencyKey: key }),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at =
      issue?.path[0] === "idempotencyKey"
        ? IDEMPOTENCY_HEADER
        : `body${formatPath(issue?.path.slice(1) ?? []).replace(/^(?=\w)/, ".")}`;
    throw new TriggerRefusal(400, "BAD_REQUEST", `${at}: ${issue?.message ?? "is invalid"}`, at);
  }
  // Scoped to the trigger: two triggers (or a trigger and an API caller) sending the same key do not collide.
  const { idempotencyKey, ...rest } = parsed.data;
  return {
    ...rest,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey: `trigger:${trigger.id}:${idempotencyKey}` }),
  };
}

function fromDomainError(error: unknown): TriggerRefusal {
  if (error instanceof TriggerRefusal) return error;
  if (error instanceof TroupeError) {
    const field = error.issues[0]?.path;
    const retry = error instanceof RetryLaterError ? error.retryAfterSeconds : undefined;
    return new TriggerRefusal(STATUS_OF[error.code], error.code, error.message, field || undefined, retry);
  }
  console.error("trigger: start failed:", (error as Error).message);
  return new TriggerRefusal(500, "INTERNAL_SERVER_ERROR", "internal error; it has been logged");
}

async function handle(c: Context<{ Bindings: Env }>): Promise<Response> {
  const now = Date.now();
  try {
    const trigger = await findTrigger(c.env, c.req.param("token") ?? "");
    if (!trigger.enabled)
      throw new TriggerRefusal(
        409,
        "CONFLICT",
        "this trigger is disabled; enable it in the dashboard or with trigger.update",
      );
    await takeTokens(c, trigger);
    checkContentType(c.req.header("content-type"));
    const body = await c.req.text();
    await checkSignature(c.env, trigger, c.req.header(SIGNATURE_HEADER), body, now);
    const input = parseBody(body);
    const request = startRequest(trigger, input, c.req.header(IDEMPOTENCY_HEADER));
    const db = openDb(c.env.DB);
    const data = new TenantData(
      db,
      { tenantId: trigger.tenantId, principal: `trigger:${trigger.id}` },
      c.env,
    );
    // Checked here as well as by the start, so a deleted orchestration is "this trigger's", not "unknown".
    await requireOrchestration(db, trigger.tenantId, trigger.orchestrationId).catch((error: unknown) => {
      if (!(error instanceof TroupeError)) throw error;
      throw new TriggerRefusal(
        404,
        "NOT_FOUND",
        "this trigger's orchestration was deleted; nothing was started",
      );
    });
    const status = await startExecution(data, c.env, request, now);
    // The run has started whatever happens here: a lost record only leaves it out of "last runs".
    await recordTriggerRun(db, trigger, status.id, now).catch((error: Error) =>
      console.error(`trigger ${trigger.id}: recording its run:`, error.message),
    );
    return c.json({ executionId: status.id }, 202);
  } catch (error) {
    return refusalResponse(fromDomainError(error));
  }
}

export const triggerRoutes = new Hono<{ Bindings: Env }>();

triggerRoutes.post("/:token", handle);
triggerRoutes.all("/:token", () => {
  const response = refusalResponse(
    new TriggerRefusal(405, "METHOD_NOT_ALLOWED", "a trigger accepts POST only"),
  );
  response.headers.set("allow", "POST");
  return response;
});
