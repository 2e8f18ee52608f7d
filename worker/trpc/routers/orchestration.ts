// Orchestrations over tRPC, under the guide's name `orchestrationManagement`. The engine adds
// execute / getExecutionStatus / cancel / listExecutions to this same router.

import { TroupeError } from "../../errors";
import { startExecution } from "../../executions/start";
import { executionStub } from "../../executions/stub";
import { executeSchema, executionRefSchema, listExecutionsSchema } from "../../schemas/execution";
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

  execute: authedProcedure
    .input(executeSchema)
    .mutation(({ ctx, input }) => startExecution(ctx.data, ctx.env, input, ctx.now)),
  getExecutionStatus: authedProcedure.input(executionRefSchema).query(async ({ ctx, input }) => {
    const row = await ctx.data.executions.get(input.executionId);
    const result = await executionStub(ctx.env, row.id).status();
    if (result.ok) return result.value;
    throw new TroupeError(
      "NOT_FOUND",
      `execution "${row.id}" never started: ${row.error ?? "unknown reason"}`,
    );
  }),
  cancel: authedProcedure.input(executionRefSchema).mutation(async ({ ctx, input }) => {
    const row = await ctx.data.executions.get(input.executionId);
    const result = await executionStub(ctx.env, row.id).cancel(`cancelled by ${ctx.data.actor.principal}`);
    if (result.ok) return result.value;
    throw new TroupeError("NOT_FOUND", `execution "${row.id}" never started`);
  }),
  listExecutions: authedProcedure
    .input(listExecutionsSchema)
    .query(({ ctx, input }) => ctx.data.executions.list(input)),
});
