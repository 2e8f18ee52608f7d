// The team itself: deleting it, with everything it has (a signed-in person only, naming the team).
import { z } from "zod";
import { deleteTenant } from "../../db/tenant-deletion";
import { clearedSessionCookie } from "../cookies";
import { router, sessionProcedure } from "../init";

export const tenantRouter = router({
  delete: sessionProcedure
    .input(z.strictObject({ confirmName: z.string().max(200, "must be at most 200 characters") }))
    .mutation(async ({ ctx, input }) => {
      const result = await deleteTenant(ctx.db, ctx.data.actor.tenantId, input.confirmName, ctx.now);
      ctx.resHeaders.append("set-cookie", clearedSessionCookie(ctx.req));
      return result;
    }),
});
