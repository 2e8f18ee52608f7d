// tRPC setup: the error shape every client sees (code, message naming the field, `data.issues`), the
// one place domain errors become tRPC codes, and the procedure builders: public, scoped (an API key needs
// the scope the procedure declares; a signed-in user has them all) and session-only.
import { initTRPC, TRPCError } from "@trpc/server";
import { takeRequestTokens } from "../../durable-objects/governor/client";
import { openDb } from "../db/client";
import { TenantData } from "../db/tenant-data";
import { TroupeError } from "../errors";
import type { ApiKeyScope } from "../limits";
import { describeIssues, type FieldIssue, formatPath } from "../schemas/common";
import type { Context } from "./context";

interface IssueLike {
  path?: readonly (PropertyKey | { key: PropertyKey })[];
  message: string;
}

function validationIssues(cause: unknown): FieldIssue[] | undefined {
  if (cause instanceof TroupeError) return cause.issues;
  const issues = (cause as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(issues)) return undefined;
  return (issues as IssueLike[]).map((issue) => ({
    path: formatPath((issue.path ?? []).map((p) => (typeof p === "object" ? p.key : p))),
    message: issue.message,
  }));
}

/** What a procedure declares (tests read it): the API key scope it needs, or who may call it at all. */
export interface ProcedureMeta {
  access: ApiKeyScope | "any" | "session";
}

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    errorFormatter({ shape, error }) {
      const issues = validationIssues(error.cause);
      const internal = error.code === "INTERNAL_SERVER_ERROR";
      const message = internal
        ? "internal error; it has been logged"
        : issues?.length && !(error.cause instanceof TroupeError)
          ? describeIssues(issues)
          : shape.message;
      return {
        ...shape,
        message,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path,
          issues: issues ?? [],
        },
      };
    },
  });

/** Turns domain errors thrown anywhere below into their tRPC codes, keeping their field issues. */
const mapDomainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof TroupeError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: cause.code, message: cause.message, cause });
  }
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(mapDomainErrors);

/** Any authenticated caller: a signed-in user or an API key. Gives `ctx.data`, scoped to their tenant. */
const callerProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const { caller } = ctx;
  switch (caller.kind) {
    case "anonymous":
      throw new TRPCError({
        code: "UNAUTHORIZED",
        message: 'sign in, or send an API key as "Authorization: Bearer <key>"',
      });
    case "invalid":
      throw new TRPCError({ code: "UNAUTHORIZED", message: caller.reason });
    case "user":
    case "apiKey": {
      const tenantId = caller.kind === "user" ? caller.tenant.id : caller.tenantId;
      const principal = caller.kind === "user" ? `user:${caller.user.id}` : `apiKey:${caller.keyId}`;
      await takeRequestTokens(ctx, tenantId, principal); // TOO_MANY_REQUESTS + Retry-After when out
      // The limits came with the caller's lookup: no second read of the plan in this request.
      const facts = { limits: caller.limits, webhooks: caller.webhooks };
      const data = new TenantData(openDb(ctx.env.DB), { tenantId, principal }, ctx.env, facts);
      return next({ ctx: { ...ctx, caller, data } });
    }
    default:
      return caller satisfies never;
  }
});

/**
 * A procedure an API key may call only with `scope` (or `admin`, which holds every scope); a signed-in
 * user has every scope. A key without it is refused with FORBIDDEN naming the scope, before any work.
 */
export function scopedProcedure(scope: ApiKeyScope) {
  return callerProcedure.meta({ access: scope }).use(({ ctx, next, path }) => {
    const { caller } = ctx;
    if (caller.kind === "apiKey" && !caller.scopes.includes(scope) && !caller.scopes.includes("admin")) {
      const held = caller.scopes.length > 0 ? caller.scopes.join(", ") : "none";
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `${path} needs the "${scope}" scope; the API key "${caller.keyName}" has ${held}`,
      });
    }
    return next();
  });
}

/** Any authenticated caller whatever its scopes: only "who am I" is open to every key. */
export const anyScopeProcedure = callerProcedure.meta({ access: "any" });

/**
 * A procedure that has not declared its scope: an API key needs `admin` (everything, tenant-wide
 * operations included), so a new procedure is closed to narrower keys until it says what it needs.
 */
export const authedProcedure = scopedProcedure("admin");

/** Only a signed-in user: managing API keys needs a person, so a leaked key cannot mint more keys. */
export const sessionProcedure = callerProcedure.meta({ access: "session" }).use(({ ctx, next }) => {
  if (ctx.caller.kind !== "user") {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "API keys are managed from a signed-in session, not with an API key",
    });
  }
  return next({ ctx: { ...ctx, caller: ctx.caller } });
});
