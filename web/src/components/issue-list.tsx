// The definition's problems grouped step by step ("Step 2 · Generate Code"), errors before warnings; each
// entry jumps to its place in the editor.
import { stepIndexOf } from "../lib/definition-check";
import type { EditorIssue } from "./definition-editor";

interface IssueListProps {
  issues: readonly EditorIssue[];
  stepNames: readonly string[];
  onPick: (issue: EditorIssue) => void;
}

export function IssueList({ issues, stepNames, onPick }: IssueListProps) {
  if (issues.length === 0) {
    return (
      <output className="notice notice-success issue-summary" data-testid="definition-ok">
        No problems found: the definition matches the API&apos;s schema.
      </output>
    );
  }
  const groups = new Map<string, EditorIssue[]>();
  const sorted = [...issues].sort(
    (a, b) =>
      (stepIndexOf(a.path) ?? -1) - (stepIndexOf(b.path) ?? -1) ||
      (a.severity === "error" ? -1 : 1) - (b.severity === "error" ? -1 : 1),
  );
  for (const issue of sorted) {
    const index = stepIndexOf(issue.path);
    const title =
      index === undefined ? "Orchestration" : `Step ${index + 1} · ${stepNames[index] ?? "(unnamed)"}`;
    groups.set(title, [...(groups.get(title) ?? []), issue]);
  }
  const errors = issues.filter((i) => i.severity === "error").length;
  return (
    <section className="issue-list" aria-label="Problems in the definition">
      <p className="issue-summary" aria-live="polite">
        <strong>
          {errors ? `${errors} error${errors === 1 ? "" : "s"} to fix before saving` : "Saving is possible"}
        </strong>
        {issues.length - errors
          ? ` · ${issues.length - errors} warning${issues.length - errors === 1 ? "" : "s"}`
          : ""}
      </p>
      {[...groups].map(([title, group]) => (
        <div key={title}>
          <h3>{title}</h3>
          <ul>
            {group.map((issue) => (
              <li
                key={`${issue.source}:${issue.path}:${issue.message}`}
                className={`issue issue-${issue.severity}`}
              >
                <button type="button" className="link-button" onClick={() => onPick(issue)}>
                  <span className="badge">{issue.severity === "error" ? "Error" : "Warning"}</span>{" "}
                  {issue.path ? <code>{issue.path}</code> : null} {issue.message}
                  {issue.source === "server" ? <span className="muted"> (from the server)</span> : null}
                </button>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}
