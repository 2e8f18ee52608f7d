// What the tenant's runs used: tokens (in and out), cost and executions per day, orchestration or model.
import { UsageStore } from "../../db/usage";
import { usageQuerySchema, usageRange } from "../../schemas/usage";
import { router, scopedProcedure } from "../init";

export const usageRouter = router({
  get: scopedProcedure("read")
    .input(usageQuerySchema)
    .query(({ ctx, input }) => {
      const { from, to } = usageRange(input, ctx.now);
      return new UsageStore(ctx.data.db, ctx.data.actor).get(from, to, input.groupBy);
    }),
});
