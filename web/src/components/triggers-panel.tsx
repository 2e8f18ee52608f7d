// An orchestration's inbound HTTP triggers: create one (optionally requiring a signature, whose secret is
// shown once), copy its URL, enable or disable it, delete it, and see the runs it started.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatDateTime } from "../lib/format";
import { Link } from "../lib/router";
import { type RouterOutputs, useTRPC } from "../lib/trpc";
import { CopyField } from "./copy-button";
import { ConfirmDialog } from "./dialog";
import { ErrorNotice, StatusBadge } from "./ui";

type Trigger = RouterOutputs["trigger"]["list"]["items"][number];

/** The page styles have no plain-list class; these lists read as cards' rows, not bullets. */
const PLAIN_LIST = { listStyle: "none", paddingLeft: 0 } as const;

export function TriggersPanel({ orchestrationId }: { orchestrationId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const triggers = useQuery(trpc.trigger.list.queryOptions({ orchestrationId, limit: 50 }));
  const [requireSignature, setRequireSignature] = useState(false);
  const [issued, setIssued] = useState<{ url: string; secret?: string } | null>(null);
  const [deleting, setDeleting] = useState<Trigger | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.trigger.list.pathKey() });
  const create = useMutation(
    trpc.trigger.create.mutationOptions({
      onSuccess: async (created) => {
        setIssued({ url: created.url, ...(created.secret ? { secret: created.secret } : {}) });
        setRequireSignature(false);
        await refresh();
      },
    }),
  );
  const update = useMutation(trpc.trigger.update.mutationOptions({ onSuccess: () => refresh() }));
  const remove = useMutation(
    trpc.trigger.delete.mutationOptions({
      onSuccess: async () => {
        setDeleting(null);
        await refresh();
      },
    }),
  );

  return (
    <section aria-labelledby="triggers-heading" className="card">
      <h2 id="triggers-heading">Triggers</h2>
      <p className="muted">
        A POST of JSON to a trigger's URL starts a run with that body as input, from any program or service.
      </p>
      <div className="inline-form">
        <label className="check">
          <input
            type="checkbox"
            checked={requireSignature}
            onChange={(e) => setRequireSignature(e.target.checked)}
          />
          <span>Require a Troupe-Signature (HMAC) on every request</span>
        </label>
        <button
          type="button"
          className="button primary"
          disabled={create.isPending}
          onClick={() => create.mutate({ orchestrationId, kind: "http", requireSignature })}
        >
          {create.isPending ? "Creating…" : "Create trigger"}
        </button>
      </div>
      {create.error ? <ErrorNotice error={create.error} /> : null}
      {issued ? (
        <div className="notice notice-success" role="status">
          <p>
            <strong>Trigger created.</strong> POST JSON to its URL to start a run.
          </p>
          <CopyField value={issued.url} label="New trigger URL" copyLabel="Copy URL" />
          {issued.secret ? (
            <>
              <p>Copy the signing secret now: it is not shown again.</p>
              <CopyField value={issued.secret} label="Trigger signing secret" copyLabel="Copy secret" />
            </>
          ) : null}
          <button type="button" className="button small" onClick={() => setIssued(null)}>
            Done
          </button>
        </div>
      ) : null}
      <ErrorNotice error={triggers.error} onRetry={() => void triggers.refetch()} />
      <ErrorNotice error={update.error} />
      {triggers.data?.items.length === 0 ? <p className="muted">No triggers yet.</p> : null}
      {triggers.data?.items.length ? (
        <ul className="trigger-list" style={PLAIN_LIST}>
          {triggers.data.items.map((trigger) => (
            <li key={trigger.id} data-trigger-id={trigger.id} className="trigger-item">
              <CopyField value={trigger.url} label={`URL of trigger ${trigger.id}`} copyLabel="Copy URL" />
              <p className="meta-row">
                <span className={`badge ${trigger.enabled ? "status-completed" : "status-cancelled"}`}>
                  {trigger.enabled ? "Enabled" : "Disabled"}
                </span>{" "}
                {trigger.requireSignature ? <span className="badge">Signed</span> : null}{" "}
                <span className="muted">created {formatDateTime(trigger.createdAt)}</span>
              </p>
              <div className="actions">
                <button
                  type="button"
                  className="button small"
                  disabled={update.isPending}
                  onClick={() => update.mutate({ id: trigger.id, enabled: !trigger.enabled })}
                >
                  {trigger.enabled ? "Disable" : "Enable"}
                </button>
                <button type="button" className="button small danger" onClick={() => setDeleting(trigger)}>
                  Delete
                </button>
              </div>
              <LastRuns runs={trigger.lastRuns} label={`Last runs of trigger ${trigger.id}`} />
            </li>
          ))}
        </ul>
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this trigger?"
        confirmLabel="Delete trigger"
        danger
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate({ id: deleting.id })}
      >
        <p>Its URL stops working at once. Runs it started stay in the executions list.</p>
        <ErrorNotice error={remove.error} />
      </ConfirmDialog>
    </section>
  );
}

function LastRuns({ runs, label }: { runs: Trigger["lastRuns"]; label: string }) {
  if (runs.length === 0) return <p className="muted">Not called yet.</p>;
  return (
    <ul className="last-runs" aria-label={label}>
      {runs.map((run) => (
        <li key={run.executionId}>
          <Link to={`/executions/${run.executionId}`} className="mono">
            {run.executionId}
          </Link>{" "}
          {run.status ? <StatusBadge status={run.status} /> : null}{" "}
          <span className="muted">{formatDateTime(run.at)}</span>
        </li>
      ))}
    </ul>
  );
}
