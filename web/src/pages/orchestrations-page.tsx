// Orchestrations: filter by tags (all must match), show only active ones, search by name, and switch an
// orchestration on or off in place; a page at a time, "Show more" for the next.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ShowMore } from "../components/show-more";
import { EmptyState, ErrorNotice, PageHeader, Spinner, Tag } from "../components/ui";
import { plural } from "../lib/format";
import { Link } from "../lib/router";
import { type Orchestration, useTRPC, useTRPCClient } from "../lib/trpc";
import { useDebounced } from "../lib/use-debounced";
import { LARGEST_PAGE, usePagedList } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

function ActiveSwitch({ orchestration }: { orchestration: Orchestration }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Shows the new position at once; the server's answer (or its refusal) settles it.
  const [wanted, setWanted] = useState<boolean | null>(null);
  const toggle = useMutation(
    trpc.orchestrationManagement.update.mutationOptions({
      onSettled: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.orchestrationManagement.pathKey() });
        setWanted(null);
      },
    }),
  );
  const active = wanted ?? orchestration.isActive;
  return (
    <div>
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          aria-checked={active}
          checked={active}
          disabled={toggle.isPending}
          onChange={(e) => {
            setWanted(e.target.checked);
            toggle.mutate({ orchestrationId: orchestration.id, updates: { isActive: e.target.checked } });
          }}
        />
        <span>{toggle.isPending ? "Saving…" : active ? "Active" : "Inactive"}</span>
        <span className="visually-hidden"> {orchestration.name}</span>
      </label>
      <ErrorNotice error={toggle.error} />
    </div>
  );
}

function OrchestrationCard({ orchestration }: { orchestration: Orchestration }) {
  return (
    <li className="card orchestration-card" data-orchestration={orchestration.name}>
      <div className="card-head">
        <h2>
          <Link to={`/orchestrations/${orchestration.id}`}>{orchestration.name}</Link>
        </h2>
        <ActiveSwitch orchestration={orchestration} />
      </div>
      {orchestration.description ? <p className="muted clamp">{orchestration.description}</p> : null}
      <p className="meta-row">
        {orchestration.tags.map((tag) => (
          <Tag key={tag}>{tag}</Tag>
        ))}
        <span className="muted">
          v{orchestration.version} · {plural(orchestration.steps.length, "step")}
        </span>
        {orchestration.warnings.length ? (
          <span className="badge status-waiting_retry">
            {plural(orchestration.warnings.length, "warning")}
          </span>
        ) : null}
      </p>
      <p className="actions">
        <Link to={`/orchestrations/${orchestration.id}`} className="button small primary">
          Run<span className="visually-hidden"> {orchestration.name}</span>
        </Link>
        <Link to={`/orchestrations/${orchestration.id}/edit`} className="button small">
          Edit<span className="visually-hidden"> {orchestration.name}</span>
        </Link>
      </p>
    </li>
  );
}

export function OrchestrationsPage() {
  useTitle("Orchestrations");
  const trpc = useTRPC();
  const [tags, setTags] = useState<string[]>([]);
  const [activeOnly, setActiveOnly] = useState(false);
  const [search, setSearch] = useState("");
  const settled = useDebounced(search.trim());
  const client = useTRPCClient();
  // The tags to filter by, from the first (largest) page of orchestrations.
  const all = useQuery(trpc.orchestrationManagement.list.queryOptions(LARGEST_PAGE));
  const filter = { tags, activeOnly, ...(settled ? { search: settled } : {}) };
  const list = usePagedList([...trpc.orchestrationManagement.list.pathKey(), { pages: filter }], (cursor) =>
    client.orchestrationManagement.list.query({ ...filter, ...(cursor ? { cursor } : {}) }),
  );
  const knownTags = [...new Set((all.data?.items ?? []).flatMap((o) => o.tags))].sort();
  const toggleTag = (tag: string) =>
    setTags((current) => (current.includes(tag) ? current.filter((t) => t !== tag) : [...current, tag]));
  const filtered = tags.length > 0 || activeOnly || Boolean(settled);

  return (
    <>
      <PageHeader
        title="Orchestrations"
        subtitle="Workflows of steps: sequential, parallel, conditional, with retries and timeouts."
        actions={
          <Link to="/orchestrations/new" className="button primary">
            New orchestration
          </Link>
        }
      />
      <div className="toolbar">
        <label className="search">
          <span className="visually-hidden">Search orchestrations</span>
          <input
            type="search"
            placeholder="Search by name"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </label>
        <label className="check">
          <input type="checkbox" checked={activeOnly} onChange={(e) => setActiveOnly(e.target.checked)} />
          Active only
        </label>
      </div>
      {knownTags.length ? (
        <fieldset className="tag-filter">
          <legend>Tags (show orchestrations with all selected)</legend>
          {knownTags.map((tag) => (
            <label key={tag} className={`tag-toggle ${tags.includes(tag) ? "on" : ""}`}>
              <input type="checkbox" checked={tags.includes(tag)} onChange={() => toggleTag(tag)} />
              {tag}
            </label>
          ))}
        </fieldset>
      ) : null}
      {list.isPending ? <Spinner label="Loading orchestrations…" /> : null}
      <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />
      {list.items?.length === 0 ? (
        filtered ? (
          <EmptyState title="No orchestration matches these filters">
            <p>Clear a tag, the search or “Active only” to see more.</p>
          </EmptyState>
        ) : (
          <EmptyState title="No orchestrations yet">
            <p>
              <Link to="/orchestrations/new">Create one</Link> from a template such as
              Planner-Executor-Reviewer, then run it. Make sure the <Link to="/roles">roles</Link> its steps
              name exist.
            </p>
          </EmptyState>
        )
      ) : null}
      {list.items?.length ? (
        <ul className="card-grid" aria-label="Orchestrations">
          {list.items.map((orchestration) => (
            <OrchestrationCard key={orchestration.id} orchestration={orchestration} />
          ))}
        </ul>
      ) : null}
      <ShowMore list={list} what="orchestrations" />
    </>
  );
}
