// Roles: search by name or prompt, see each role's tools (meta marked as privileged) and model at a glance;
// a page at a time, "Show more" for the next.
import { useState } from "react";
import { ShowMore } from "../components/show-more";
import { EmptyState, ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { Link } from "../lib/router";
import { type Role, useTRPC, useTRPCClient } from "../lib/trpc";
import { useDebounced } from "../lib/use-debounced";
import { usePagedList } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

function RoleCard({ role }: { role: Role }) {
  const capabilities = [
    role.capabilities.needsCoding ? "coding" : null,
    role.capabilities.needsTools ? "tools" : null,
    role.capabilities.needsReasoning ? "reasoning" : null,
  ].filter(Boolean);
  return (
    <li className="card role-card">
      <h2>
        <Link to={`/roles/${role.id}`}>{role.name}</Link>
      </h2>
      <p className="muted clamp">{role.description || role.basePrompt}</p>
      <p className="meta-row">
        {role.tools.map((tool) =>
          tool === "meta" ? (
            <span key={tool} className="badge privilege-badge" title="Can change roles and orchestrations">
              meta · privileged
            </span>
          ) : (
            <span key={tool} className="tag">
              {tool}
            </span>
          ),
        )}
        <span className="muted">
          {role.hyperparameters.model ?? "model chosen by Troupe"} · temperature{" "}
          {role.hyperparameters.temperature}
          {capabilities.length ? ` · ${capabilities.join(", ")}` : ""}
        </span>
      </p>
    </li>
  );
}

export function RolesPage() {
  useTitle("Roles");
  const trpc = useTRPC();
  const client = useTRPCClient();
  const [search, setSearch] = useState("");
  const settled = useDebounced(search.trim());
  const filter = settled ? { search: settled } : {};
  const roles = usePagedList([...trpc.role.list.pathKey(), { pages: filter }], (cursor) =>
    client.role.list.query({ ...filter, ...(cursor ? { cursor } : {}) }),
  );
  return (
    <>
      <PageHeader
        title="Roles"
        subtitle="Agents your orchestrations call: each step names a role."
        actions={
          <Link to="/roles/new" className="button primary">
            New role
          </Link>
        }
      />
      <div className="toolbar">
        <label className="search">
          <span className="visually-hidden">Search roles</span>
          <input
            type="search"
            placeholder="Search by name or prompt"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </label>
        {roles.isFetching && !roles.isPending ? <Spinner label="Searching…" /> : null}
      </div>
      {roles.isPending ? <Spinner label="Loading roles…" /> : null}
      <ErrorNotice error={roles.error} onRetry={() => void roles.refetch()} />
      {roles.items?.length === 0 ? (
        settled ? (
          <EmptyState title={`No role matches “${settled}”`}>
            <p>Try another word, or clear the search to see every role.</p>
          </EmptyState>
        ) : (
          <EmptyState title="No roles yet">
            <p>
              Start with a role such as an Architect, a Coder or a Reviewer:{" "}
              <Link to="/roles/new">create a role</Link>. Orchestrations need the roles their steps name
              before they can run.
            </p>
          </EmptyState>
        )
      ) : null}
      {roles.items?.length ? (
        <ul className="card-grid" aria-label="Roles">
          {roles.items.map((role) => (
            <RoleCard key={role.id} role={role} />
          ))}
        </ul>
      ) : null}
      <ShowMore list={roles} what="roles" />
    </>
  );
}
