// API keys: created (shown once), listed (prefix only), revoked. Managed from a signed-in session.
import { z } from "zod";
import { displayName, idSchema } from "../../schemas/common";
import { router, sessionProcedure } from "../init";

export const apiKeyRouter = router({
  create: sessionProcedure
    .input(z.strictObject({ name: displayName(100) }))
    .mutation(({ ctx, input }) => ctx.data.apiKeys.create(input.name)),
  list: sessionProcedure.query(({ ctx }) => ctx.data.apiKeys.list()),
  revoke: sessionProcedure
    .input(z.strictObject({ apiKeyId: idSchema }))
    .mutation(({ ctx, input }) => ctx.data.apiKeys.revoke(input.apiKeyId)),
});
