// The landing page: what to do next (roles → orchestration → run), and the latest executions.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { ExecutionsTable } from "../components/executions-table";
import { ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { plural } from "../lib/format";
import { Link } from "../lib/router";
import { useTRPC } from "../lib/trpc";
import { LARGEST_PAGE } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

function Step({ done, title, children }: { done: boolean; title: string; children: ReactNode }) {
  return (
    <li className={`checklist-item ${done ? "done" : ""}`}>
      <span className="check-mark" aria-hidden="true">
        {done ? "✓" : ""}
      </span>
      <div>
        <strong>
          {title}
          {done ? <span className="visually-hidden"> (done)</span> : null}
        </strong>
        <p className="muted">{children}</p>
      </div>
    </li>
  );
}

export function OverviewPage() {
  useTitle("Overview");
  const trpc = useTRPC();
  const roles = useQuery(trpc.role.list.queryOptions(LARGEST_PAGE));
  const orchestrations = useQuery(trpc.orchestrationManagement.list.queryOptions(LARGEST_PAGE));
  const executions = useQuery(trpc.orchestrationManagement.listExecutions.queryOptions({ limit: 8 }));
  const roleCount = roles.data?.items.length ?? 0;
  const orchestrationCount = orchestrations.data?.items.length ?? 0;
  // Counted from one page: past it, "more than".
  const moreThan = (page: { nextCursor: string | null } | undefined) =>
    page?.nextCursor ? "More than " : "";
  const executionCount = executions.data?.items.length ?? 0;
  return (
    <>
      <PageHeader
        title="Overview"
        subtitle="Define roles, chain them into orchestrations, run them and watch each step."
      />
      <ErrorNotice error={roles.error ?? orchestrations.error ?? executions.error} />
      <section className="card" aria-labelledby="getting-started">
        <h2 id="getting-started">Getting started</h2>
        <ol className="checklist">
          <Step
            done={roleCount > 0}
            title={
              roleCount
                ? `${moreThan(roles.data)}${plural(roleCount, "role")} defined`
                : "Create the roles your steps need"
            }
          >
            <Link to="/roles/new">New role</Link>: a prompt, capabilities and a model, e.g. Architect, Coder,
            Code Reviewer.
          </Step>
          <Step
            done={orchestrationCount > 0}
            title={
              orchestrationCount
                ? `${moreThan(orchestrations.data)}${plural(orchestrationCount, "orchestration")}`
                : "Create an orchestration"
            }
          >
            <Link to="/orchestrations/new">New orchestration</Link>: start from the Planner-Executor-Reviewer
            template.
          </Step>
          <Step done={executionCount > 0} title={executionCount ? "Runs recorded" : "Run it and watch"}>
            Open an orchestration in <Link to="/orchestrations">Orchestrations</Link>, give it an input and
            press Run.
          </Step>
          <Step done={false} title="Call Troupe from your own code (optional)">
            Create an <Link to="/keys">API key</Link>, or let a role with the meta tool write agent code in
            the <Link to="/console">console</Link>.
          </Step>
        </ol>
      </section>
      <section aria-labelledby="recent">
        <h2 id="recent">Latest executions</h2>
        {executions.isPending ? <Spinner /> : null}
        {executions.data?.items.length === 0 ? <p className="muted">Nothing has run yet.</p> : null}
        {executions.data?.items.length ? (
          <ExecutionsTable items={executions.data.items} caption="Latest executions" />
        ) : null}
        {executionCount ? (
          <p>
            <Link to="/executions">All executions →</Link>
          </p>
        ) : null}
      </section>
    </>
  );
}
