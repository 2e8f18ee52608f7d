// Webhooks: create one (its signing secret shown once, with a copy button), list them, edit, disable or
// enable, delete after confirming, and see each one's deliveries with every attempt and "Redeliver".
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { CopyField } from "../components/copy-button";
import { ConfirmDialog } from "../components/dialog";
import { ShowMore } from "../components/show-more";
import { EmptyState, ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { WebhookDeliveries } from "../components/webhook-deliveries";
import { type WebhookDraft, WebhookForm } from "../components/webhook-form";
import { describeError } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { type RouterOutputs, useTRPC, useTRPCClient } from "../lib/trpc";
import { LARGEST_PAGE, usePagedList } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

type Webhook = RouterOutputs["webhook"]["list"]["items"][number];

const NEW_DRAFT: WebhookDraft = {
  url: "",
  events: ["execution.completed", "execution.failed"],
  orchestrationId: "",
};

export function WebhooksPage() {
  useTitle("Webhooks");
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const hooks = usePagedList([...trpc.webhook.list.pathKey(), { pages: {} }], (cursor) =>
    client.webhook.list.query(cursor ? { cursor } : {}),
  );
  const orchestrations = useQuery(trpc.orchestrationManagement.list.queryOptions(LARGEST_PAGE));
  const orchestrationName = (id: string) =>
    orchestrations.data?.items.find((orchestration) => orchestration.id === id)?.name ?? id;
  const [created, setCreated] = useState<{ url: string; secret: string } | null>(null);
  const [formKey, setFormKey] = useState(0);
  const [editing, setEditing] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.webhook.list.pathKey() });
  const create = useMutation(
    trpc.webhook.create.mutationOptions({
      onSuccess: async (hook) => {
        setCreated({ url: hook.url, secret: hook.secret });
        setFormKey((key) => key + 1);
        await refresh();
      },
    }),
  );
  const update = useMutation(
    trpc.webhook.update.mutationOptions({
      onSuccess: async () => {
        setEditing(null);
        await refresh();
      },
    }),
  );
  const remove = useMutation(
    trpc.webhook.delete.mutationOptions({
      onSuccess: async () => {
        setDeleting(null);
        await refresh();
      },
    }),
  );
  const createIssues = create.error ? describeError(create.error).issues : [];
  const updateIssues = update.error ? describeError(update.error).issues : [];

  return (
    <>
      <PageHeader
        title="Webhooks"
        subtitle="Troupe POSTs a signed JSON summary to your endpoint when a run ends or an approval waits, and retries for 24 hours until it answers 2xx."
      />
      <section className="card" aria-labelledby="new-webhook">
        <h2 id="new-webhook">Add a webhook</h2>
        <WebhookForm
          key={formKey}
          initial={NEW_DRAFT}
          submitLabel="Create webhook"
          busy={create.isPending}
          issues={createIssues}
          onSubmit={(draft) =>
            create.mutate({
              url: draft.url,
              events: draft.events,
              ...(draft.orchestrationId ? { orchestrationId: draft.orchestrationId } : {}),
            })
          }
        />
        {create.error && createIssues.length === 0 ? <ErrorNotice error={create.error} /> : null}
        {created ? (
          <div className="notice notice-success" role="status">
            <p>
              <strong>Webhook for {created.url} created.</strong> Copy its signing secret now: it verifies the
              Troupe-Signature header, and it cannot be shown again.
            </p>
            <CopyField value={created.secret} label="Signing secret" copyLabel="Copy secret">
              <button type="button" className="button small" onClick={() => setCreated(null)}>
                Done
              </button>
            </CopyField>
          </div>
        ) : null}
      </section>

      <section aria-labelledby="webhook-list">
        <h2 id="webhook-list">Your webhooks</h2>
        {hooks.isPending ? <Spinner /> : null}
        <ErrorNotice error={hooks.error} onRetry={() => void hooks.refetch()} />
        <ErrorNotice error={update.error && updateIssues.length === 0 ? update.error : null} />
        {hooks.items?.length === 0 ? (
          <EmptyState title="No webhooks yet">
            <p>Add one above to hear about runs as they end, without polling.</p>
          </EmptyState>
        ) : null}
        {hooks.items?.map((hook) => (
          <article
            key={hook.id}
            className="card"
            data-webhook-url={hook.url}
            aria-label={`Webhook ${hook.url}`}
          >
            <p>
              <strong className="mono">{hook.url}</strong>{" "}
              <span className={`badge ${hook.enabled ? "status-completed" : "status-cancelled"}`}>
                {hook.enabled ? "Enabled" : "Disabled"}
              </span>
            </p>
            <p>
              {hook.events.map((event) => (
                <span key={event} className="tag">
                  {event}
                </span>
              ))}{" "}
              <small className="muted">
                {hook.orchestrationId
                  ? `only ${orchestrationName(hook.orchestrationId)}`
                  : "every orchestration"}{" "}
                · created {formatDateTime(hook.createdAt)}
              </small>
            </p>
            {editing === hook.id ? (
              <WebhookForm
                initial={{ url: hook.url, events: hook.events, orchestrationId: hook.orchestrationId ?? "" }}
                submitLabel="Save changes"
                busy={update.isPending}
                issues={updateIssues}
                onCancel={() => setEditing(null)}
                onSubmit={(draft) =>
                  update.mutate({
                    id: hook.id,
                    url: draft.url,
                    events: draft.events,
                    orchestrationId: draft.orchestrationId || null,
                  })
                }
              />
            ) : null}
            <div className="actions">
              <button
                type="button"
                className="button small"
                aria-expanded={open === hook.id}
                onClick={() => setOpen(open === hook.id ? null : hook.id)}
              >
                {open === hook.id ? "Hide deliveries" : "Deliveries"}
              </button>
              <button type="button" className="button small" onClick={() => setEditing(hook.id)}>
                Edit<span className="visually-hidden"> {hook.url}</span>
              </button>
              <button
                type="button"
                className="button small"
                disabled={update.isPending}
                onClick={() => update.mutate({ id: hook.id, enabled: !hook.enabled })}
              >
                {hook.enabled ? "Disable" : "Enable"}
                <span className="visually-hidden"> {hook.url}</span>
              </button>
              <button type="button" className="button small danger" onClick={() => setDeleting(hook)}>
                Delete<span className="visually-hidden"> {hook.url}</span>
              </button>
            </div>
            {open === hook.id ? <WebhookDeliveries webhookId={hook.id} /> : null}
          </article>
        ))}
        <ShowMore list={hooks} what="webhooks" />
      </section>

      <ConfirmDialog
        open={deleting !== null}
        title={`Delete the webhook for ${deleting?.url ?? ""}?`}
        confirmLabel="Delete webhook"
        danger
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate({ id: deleting.id })}
      >
        <p>Nothing more is sent to it, and its deliveries and their attempts are deleted with it.</p>
        <ErrorNotice error={remove.error} />
      </ConfirmDialog>
    </>
  );
}
