// API keys: create one (shown once, with a copy button), list them, revoke one after confirming.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { CopyButton } from "../components/copy-button";
import { ConfirmDialog } from "../components/dialog";
import { Field } from "../components/field";
import { EmptyState, ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { describeError, issuesAt } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { type RouterOutputs, useTRPC } from "../lib/trpc";
import { useTitle } from "../lib/use-title";

type ApiKey = RouterOutputs["apiKey"]["list"][number];

export function ApiKeysPage() {
  useTitle("API keys");
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.apiKey.list.queryOptions());
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiKey.list.queryKey() });
  const create = useMutation(
    trpc.apiKey.create.mutationOptions({
      onSuccess: async (key) => {
        setCreated({ name: key.name, key: key.key });
        setName("");
        await refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.apiKey.revoke.mutationOptions({
      onSuccess: async () => {
        setRevoking(null);
        await refresh();
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name });
  };
  const createIssues = create.error ? describeError(create.error).issues : [];

  return (
    <>
      <PageHeader
        title="API keys"
        subtitle="Keys let your own programs call the Troupe API: send them as “Authorization: Bearer <key>”."
      />
      <section className="card" aria-labelledby="new-key">
        <h2 id="new-key">Create a key</h2>
        <form className="inline-form" onSubmit={submit}>
          <Field
            label="Key name"
            hint="Say where it will be used, e.g. “CI pipeline”."
            errors={issuesAt(createIssues, "name")}
          >
            <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
          </Field>
          <button type="submit" className="button primary" disabled={create.isPending || !name.trim()}>
            {create.isPending ? "Creating…" : "Create key"}
          </button>
        </form>
        {create.error && createIssues.length === 0 ? <ErrorNotice error={create.error} /> : null}
        {created ? (
          <div className="notice notice-success" role="status">
            <p>
              <strong>Key “{created.name}” created.</strong> Copy it now: Troupe stores only a hash, so it
              cannot show it again.
            </p>
            <div className="secret-row">
              <input
                readOnly
                value={created.key}
                aria-label="New API key"
                className="mono"
                onFocus={(e) => e.target.select()}
              />
              <CopyButton text={created.key} label="Copy key" />
              <button type="button" className="button small" onClick={() => setCreated(null)}>
                Done
              </button>
            </div>
          </div>
        ) : null}
      </section>

      <section aria-labelledby="key-list">
        <h2 id="key-list">Your keys</h2>
        {keys.isPending ? <Spinner /> : null}
        <ErrorNotice error={keys.error} onRetry={() => void keys.refetch()} />
        {keys.data?.length === 0 ? (
          <EmptyState title="No API keys yet">
            <p>Create one above to call the API from scripts, CI or your own client.</p>
          </EmptyState>
        ) : null}
        {keys.data?.length ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">State</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.map((key) => (
                  <tr key={key.id} data-key-name={key.name}>
                    <td>{key.name}</td>
                    <td className="mono">{key.prefix}…</td>
                    <td>{formatDateTime(key.createdAt)}</td>
                    <td>{key.lastUsedAt ? formatDateTime(key.lastUsedAt) : "never"}</td>
                    <td>
                      {key.revokedAt ? (
                        <span className="badge status-cancelled">
                          Revoked {formatDateTime(key.revokedAt)}
                        </span>
                      ) : (
                        <span className="badge status-completed">Active</span>
                      )}
                    </td>
                    <td>
                      {key.revokedAt ? null : (
                        <button
                          type="button"
                          className="button small danger"
                          onClick={() => setRevoking(key)}
                        >
                          Revoke<span className="visually-hidden"> {key.name}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>

      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke “${revoking?.name ?? ""}”?`}
        confirmLabel="Revoke key"
        danger
        busy={revoke.isPending}
        onCancel={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate({ apiKeyId: revoking.id })}
      >
        <p>Programs using this key stop working on their next request. This cannot be undone.</p>
        <ErrorNotice error={revoke.error} />
      </ConfirmDialog>
    </>
  );
}
