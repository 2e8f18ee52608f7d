// An execution's status, kept live by push: the first read is a query, then the watchExecution
// subscription (Server-Sent Events) writes every change into the same cache entry until the run ends.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { TERMINAL_RUN_STATUSES } from "../../../durable-objects/engine/status";
import { type ExecutionStatus, useTRPC } from "./trpc";

/** A run in a final status (the engine's own list): nothing changes unless someone resumes it. */
export function isTerminal(status: string | undefined): boolean {
  return (TERMINAL_RUN_STATUSES as readonly (string | undefined)[]).includes(status);
}

export function useLiveExecution(executionId: string) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const statusKey = trpc.orchestrationManagement.getExecutionStatus.queryKey({ executionId });
  const query = useQuery({
    ...trpc.orchestrationManagement.getExecutionStatus.queryOptions({ executionId }),
    staleTime: Number.POSITIVE_INFINITY,
  });
  const live = query.data !== undefined && !isTerminal(query.data.status);
  const subscription = useSubscription(
    trpc.orchestrationManagement.watchExecution.subscriptionOptions(
      { executionId },
      {
        enabled: live,
        onData: (status) => {
          queryClient.setQueryData(statusKey, status);
          if (isTerminal(status.status)) {
            void queryClient.invalidateQueries({
              queryKey: trpc.orchestrationManagement.listExecutions.pathKey(),
            });
          }
        },
      },
    ),
  );
  const setStatus = (status: ExecutionStatus) => queryClient.setQueryData(statusKey, status);
  // Reconnecting (the browser's EventSource does it by itself) re-reads the status first, so nothing is missed.
  const retryLive = () => {
    void query.refetch();
    subscription.reset();
  };
  return {
    query,
    live,
    connection: subscription.status,
    connectionError: subscription.error,
    retryLive,
    setStatus,
  };
}
