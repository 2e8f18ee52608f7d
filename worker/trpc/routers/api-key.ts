// API keys: created (shown once) with their scopes and expiry, listed (prefix only), revoked. Managed
// from a signed-in session.
import { z } from "zod";
import { apiKeyCreateSchema, expiryOf, scopesOf } from "../../schemas/api-key";
import { idSchema } from "../../schemas/common";
import { pageSchema } from "../../schemas/page";
import { router, sessionProcedure } from "../init";

export const apiKeyRouter = router({
  create: sessionProcedure.input(apiKeyCreateSchema).mutation(({ ctx, input }) =>
    ctx.data.apiKeys.create({
      name: input.name,
      scopes: scopesOf(input),
      expiresAt: expiryOf(input, ctx.now),
    }),
  ),
  list: sessionProcedure
    .input(pageSchema)
    .query(async ({ ctx, input }) => ctx.data.apiKeys.list(await ctx.data.page(input))),
  revoke: sessionProcedure
    .input(z.strictObject({ apiKeyId: idSchema }))
    .mutation(({ ctx, input }) => ctx.data.apiKeys.revoke(input.apiKeyId)),
});
