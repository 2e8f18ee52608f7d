// The definition's problems grouped step by step ("Step 2 · Generate Code", "Step 2 · Refinement › Critic"
// for a step in a body), errors before warnings; each entry jumps to its place in the editor.
import { stepKeyOf } from "../lib/definition-check";
import { type GraphStep, stepsWithKeys } from "../lib/flow-steps";
import type { EditorIssue } from "./definition-editor";

interface IssueListProps {
  issues: readonly EditorIssue[];
  steps: readonly GraphStep[];
  onPick: (issue: EditorIssue) => void;
}

/** Each step key's position in the tree and its title: "Step 2 · Refinement › Critic". */
function stepTitles(steps: readonly GraphStep[]) {
  const titles = new Map<string, { position: number; title: string }>();
  const names = new Map<string, string>();
  for (const { step, key } of stepsWithKeys(steps)) {
    const parent = key.includes(".")
      ? key.slice(0, key.lastIndexOf(".", key.lastIndexOf(".") - 1))
      : undefined;
    const name = parent === undefined ? step.name : `${names.get(parent) ?? "?"} › ${step.name}`;
    names.set(key, name);
    titles.set(key, { position: titles.size, title: `Step ${Number.parseInt(key, 10) + 1} · ${name}` });
  }
  return titles;
}

export function IssueList({ issues, steps, onPick }: IssueListProps) {
  if (issues.length === 0) {
    return (
      <output className="notice notice-success issue-summary" data-testid="definition-ok">
        No problems found: the definition matches the API&apos;s schema.
      </output>
    );
  }
  const titles = stepTitles(steps);
  const placeOf = (issue: EditorIssue) => titles.get(stepKeyOf(issue.path, steps) ?? "");
  const groups = new Map<string, EditorIssue[]>();
  const sorted = [...issues].sort(
    (a, b) =>
      (placeOf(a)?.position ?? -1) - (placeOf(b)?.position ?? -1) ||
      (a.severity === "error" ? -1 : 1) - (b.severity === "error" ? -1 : 1),
  );
  for (const issue of sorted) {
    const title = placeOf(issue)?.title ?? "Orchestration";
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
