// Orchestrations over tRPC, under the guide's name `orchestrationManagement`, and their executions:
// execute / getExecutionStatus / cancel / resume / rerun / approve / listExecutions / watchExecution.

import { isTerminal } from "../../../durable-objects/engine/status";
import {
  approveStep,
  cancelExecution,
  rerunExecution,
  resumeExecution,
  statusOfRow,
} from "../../../durable-objects/execution/operations";
import { startExecution } from "../../../durable-objects/execution/start";
import { type ExecutionRpc, executionStub } from "../../../durable-objects/execution/stub";
import { TroupeError } from "../../errors";
import {
  approveSchema,
  executeSchema,
  executionRefSchema,
  listExecutionsSchema,
} from "../../schemas/execution";
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
  cancel: authedProcedure
    .input(executionRefSchema)
    .mutation(({ ctx, input }) => cancelExecution(ctx.data, ctx.env, input.executionId)),
  /** A failed or cancelled execution continues from what failed or was cancelled; completed outputs stay. */
  resume: authedProcedure
    .input(executionRefSchema)
    .mutation(({ ctx, input }) => resumeExecution(ctx.data, ctx.env, input.executionId)),
  /** A new execution with the same input and definition version. */
  rerun: authedProcedure
    .input(executionRefSchema)
    .mutation(({ ctx, input }) => rerunExecution(ctx.data, ctx.env, input.executionId, ctx.now)),
  /** Decides a waiting approval step: its output becomes { approved, comment, data, by, at }. */
  approve: authedProcedure
    .input(approveSchema)
    .mutation(({ ctx, input }) => approveStep(ctx.data, ctx.env, input)),
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
    if (isTerminal(current.status.status) || signal?.aborted) return;
    const next = await stub.watch(current.token, WATCH_WAIT_MS);
    if (!next.ok) return; // the object lost its state; the client re-reads getExecutionStatus
    current = next.value;
  }
}
