// Sign-up, login, logout, "who am I", password change and "sign out everywhere". Sessions travel only
// in the HttpOnly cookie.
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { RetryLaterError } from "../../auth/retry-later";
import { changePassword, endAllSessions, endSession, login, signup } from "../../db/accounts";
import { invalid } from "../../errors";
import { displayName } from "../../schemas/common";
import { clearedSessionCookie, readSessionCookie, sessionCookie } from "../cookies";
import { anyScopeProcedure, publicProcedure, router } from "../init";

/** A refusal that says when to come back also says it in a Retry-After header. */
const retryAfter = publicProcedure.use(async ({ ctx, next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof RetryLaterError) {
    ctx.resHeaders.set("retry-after", String(result.error.cause.retryAfterSeconds));
  }
  return result;
});

/** A person signed in with a session: a password and its sessions are theirs, not an API key's. */
const personProcedure = anyScopeProcedure.meta({ access: "session" }).use(({ ctx, next }) => {
  if (ctx.caller.kind !== "user") {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "passwords and sessions are managed from a signed-in session, not with an API key",
    });
  }
  return next({ ctx: { ...ctx, caller: ctx.caller } });
});

const email = z
  .string()
  .trim()
  .max(254, "must be at most 254 characters")
  .pipe(z.email("must be an email address such as ada@example.com"))
  .transform((value) => value.toLowerCase());
const password = z
  .string()
  .min(10, "must be at least 10 characters")
  .max(256, "must be at most 256 characters");

export const authRouter = router({
  /** An email already registered gets the same answer, with a cookie that names no session (db/accounts.ts). */
  signup: retryAfter
    .input(z.strictObject({ tenantName: displayName(100), email, password }))
    .mutation(async ({ ctx, input }) => {
      const session = await signup(ctx.db, input, ctx.clientIp, ctx.now);
      ctx.resHeaders.append("set-cookie", sessionCookie(ctx.req, session.token, session.expiresAt, ctx.now));
      return { user: session.user, tenant: session.tenant };
    }),

  login: retryAfter
    .input(
      z.strictObject({
        email,
        password: z.string().min(1, "must not be empty").max(256, "must be at most 256 characters"),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const session = await login(ctx.db, input, ctx.clientIp, ctx.now);
      ctx.resHeaders.append("set-cookie", sessionCookie(ctx.req, session.token, session.expiresAt, ctx.now));
      return { user: session.user, tenant: session.tenant };
    }),

  logout: publicProcedure.mutation(async ({ ctx }) => {
    // End whatever session the cookie names, even when an Authorization header decided the caller:
    // clearing the browser's cookie must never leave its session alive in D1.
    const token = readSessionCookie(ctx.req);
    if (token) await endSession(ctx.db, token);
    ctx.resHeaders.append("set-cookie", clearedSessionCookie(ctx.req));
    return { loggedOut: true };
  }),

  /** Ends all the user's other sessions; the one changing the password stays signed in. */
  changePassword: personProcedure
    .input(
      z.strictObject({
        currentPassword: z.string().min(1, "must not be empty").max(256, "must be at most 256 characters"),
        newPassword: password,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (input.newPassword === input.currentPassword) {
        throw invalid([{ path: "newPassword", message: "must differ from the current password" }]);
      }
      const { caller } = ctx;
      const ended = await changePassword(
        ctx.db,
        { userId: caller.user.id, email: caller.user.email, keepToken: caller.sessionToken, ...input },
        ctx.clientIp,
        ctx.now,
      );
      return { changed: true as const, ...ended };
    }),

  /** Ends every session of the user, this one included, and clears this browser's cookie. */
  signOutEverywhere: personProcedure.mutation(async ({ ctx }) => {
    const endedSessions = await endAllSessions(ctx.db, ctx.caller.user.id);
    ctx.resHeaders.append("set-cookie", clearedSessionCookie(ctx.req));
    return { endedSessions };
  }),

  me: anyScopeProcedure.query(async ({ ctx }) => {
    const { caller } = ctx;
    if (caller.kind === "user")
      return { via: "session" as const, user: caller.user, tenant: caller.tenant, apiKey: null };
    const tenant = { id: caller.tenantId, name: (await ctx.data.tenantName()) ?? "" };
    return { via: "apiKey" as const, user: null, tenant, apiKey: { id: caller.keyId, name: caller.keyName } };
  }),
});
