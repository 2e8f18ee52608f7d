// Orchestrations over tRPC, under the guide's name `orchestrationManagement`. The engine adds
// execute / getExecutionStatus / cancel / listExecutions / watchExecution to this same router.

import { TroupeError } from "../../errors";
import { startExecution } from "../../executions/start";
import { statusOfRow } from "../../executions/status";
import { type ExecutionRpc, executionStub } from "../../executions/stub";
import { executeSchema, executionRefSchema, listExecutionsSchema } from "../../schemas/execution";
import {
  orchestrationInputSchema,
  orchestrationListSchema,
  orchestrationLookupSchema,
  orchestrationRefSchema,
  orchestrationUpdateSchema,
} from "../../schemas/orchestration";
import { authedProcedure, router } from "../init";

/** How long one long-poll of the execution object waits for a change before answering anyway. */
const WATCH_WAIT_MS = 25_000;
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

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
  getExecutionStatus: authedProcedure
    .input(executionRefSchema)
    .query(async ({ ctx, input }) => statusOfRow(ctx.env, await ctx.data.executions.get(input.executionId))),
  cancel: authedProcedure.input(executionRefSchema).mutation(async ({ ctx, input }) => {
    const row = await ctx.data.executions.get(input.executionId);
    const result = await executionStub(ctx.env, row.id).cancel(`cancelled by ${ctx.data.actor.principal}`);
    if (result.ok) return result.value;
    throw new TroupeError("NOT_FOUND", `execution "${row.id}" never started`);
  }),
  /**
   * Live status for the dashboard (Server-Sent Events through httpSubscriptionLink): the status at once,
   * then each change as the execution object reports it, ending after the terminal status. The first
   * answer is awaited here, so an unknown or never-started execution fails as a mapped tRPC error.
   */
  watchExecution: authedProcedure.input(executionRefSchema).subscription(async ({ ctx, input, signal }) => {
    const row = await ctx.data.executions.get(input.executionId);
    const stub = executionStub(ctx.env, row.id);
    const first = await stub.watch(null, 0);
    if (!first.ok) {
      throw new TroupeError(
        "NOT_FOUND",
        `execution "${row.id}" never started: ${row.error ?? "unknown reason"}`,
      );
    }
    return statusChanges(stub, first.value, signal);
  }),
  listExecutions: authedProcedure
    .input(listExecutionsSchema)
    .query(({ ctx, input }) => ctx.data.executions.list(input)),
});

type Watched = Extract<Awaited<ReturnType<ExecutionRpc["watch"]>>, { ok: true }>["value"];

/** Yields `first`, then every status the object reports until a terminal one (or the client leaves). */
async function* statusChanges(stub: ExecutionRpc, first: Watched, signal: AbortSignal | undefined) {
  let current = first;
  for (;;) {
    yield current.status;
    if (TERMINAL_STATUSES.has(current.status.status) || signal?.aborted) return;
    const next = await stub.watch(current.token, WATCH_WAIT_MS);
    if (!next.ok) return; // the object lost its state; the client re-reads getExecutionStatus
    current = next.value;
  }
}
