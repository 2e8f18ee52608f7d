// Orchestrations over tRPC, under the guide's name `orchestrationManagement`, and their executions:
// execute / getExecutionStatus / cancel / resume / rerun / approve / listExecutions / watchExecution.

import { isTerminal } from "../../../durable-objects/engine/status";
import {
  approveStep,
  cancelAllExecutions,
  cancelExecution,
  rerunExecution,
  resumeExecution,
  statusOfRow,
} from "../../../durable-objects/execution/operations";
import { startExecution } from "../../../durable-objects/execution/start";
import { type ExecutionRpc, executionStub } from "../../../durable-objects/execution/stub";
import { admitExecution } from "../../../durable-objects/governor/client";
import { RetryLaterError } from "../../auth/retry-later";
import { TroupeError } from "../../errors";
import {
  approveSchema,
  cancelAllSchema,
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
  orchestrationVersionsSchema,
} from "../../schemas/orchestration";
import { router, scopedProcedure } from "../init";

/** Starting runs: a start refused for the team's starts per minute says when to come back in Retry-After. */
const startProcedure = scopedProcedure("run").use(async ({ ctx, next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof RetryLaterError)
    ctx.resHeaders.set("retry-after", String(result.error.cause.retryAfterSeconds));
  return result;
});

/** How long one long-poll of the execution object waits for a change before answering anyway. */
const WATCH_WAIT_MS = 25_000;

export const orchestrationRouter = router({
  create: scopedProcedure("write")
    .input(orchestrationInputSchema)
    .mutation(({ ctx, input }) => ctx.data.orchestrations.create(input)),
  list: scopedProcedure("read")
    .input(orchestrationListSchema)
    .query(async ({ ctx, input }) =>
      ctx.data.orchestrations.list({ ...input, ...(await ctx.data.page(input)) }),
    ),
  get: scopedProcedure("read")
    .input(orchestrationLookupSchema)
    .query(({ ctx, input }) => ctx.data.orchestrations.get(input.nameOrId, input.version)),
  versions: scopedProcedure("read")
    .input(orchestrationVersionsSchema)
    .query(async ({ ctx, input }) =>
      ctx.data.orchestrations.versions(input.orchestrationId, await ctx.data.page(input)),
    ),
  update: scopedProcedure("write")
    .input(orchestrationUpdateSchema)
    .mutation(({ ctx, input }) =>
      ctx.data.orchestrations.update(input.orchestrationId, input.updates, input.expectedVersion),
    ),
  delete: scopedProcedure("write")
    .input(orchestrationRefSchema)
    .mutation(({ ctx, input }) => ctx.data.orchestrations.delete(input.orchestrationId)),

  execute: startProcedure
    .input(executeSchema)
    .mutation(({ ctx, input }) => startExecution(ctx.data, ctx.env, input, ctx.now)),
  getExecutionStatus: scopedProcedure("read")
    .input(executionRefSchema)
    .query(async ({ ctx, input }) => statusOfRow(ctx.env, await ctx.data.executions.get(input.executionId))),
  cancel: scopedProcedure("run")
    .input(executionRefSchema)
    .mutation(({ ctx, input }) => cancelExecution(ctx.data, ctx.env, input.executionId)),
  /**
   * The emergency stop: cancels every live execution of the team (and what they started), oldest first,
   * up to CANCEL_ALL_MAX per call: { cancelled, failed, more } — call again while `more`.
   */
  cancelAll: scopedProcedure("admin")
    .input(cancelAllSchema)
    .mutation(({ ctx, input }) => cancelAllExecutions(ctx.data, ctx.env, input.reason)),
  /** A failed or cancelled execution continues from what failed or was cancelled; completed outputs stay. */
  resume: scopedProcedure("run")
    .input(executionRefSchema)
    .mutation(async ({ ctx, input }) => {
      const row = await ctx.data.executions.get(input.executionId);
      await admitExecution(ctx.env, row.tenantId, row.id); // it runs again: it counts again
      return resumeExecution(ctx.data, ctx.env, row.id);
    }),
  /** A new execution with the same input and definition version. */
  rerun: startProcedure
    .input(executionRefSchema)
    .mutation(({ ctx, input }) => rerunExecution(ctx.data, ctx.env, input.executionId, ctx.now)),
  /** Decides a waiting approval step: its output becomes { approved, comment, data, by, at }. */
  approve: scopedProcedure("run")
    .input(approveSchema)
    .mutation(({ ctx, input }) => approveStep(ctx.data, ctx.env, input)),
  /**
   * Live status for the dashboard (Server-Sent Events through httpSubscriptionLink): the status at once,
   * then each change as the execution object reports it, ending after the terminal status. The first
   * answer is awaited here, so an unknown or never-started execution fails as a mapped tRPC error.
   */
  watchExecution: scopedProcedure("read")
    .input(executionRefSchema)
    .subscription(async ({ ctx, input, signal }) => {
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
  listExecutions: scopedProcedure("read")
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
