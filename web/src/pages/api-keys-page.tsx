// API keys: create one with its scopes and expiry (shown once, with a copy button), list them with what
// each may do and until when, revoke one after confirming.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { CopyField } from "../components/copy-button";
import { ConfirmDialog } from "../components/dialog";
import { Field } from "../components/field";
import { ShowMore } from "../components/show-more";
import { EmptyState, ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { describeError, issuesAt } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { type RouterOutputs, useTRPC, useTRPCClient } from "../lib/trpc";
import { usePagedList } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

type ApiKey = RouterOutputs["apiKey"]["list"]["items"][number];
type Scope = ApiKey["scopes"][number];

/** worker/limits.ts's API_KEY_SCOPES with what each allows; restated so the bundle does not pull in the worker. */
const SCOPE_CHOICES: { scope: Scope; allows: string }[] = [
  { scope: "read", allows: "list and read roles, orchestrations, executions" },
  { scope: "run", allows: "execute, cancel, resume, re-run, approve, run agent code" },
  { scope: "write", allows: "create, change and delete roles, orchestrations, providers" },
  { scope: "admin", allows: "everything, tenant-wide operations included" },
];
const ALL_SCOPES = SCOPE_CHOICES.map((choice) => choice.scope);
const EXPIRY_CHOICES = [
  { value: "", label: "Never" },
  { value: "7", label: "In 7 days" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In a year" },
];

function stateOf(key: ApiKey, now: number): { label: string; className: string } {
  if (key.revokedAt)
    return { label: `Revoked ${formatDateTime(key.revokedAt)}`, className: "status-cancelled" };
  if (key.expiresAt && Date.parse(key.expiresAt) <= now)
    return { label: `Expired ${formatDateTime(key.expiresAt)}`, className: "status-failed" };
  return { label: "Active", className: "status-completed" };
}

export function ApiKeysPage() {
  useTitle("API keys");
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const client = useTRPCClient();
  const keys = usePagedList([...trpc.apiKey.list.pathKey(), { pages: {} }], (cursor) =>
    client.apiKey.list.query(cursor ? { cursor } : {}),
  );
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(ALL_SCOPES);
  const [expiresInDays, setExpiresInDays] = useState("");
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiKey.list.pathKey() });
  const create = useMutation(
    trpc.apiKey.create.mutationOptions({
      onSuccess: async (key) => {
        setCreated({ name: key.name, key: key.key });
        setName("");
        setScopes(ALL_SCOPES);
        setExpiresInDays("");
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
    create.mutate({
      name,
      scopes,
      ...(expiresInDays ? { expiresInDays: Number(expiresInDays) } : {}),
    });
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
          <Field
            label="Expires"
            hint="After this the key is refused."
            errors={[...issuesAt(createIssues, "expiresInDays"), ...issuesAt(createIssues, "expiresAt")]}
          >
            <select value={expiresInDays} onChange={(e) => setExpiresInDays(e.target.value)}>
              {EXPIRY_CHOICES.map((choice) => (
                <option key={choice.value} value={choice.value}>
                  {choice.label}
                </option>
              ))}
            </select>
          </Field>
          <fieldset className="span-all">
            <legend>Scopes: what the key may do</legend>
            {SCOPE_CHOICES.map(({ scope, allows }) => (
              <label key={scope} className="check">
                <input
                  type="checkbox"
                  checked={scopes.includes(scope)}
                  onChange={(e) =>
                    setScopes(ALL_SCOPES.filter((s) => (s === scope ? e.target.checked : scopes.includes(s))))
                  }
                />
                <span>
                  <strong>{scope}</strong> <small>{allows}</small>
                </span>
              </label>
            ))}
            {issuesAt(createIssues, "scopes").map((message) => (
              <small key={message} className="field-error">
                {message}
              </small>
            ))}
          </fieldset>
          <button
            type="submit"
            className="button primary"
            disabled={create.isPending || !name.trim() || scopes.length === 0}
          >
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
            <CopyField value={created.key} label="New API key" copyLabel="Copy key">
              <button type="button" className="button small" onClick={() => setCreated(null)}>
                Done
              </button>
            </CopyField>
          </div>
        ) : null}
      </section>

      <section aria-labelledby="key-list">
        <h2 id="key-list">Your keys</h2>
        {keys.isPending ? <Spinner /> : null}
        <ErrorNotice error={keys.error} onRetry={() => void keys.refetch()} />
        {keys.items?.length === 0 ? (
          <EmptyState title="No API keys yet">
            <p>Create one above to call the API from scripts, CI or your own client.</p>
          </EmptyState>
        ) : null}
        {keys.items?.length ? (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Expires</th>
                  <th scope="col">State</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.items.map((key) => (
                  <tr key={key.id} data-key-name={key.name}>
                    <td>{key.name}</td>
                    <td className="mono">{key.prefix}…</td>
                    <td>{formatDateTime(key.createdAt)}</td>
                    <td>{key.lastUsedAt ? formatDateTime(key.lastUsedAt) : "never"}</td>
                    <td>
                      {key.scopes.map((scope) => (
                        <span key={scope} className="tag">
                          {scope}
                        </span>
                      ))}
                    </td>
                    <td>{key.expiresAt ? formatDateTime(key.expiresAt) : "never"}</td>
                    <td>
                      <span className={`badge ${stateOf(key, Date.now()).className}`}>
                        {stateOf(key, Date.now()).label}
                      </span>
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
        <ShowMore list={keys} what="keys" />
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
