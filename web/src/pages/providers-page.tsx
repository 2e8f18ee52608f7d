// The tenant's own model providers: each with its endpoint, the last four characters of its key and its
// models (context window, prices, capabilities); test one with a tiny call, edit it, delete it after
// confirming.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ConfirmDialog } from "../components/dialog";
import { ShowMore } from "../components/show-more";
import { EmptyState, ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { formatDuration, formatPrices, formatTokens } from "../lib/format";
import { CAPABILITIES, type Provider } from "../lib/provider-draft";
import { Link } from "../lib/router";
import { type RouterOutputs, useTRPC, useTRPCClient } from "../lib/trpc";
import { usePagedList } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

type TestResult = RouterOutputs["provider"]["test"];

function TestOutcome({ result }: { result: TestResult }) {
  if (!result.ok) {
    return (
      <div className="notice notice-error" role="alert" data-test-outcome="failed">
        <strong>The test call failed</strong>
        {result.model ? (
          <>
            {" "}
            (model <code>{result.model}</code>)
          </>
        ) : null}
        : {result.error ?? "no reason given"}
      </div>
    );
  }
  return (
    <output className="notice notice-success" data-test-outcome="ok">
      <strong>Connected</strong> in {formatDuration(result.latencyMs)}: <code>{result.model}</code> replied “
      {result.reply ?? ""}”
    </output>
  );
}

function ModelsTable({ provider }: { provider: Provider }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Context</th>
            <th scope="col">Price</th>
            <th scope="col">Capabilities</th>
          </tr>
        </thead>
        <tbody>
          {provider.models.map((model) => (
            <tr key={model.id}>
              <td className="mono">{model.id}</td>
              <td>{formatTokens(model.contextWindow)}</td>
              <td>{formatPrices(model.priceIn, model.priceOut)}</td>
              <td>
                {CAPABILITIES.filter(([key]) => model.capabilities[key]).map(([key, label]) => (
                  <span key={key} className="tag">
                    {label}
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Which model the test call uses: the provider's first unless another is picked. */
function TestModelPicker({
  provider,
  value,
  onChange,
}: {
  provider: Provider;
  value: string;
  onChange: (model: string) => void;
}) {
  if (provider.models.length < 2) return null;
  return (
    <label className="test-model">
      <span className="visually-hidden">Model to test for {provider.name}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {provider.models.map((model) => (
          <option key={model.id} value={model.id}>
            {model.id}
          </option>
        ))}
      </select>
    </label>
  );
}

function ProviderCard({ provider, onDelete }: { provider: Provider; onDelete: () => void }) {
  const trpc = useTRPC();
  const test = useMutation(trpc.provider.test.mutationOptions());
  const [testModel, setTestModel] = useState(provider.models[0]?.id ?? "");
  return (
    <li className="card provider-card" data-provider={provider.name}>
      <div className="card-head">
        <div>
          <h2>
            <Link to={`/providers/${provider.id}`}>{provider.name}</Link>
          </h2>
          <p className="meta-row">
            <span className="badge">{provider.kind}</span>
            {provider.baseUrl ? <span className="mono">{provider.baseUrl}</span> : null}
            <span className="mono" title="Only the last four characters of the key are ever shown">
              {provider.keyLast4 ? `key ••••${provider.keyLast4}` : "no key"}
            </span>
          </p>
        </div>
        <div className="actions">
          <TestModelPicker provider={provider} value={testModel} onChange={setTestModel} />
          <button
            type="button"
            className="button small"
            onClick={() => test.mutate({ providerId: provider.id, model: testModel || undefined })}
            disabled={test.isPending}
          >
            {test.isPending ? "Testing…" : "Test connection"}
            <span className="visually-hidden"> of {provider.name}</span>
          </button>
          <Link to={`/providers/${provider.id}`} className="button small">
            Edit<span className="visually-hidden"> {provider.name}</span>
          </Link>
          <button type="button" className="button small danger" onClick={onDelete}>
            Delete<span className="visually-hidden"> {provider.name}</span>
          </button>
        </div>
      </div>
      {test.data ? <TestOutcome result={test.data} /> : null}
      <ErrorNotice error={test.error} />
      <ModelsTable provider={provider} />
    </li>
  );
}

export function ProvidersPage() {
  useTitle("Providers");
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const client = useTRPCClient();
  const providers = usePagedList([...trpc.provider.list.pathKey(), { pages: {} }], (cursor) =>
    client.provider.list.query(cursor ? { cursor } : {}),
  );
  const [deleting, setDeleting] = useState<Provider | null>(null);
  const remove = useMutation(
    trpc.provider.delete.mutationOptions({
      onSuccess: async () => {
        setDeleting(null);
        await queryClient.invalidateQueries({ queryKey: trpc.provider.pathKey() });
      },
    }),
  );
  return (
    <>
      <PageHeader
        title="Providers"
        subtitle="Bring your own model endpoints and keys. Roles pick from these models first, then Troupe's own."
        actions={
          <Link to="/providers/new" className="button primary">
            Add provider
          </Link>
        }
      />
      {providers.isPending ? <Spinner label="Loading providers…" /> : null}
      <ErrorNotice error={providers.error} onRetry={() => void providers.refetch()} />
      {providers.items?.length === 0 ? (
        <EmptyState title="No providers yet">
          <p>
            Steps use Troupe&apos;s platform models until you <Link to="/providers/new">add a provider</Link>:
            an OpenAI-compatible endpoint (OpenAI, OpenRouter, a server of your own) with your key.
          </p>
        </EmptyState>
      ) : null}
      {providers.items?.length ? (
        <ul className="provider-list">
          {providers.items.map((provider) => (
            <ProviderCard key={provider.id} provider={provider} onDelete={() => setDeleting(provider)} />
          ))}
        </ul>
      ) : null}
      <ShowMore list={providers} what="providers" />
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete the provider “${deleting?.name ?? ""}”?`}
        confirmLabel="Delete provider"
        danger
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate({ providerId: deleting.id })}
      >
        <p>
          {deleting?.keyLast4 ? "Its stored key is erased. " : ""}Roles that name its models cannot be saved
          again until they name another model, and steps that call it fail until then.
        </p>
        <ErrorNotice error={remove.error} />
      </ConfirmDialog>
    </>
  );
}
