// Add a provider, or edit one (its key stays as stored unless a new one is typed). Server field errors
// land on the field they name; after saving, the providers list opens, where the connection can be tested.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ProviderForm } from "../components/provider-form";
import { ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { describeError, type FieldIssue } from "../lib/errors";
import { createInputOf, draftOf, emptyProvider, type ProviderDraft, updatesOf } from "../lib/provider-draft";
import { Link, navigate } from "../lib/router";
import { useTRPC } from "../lib/trpc";
import { LARGEST_PAGE } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

const FIELD_LABELS: Record<string, string> = {
  name: "Name",
  kind: "Kind",
  baseUrl: "Base URL",
  apiKey: "API key",
  models: "Models",
  id: "id",
  contextWindow: "context window",
  priceIn: "price in",
  priceOut: "price out",
  capabilities: "capabilities",
};

/** The form's names for the API's field paths: "models[1].priceIn" reads "Model 2 price in". */
function labelOf(path: string): string {
  const model = /^models\[(\d+)\]\.?(\w*)/.exec(path);
  if (model)
    return `Model ${Number(model[1]) + 1}${model[2] ? ` ${FIELD_LABELS[model[2]] ?? model[2]}` : ""}`;
  return FIELD_LABELS[path] ?? (path || "Provider");
}

/** provider.update reports paths under "updates."; the form knows them without it. */
function formIssues(error: unknown): FieldIssue[] {
  if (!error) return [];
  return describeError(error).issues.map((issue) => ({
    ...issue,
    path: issue.path.replace(/^updates\.?/, ""),
  }));
}

function IssueSummary({ issues }: { issues: FieldIssue[] }) {
  if (!issues.length) return null;
  return (
    <div className="notice notice-error" role="alert">
      <strong>Please fix {issues.length === 1 ? "this field" : `these ${issues.length} fields`}:</strong>{" "}
      {issues.map((issue) => `${labelOf(issue.path)} ${issue.message}`).join("; ")}
    </div>
  );
}

export function ProviderEditorPage({ providerId }: { providerId?: string }) {
  const editing = providerId !== undefined;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const providers = useQuery({
    ...trpc.provider.list.queryOptions(LARGEST_PAGE),
    select: (page) => page.items,
    enabled: editing,
  });
  const stored = providers.data?.find((provider) => provider.id === providerId);
  const [draft, setDraft] = useState<ProviderDraft>(emptyProvider);
  useTitle(editing ? `Provider ${stored?.name ?? ""}` : "Add provider");

  useEffect(() => {
    if (stored) setDraft(draftOf(stored));
  }, [stored]);

  const done = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.provider.pathKey() });
    navigate("/providers");
  };
  const create = useMutation(trpc.provider.create.mutationOptions({ onSuccess: done }));
  const update = useMutation(trpc.provider.update.mutationOptions({ onSuccess: done }));
  const save = () => {
    if (editing && stored) update.mutate({ providerId: stored.id, updates: updatesOf(draft) });
    else create.mutate(createInputOf(draft));
  };
  const error = editing ? update.error : create.error;
  const issues = formIssues(error);

  if (editing && providers.isPending) return <Spinner label="Loading the provider…" />;
  if (editing && providers.error)
    return <ErrorNotice error={providers.error} onRetry={() => void providers.refetch()} />;
  if (editing && !stored) {
    return (
      <ErrorNotice
        error={new Error(`there is no provider ${providerId} in your team; it may have been deleted`)}
        title="Not found"
      />
    );
  }

  return (
    <>
      <PageHeader
        title={editing ? `Provider: ${stored?.name ?? ""}` : "Add provider"}
        subtitle={
          <>
            An endpoint and key of your own, and the models it serves.{" "}
            <Link to="/providers">All providers</Link>
          </>
        }
      />
      {error && issues.length === 0 ? <ErrorNotice error={error} /> : null}
      <IssueSummary issues={issues} />
      <ProviderForm
        draft={draft}
        onChange={setDraft}
        onSubmit={save}
        issues={issues}
        keyLast4={editing ? (stored?.keyLast4 ?? null) : undefined}
        submitLabel={editing ? "Save changes" : "Add provider"}
        busy={create.isPending || update.isPending}
      />
    </>
  );
}
