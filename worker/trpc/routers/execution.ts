// Executions as a noun of their own: deleting one for good (its object's storage and its index row).
// Starting, watching and controlling runs stay under orchestrationManagement, as the guide has them.
import { deleteExecution } from "../../../durable-objects/execution/retention";
import { executionRefSchema } from "../../schemas/execution";
import { router, scopedProcedure } from "../init";

export const executionRouter = router({
  delete: scopedProcedure("write")
    .input(executionRefSchema)
    .mutation(({ ctx, input }) => deleteExecution(ctx.data, ctx.env, input.executionId)),
});
