// One orchestration: its flow graph (any saved version), warnings, the run form, its versions and its
// recent executions; edit and delete from here.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { ConfirmDialog } from "../components/dialog";
import { ExecuteForm } from "../components/execute-form";
import { ExecutionsTable } from "../components/executions-table";
import { FlowGraph } from "../components/flow-graph";
import { SchedulesPanel } from "../components/schedules-panel";
import { ShowMore } from "../components/show-more";
import { TriggersPanel } from "../components/triggers-panel";
import { ErrorNotice, PageHeader, Spinner, Tag } from "../components/ui";
import { graphStepsOf } from "../lib/flow-steps";
import { formatDateTime } from "../lib/format";
import { Link, navigate } from "../lib/router";
import { useTRPC, useTRPCClient } from "../lib/trpc";
import { usePagedList } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

export function OrchestrationPage({ orchestrationId }: { orchestrationId: string }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [version, setVersion] = useState<number | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const current = useQuery(trpc.orchestrationManagement.get.queryOptions({ nameOrId: orchestrationId }));
  const shown = useQuery({
    ...trpc.orchestrationManagement.get.queryOptions({ nameOrId: orchestrationId, version: version ?? 1 }),
    enabled: version !== null,
  });
  const versions = usePagedList(
    [...trpc.orchestrationManagement.versions.pathKey(), { pages: { orchestrationId } }],
    (cursor) =>
      client.orchestrationManagement.versions.query({ orchestrationId, ...(cursor ? { cursor } : {}) }),
  );
  const executions = useQuery(
    trpc.orchestrationManagement.listExecutions.queryOptions({ orchestrationId, limit: 10 }),
  );
  const remove = useMutation(
    trpc.orchestrationManagement.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.orchestrationManagement.pathKey() });
        navigate("/orchestrations");
      },
    }),
  );
  const orchestration = current.data;
  const displayed = version !== null && shown.data ? shown.data : orchestration;
  const steps = useMemo(() => graphStepsOf(displayed), [displayed]);
  useTitle(orchestration?.name ?? "Orchestration");

  if (current.isPending) return <Spinner label="Loading the orchestration…" />;
  if (!orchestration) return <ErrorNotice error={current.error} onRetry={() => void current.refetch()} />;

  return (
    <>
      <PageHeader
        title={orchestration.name}
        subtitle={
          <>
            Version {orchestration.version} · {orchestration.isActive ? "active" : "inactive"} · changed{" "}
            {formatDateTime(orchestration.updatedAt)} · <Link to="/orchestrations">all orchestrations</Link>
          </>
        }
        actions={
          <>
            <Link to={`/orchestrations/${orchestration.id}/edit`} className="button">
              Edit definition
            </Link>
            <button type="button" className="button danger" onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          </>
        }
      />
      {orchestration.description ? <p>{orchestration.description}</p> : null}
      <p className="meta-row">
        {orchestration.tags.map((tag) => (
          <Tag key={tag}>{tag}</Tag>
        ))}
      </p>
      {orchestration.warnings.length ? (
        <div className="notice notice-warning">
          <strong>Before running:</strong>
          <ul>
            {orchestration.warnings.map((w) => (
              <li key={`${w.path}:${w.message}`}>
                <code>{w.path}</code> {w.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <div className="split">
        <section className="split-main">
          <h2>Flow {version !== null ? <span className="muted">(version {version})</span> : null}</h2>
          {version !== null && shown.isPending ? <Spinner label={`Loading version ${version}…`} /> : null}
          <ErrorNotice error={shown.error} />
          <FlowGraph steps={steps} label={`Flow of ${orchestration.name}`} />
        </section>
        <aside className="split-side card">
          <ExecuteForm orchestration={orchestration} key={orchestration.version} />
        </aside>
      </div>

      <div className="grid-2">
        <section aria-labelledby="versions-heading">
          <h2 id="versions-heading">Versions</h2>
          <ErrorNotice error={versions.error} />
          <ol className="versions">
            {versions.items?.map((v) => (
              <li key={v.version}>
                <button
                  type="button"
                  className="link-button"
                  aria-pressed={(version ?? orchestration.version) === v.version}
                  onClick={() => setVersion(v.version === orchestration.version ? null : v.version)}
                >
                  Version {v.version}
                  {v.version === orchestration.version ? " (current)" : ""}
                </button>{" "}
                <span className="muted">
                  {formatDateTime(v.createdAt)} · {v.createdBy}
                </span>
              </li>
            ))}
          </ol>
          <ShowMore list={versions} what="versions" />
        </section>
        <section aria-labelledby="recent-heading">
          <h2 id="recent-heading">Recent executions</h2>
          <ErrorNotice error={executions.error} />
          {executions.data?.items.length === 0 ? (
            <p className="muted">Not run yet: use the Run form above.</p>
          ) : null}
          {executions.data?.items.length ? (
            <ExecutionsTable
              items={executions.data.items}
              caption={`Recent executions of ${orchestration.name}`}
            />
          ) : null}
        </section>
      </div>

      <div className="grid-2">
        <TriggersPanel orchestrationId={orchestration.id} />
        <SchedulesPanel orchestrationId={orchestration.id} />
      </div>

      <ConfirmDialog
        open={confirmDelete}
        title={`Delete “${orchestration.name}”?`}
        confirmLabel="Delete orchestration"
        danger
        busy={remove.isPending}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={() => remove.mutate({ orchestrationId: orchestration.id })}
      >
        <p>All its versions are deleted. Executions that already ran stay in the executions list.</p>
        <ErrorNotice error={remove.error} />
      </ConfirmDialog>
    </>
  );
}
