// Executions, newest first, filterable by status and orchestration, paged with "Show more".
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { RUN_STATUSES } from "../../../durable-objects/engine/status";
import { useCancelAll } from "../components/cancel-all";
import { ExecutionsTable } from "../components/executions-table";
import { EmptyState, ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { Link } from "../lib/router";
import { useTRPC, useTRPCClient } from "../lib/trpc";
import { LARGEST_PAGE } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

const STATUSES = RUN_STATUSES;
type Status = (typeof STATUSES)[number];
const PAGE_SIZE = 25;
/** While something on screen runs, the list refreshes this often (the detail page is pushed live). */
const LIST_REFRESH_MS = 5000;

export function ExecutionsPage() {
  useTitle("Executions");
  const trpc = useTRPC();
  const client = useTRPCClient();
  const [status, setStatus] = useState<Status | "">("");
  const [orchestrationId, setOrchestrationId] = useState("");
  const orchestrations = useQuery({
    ...trpc.orchestrationManagement.list.queryOptions(LARGEST_PAGE),
    select: (page) => page.items,
  });
  const filter = {
    limit: PAGE_SIZE,
    ...(status ? { status } : {}),
    ...(orchestrationId ? { orchestrationId } : {}),
  };
  const executions = useInfiniteQuery({
    // Under listExecutions' own key, so invalidating listExecutions refreshes these pages too.
    queryKey: [...trpc.orchestrationManagement.listExecutions.pathKey(), { pages: filter }],
    queryFn: ({ pageParam }) =>
      client.orchestrationManagement.listExecutions.query({
        ...filter,
        ...(pageParam ? { cursor: pageParam } : {}),
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextCursor,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) =>
        page.items.some((e) => e.status === "running" || e.status === "pending"),
      )
        ? LIST_REFRESH_MS
        : false,
  });
  const items = executions.data?.pages.flatMap((page) => page.items) ?? [];
  const filtered = Boolean(status || orchestrationId);
  const cancelAll = useCancelAll();

  return (
    <>
      <PageHeader
        title="Executions"
        subtitle="Every run of every orchestration, newest first."
        actions={cancelAll.button}
      />
      {cancelAll.notices}
      <div className="toolbar">
        <label>
          Status{" "}
          <select value={status} onChange={(e) => setStatus(e.target.value as Status | "")}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Orchestration{" "}
          <select value={orchestrationId} onChange={(e) => setOrchestrationId(e.target.value)}>
            <option value="">any</option>
            {orchestrations.data?.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </label>
        {executions.isFetching && !executions.isPending ? <Spinner label="Refreshing…" /> : null}
      </div>
      {executions.isPending ? <Spinner label="Loading executions…" /> : null}
      <ErrorNotice error={executions.error} onRetry={() => void executions.refetch()} />
      {executions.data && items.length === 0 ? (
        filtered ? (
          <EmptyState title="No execution matches these filters">
            <p>Choose “any” to widen the search.</p>
          </EmptyState>
        ) : (
          <EmptyState title="Nothing has run yet">
            <p>
              Open an <Link to="/orchestrations">orchestration</Link>, give it an input and press Run.
            </p>
          </EmptyState>
        )
      ) : null}
      {items.length ? <ExecutionsTable items={items} caption="Executions" /> : null}
      {executions.hasNextPage ? (
        <button
          type="button"
          className="button"
          onClick={() => void executions.fetchNextPage()}
          disabled={executions.isFetchingNextPage}
        >
          {executions.isFetchingNextPage ? "Loading more…" : "Show more"}
        </button>
      ) : null}
    </>
  );
}
