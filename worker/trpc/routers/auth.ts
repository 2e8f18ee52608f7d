// Sign-up, login, logout and "who am I". Sessions travel only in the HttpOnly cookie.
import { z } from "zod";
import { endSession, login, signup } from "../../db/accounts";
import { displayName } from "../../schemas/common";
import { clearedSessionCookie, readSessionCookie, sessionCookie } from "../cookies";
import { authedProcedure, publicProcedure, router } from "../init";

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
  signup: publicProcedure
    .input(z.strictObject({ tenantName: displayName(100), email, password }))
    .mutation(async ({ ctx, input }) => {
      const session = await signup(ctx.db, input, ctx.clientIp, ctx.now);
      ctx.resHeaders.append("set-cookie", sessionCookie(ctx.req, session.token, session.expiresAt, ctx.now));
      return { user: session.user, tenant: session.tenant };
    }),

  login: publicProcedure
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

  me: authedProcedure.query(async ({ ctx }) => {
    const { caller } = ctx;
    if (caller.kind === "user")
      return { via: "session" as const, user: caller.user, tenant: caller.tenant, apiKey: null };
    const tenant = { id: caller.tenantId, name: (await ctx.data.tenantName()) ?? "" };
    return { via: "apiKey" as const, user: null, tenant, apiKey: { id: caller.keyId, name: caller.keyName } };
  }),
});
