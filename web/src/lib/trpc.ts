// The typed API client: tRPC over plain HTTP (batched) for queries and mutations, Server-Sent Events for
// subscriptions, TanStack Query for caching. Types come from the server's AppRouter; no hand-written fetch.
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { DEFAULT_LIMITS } from "../../../worker/limits";
import type { AppRouter } from "../../../worker/trpc/routers/_app";
import { errorCode } from "./errors";

const MAX_BATCH_SIZE = DEFAULT_LIMITS.maxBatchSize;

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type Role = RouterOutputs["role"]["list"]["items"][number];
export type Orchestration = RouterOutputs["orchestrationManagement"]["get"];
export type ExecutionStatus = RouterOutputs["orchestrationManagement"]["getExecutionStatus"];
type StepLogOfKind = ExecutionStatus["stepLogs"][number];
type Block<K extends "loop" | "forEach" | "branch"> = Extract<StepLogOfKind, Record<K, unknown>>[K];
/** One step instance's log; a container's progress block is there for its kind only. */
export type StepLog = Omit<StepLogOfKind, "loop" | "forEach" | "branch"> & {
  loop?: Block<"loop">;
  forEach?: Block<"forEach">;
  branch?: Block<"branch">;
};
export type ExecutionSummary = RouterOutputs["orchestrationManagement"]["listExecutions"]["items"][number];

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** Called when the server says the session is gone, so the app can show the login page. */
let onSignedOut: () => void = () => undefined;
export function setSignedOutHandler(handler: () => void) {
  onSignedOut = handler;
}

function watchForSignOut(error: unknown) {
  if (errorCode(error) === "UNAUTHORIZED") onSignedOut();
}

export function makeQueryClient() {
  return new QueryClient({
    queryCache: new QueryCache({ onError: watchForSignOut }),
    mutationCache: new MutationCache({ onError: watchForSignOut }),
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        // A 4xx will not get better by asking again; a dropped connection might.
        retry: (failures, error) => errorCode(error) === undefined && failures < 2,
      },
    },
  });
}

export function makeTrpcClient() {
  const url = "/trpc";
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url }),
        // The Worker refuses batches over DEFAULT_LIMITS.maxBatchSize (worker/limits.ts).
        false: httpBatchLink({ url, maxItems: MAX_BATCH_SIZE }),
      }),
    ],
  });
}
