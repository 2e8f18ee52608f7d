// @troupe/client: the typed Troupe API client, a run() helper that follows a run to its end, and
// create-or-update by name for roles and orchestrations (what the `troupe` CLI is built on).
export { type Applied, type ApplyAction, applyOrchestration, applyRole } from "./apply.ts";
export {
  createTroupeClient,
  type TroupeApi,
  type TroupeClient,
  type TroupeClientOptions,
  trpcUrl,
} from "./client.ts";
export { orchestrationDefinition, roleDefinition } from "./definitions.ts";
export { type ApiError, apiErrorOf, describeApiError, type FieldIssue, isApiError } from "./errors.ts";
export { type RunOptions, run, type StepChange, type WatchOptions, watchExecution } from "./run.ts";
export * from "./types.ts";
