// Small building blocks every page uses: page header, error notice, empty state, progress, status badge.
import type { ReactNode } from "react";
import { describeError } from "../lib/errors";

export function PageHeader({
  title,
  subtitle,
  actions,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p className="muted">{subtitle}</p> : null}
      </div>
      {actions ? <div className="actions">{actions}</div> : null}
    </header>
  );
}

/** A server error where it happened: what went wrong in plain words, then the server's own message. */
export function ErrorNotice({
  error,
  onRetry,
  title,
}: {
  error: unknown;
  onRetry?: () => void;
  title?: string;
}) {
  if (!error) return null;
  const problem = describeError(error);
  return (
    <div className="notice notice-error" role="alert">
      <strong>{title ?? problem.title}.</strong> <span>{problem.detail}</span>
      {problem.issues.length > 1 ? (
        <ul>
          {problem.issues.map((issue) => (
            <li key={`${issue.path}:${issue.message}`}>
              {issue.path ? <code>{issue.path}</code> : null} {issue.message}
            </li>
          ))}
        </ul>
      ) : null}
      {onRetry ? (
        <button type="button" className="button small" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty-state">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

export function Spinner({ label = "Loading…" }: { label?: string }) {
  return (
    <output className="spinner" aria-live="polite">
      <span className="spinner-dot" aria-hidden="true" />
      {label}
    </output>
  );
}

const STATUS_LABELS: Record<string, string> = {
  pending: "Pending",
  running: "Running",
  waiting: "Waiting",
  waiting_retry: "Waiting to retry",
  not_started: "Not run",
  taken: "Taken",
  completed: "Completed",
  failed: "Failed",
  skipped: "Skipped",
  cancelled: "Cancelled",
  succeeded: "Succeeded",
  timed_out: "Timed out",
  interrupted: "Interrupted",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status}`} data-status={status}>
      {STATUS_LABELS[status] ?? status}
    </span>
  );
}

export function Tag({ children }: { children: ReactNode }) {
  return <span className="tag">{children}</span>;
}
