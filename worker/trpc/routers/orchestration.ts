// Orchestrations over tRPC, under the guide's name `orchestrationManagement`. The engine adds
// execute / getExecutionStatus / cancel / listExecutions to this same router.
import {
  orchestrationInputSchema,
  orchestrationListSchema,
  orchestrationLookupSchema,
  orchestrationRefSchema,
  orchestrationUpdateSchema,
} from "../../schemas/orchestration";
import { authedProcedure, router } from "../init";

export const orchestrationRouter = router({
  create: authedProcedure
    .input(orchestrationInputSchema)
    .mutation(({ ctx, input }) => ctx.data.orchestrations.create(input)),
  list: authedProcedure
    .input(orchestrationListSchema)
    .query(({ ctx, input }) => ctx.data.orchestrations.list(input ?? {})),
  get: authedProcedure
    .input(orchestrationLookupSchema)
    .query(({ ctx, input }) => ctx.data.orchestrations.get(input.nameOrId, input.version)),
  versions: authedProcedure
    .input(orchestrationRefSchema)
    .query(({ ctx, input }) => ctx.data.orchestrations.versions(input.orchestrationId)),
  update: authedProcedure
    .input(orchestrationUpdateSchema)
    .mutation(({ ctx, input }) =>
      ctx.data.orchestrations.update(input.orchestrationId, input.updates, input.expectedVersion),
    ),
  delete: authedProcedure
    .input(orchestrationRefSchema)
    .mutation(({ ctx, input }) => ctx.data.orchestrations.delete(input.orchestrationId)),
});
