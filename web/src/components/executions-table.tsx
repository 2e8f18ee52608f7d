// A table of executions: status, orchestration, start time, duration; each row opens the execution (a
// child run started by an orchestration step links to its parent too).
import { formatDateTime, formatDuration, shortId } from "../lib/format";
import { Link } from "../lib/router";
import type { ExecutionSummary } from "../lib/trpc";
import { StatusBadge } from "./ui";

export function ExecutionsTable({ items, caption }: { items: readonly ExecutionSummary[]; caption: string }) {
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Orchestration</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Execution</th>
          </tr>
        </thead>
        <tbody>
          {items.map((execution) => (
            <tr key={execution.id} data-execution-id={execution.id}>
              <td>
                <StatusBadge status={execution.status} />
              </td>
              <td>
                <Link to={`/executions/${execution.id}`}>{execution.orchestrationName}</Link>{" "}
                <span className="muted">v{execution.orchestrationVersion}</span>
                {execution.parentExecutionId ? (
                  <div className="muted">
                    child of{" "}
                    <Link to={`/executions/${execution.parentExecutionId}`} className="mono">
                      {shortId(execution.parentExecutionId)}
                    </Link>
                  </div>
                ) : null}
              </td>
              <td>{formatDateTime(execution.startedAt ?? execution.createdAt)}</td>
              <td>
                {execution.status === "running" || execution.status === "pending"
                  ? "running…"
                  : formatDuration(execution.durationMs)}
              </td>
              <td>
                <span title={execution.id} className="mono">
                  {shortId(execution.id)}
                </span>
                {execution.error ? (
                  <div className="muted clamp" title={execution.error}>
                    {execution.error}
                  </div>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
