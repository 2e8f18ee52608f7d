// Create or edit an orchestration: the JSON definition beside a live graph of the flow, checked as you
// type with the API's own schema, saved as a new version. (Lazy-loaded: it brings Monaco.)
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { DefinitionEditor, type EditorHandle, type EditorIssue } from "../components/definition-editor";
import { FlowGraph } from "../components/flow-graph";
import { IssueList } from "../components/issue-list";
import { ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { checkDefinition, stepKeyOf } from "../lib/definition-check";
import { describeError, errorCode } from "../lib/errors";
import { graphStepsOf } from "../lib/flow-steps";
import { TEMPLATES, templateText } from "../lib/orchestration-templates";
import { Link, navigate } from "../lib/router";
import { type Orchestration, useTRPC } from "../lib/trpc";
import { useDebounced } from "../lib/use-debounced";
import { LARGEST_PAGE } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

function definitionText(o: Orchestration): string {
  const { name, description, tags, isActive, steps } = o;
  return JSON.stringify({ name, description, tags, isActive, steps }, null, 2);
}

export default function OrchestrationEditorPage({ orchestrationId }: { orchestrationId?: string }) {
  const editing = orchestrationId !== undefined;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const existing = useQuery({
    ...trpc.orchestrationManagement.get.queryOptions({ nameOrId: orchestrationId ?? "" }),
    enabled: editing,
  });
  // For warnings about missing roles: one page, the largest the API gives.
  const roles = useQuery({ ...trpc.role.list.queryOptions(LARGEST_PAGE), select: (page) => page.items });
  const [text, setText] = useState(() => (editing ? "" : templateText(TEMPLATES[0]?.id ?? "")));
  const [baseVersion, setBaseVersion] = useState<number | undefined>(undefined);
  const [serverIssues, setServerIssues] = useState<EditorIssue[]>([]);
  const [savedVersion, setSavedVersion] = useState<number | null>(null);
  const editorHandle = useRef<EditorHandle | null>(null);
  useTitle(editing ? `Edit ${existing.data?.name ?? "orchestration"}` : "New orchestration");

  useEffect(() => {
    if (existing.data && baseVersion === undefined) {
      setText(definitionText(existing.data));
      setBaseVersion(existing.data.version);
    }
  }, [existing.data, baseVersion]);

  const settledText = useDebounced(text, 200);
  const roleNames = useMemo(
    () => (roles.data ? new Set(roles.data.map((r) => r.name)) : undefined),
    [roles.data],
  );
  const check = useMemo(() => checkDefinition(settledText, roleNames), [settledText, roleNames]);
  const lastGood = useRef<unknown>(undefined);
  if (check.value !== undefined) lastGood.current = check.value;
  const steps = useMemo(() => graphStepsOf(check.value ?? lastGood.current), [check.value]);

  const issues: EditorIssue[] = [
    ...(check.syntaxError
      ? [
          {
            path: "",
            message: `Not valid JSON: ${check.syntaxError.message}`,
            severity: "error" as const,
            source: "syntax" as const,
            offset: check.syntaxError.offset,
          },
        ]
      : []),
    ...check.errors.map((i) => ({ ...i, severity: "error" as const, source: "schema" as const })),
    ...(check.errors.length
      ? []
      : check.warnings.map((i) => ({ ...i, severity: "warning" as const, source: "schema" as const }))),
    ...serverIssues,
  ];
  const issueCounts = new Map<string, number>();
  for (const issue of issues) {
    const key = stepKeyOf(issue.path, steps);
    if (key !== undefined) issueCounts.set(key, (issueCounts.get(key) ?? 0) + 1);
  }

  const onSaved = async (saved: Orchestration) => {
    setServerIssues([]);
    setSavedVersion(saved.version);
    setBaseVersion(saved.version);
    await queryClient.invalidateQueries({ queryKey: trpc.orchestrationManagement.pathKey() });
    if (!editing) navigate(`/orchestrations/${saved.id}`);
  };
  const onError = (error: unknown) => {
    setServerIssues(
      describeError(error).issues.map((i) => ({
        path: i.path.replace(/^updates\.?/, ""),
        message: i.message,
        severity: "error" as const,
        source: "server" as const,
      })),
    );
  };
  const create = useMutation(
    trpc.orchestrationManagement.create.mutationOptions({ onSuccess: onSaved, onError }),
  );
  const update = useMutation(
    trpc.orchestrationManagement.update.mutationOptions({ onSuccess: onSaved, onError }),
  );
  const saving = create.isPending || update.isPending;
  const saveError = create.error ?? update.error;
  const canSave = !check.syntaxError && check.errors.length === 0 && !saving && text === settledText;
  const save = () => {
    setSavedVersion(null);
    const definition = JSON.parse(text) as Parameters<typeof create.mutate>[0];
    if (editing && existing.data) {
      update.mutate({
        orchestrationId: existing.data.id,
        updates: definition,
        ...(baseVersion !== undefined ? { expectedVersion: baseVersion } : {}),
      });
    } else {
      create.mutate(definition);
    }
  };

  if (editing && existing.isPending) return <Spinner label="Loading the orchestration…" />;
  if (editing && existing.error)
    return <ErrorNotice error={existing.error} onRetry={() => void existing.refetch()} />;

  return (
    <>
      <PageHeader
        title={editing ? `Edit ${existing.data?.name ?? ""}` : "New orchestration"}
        subtitle={
          editing && existing.data ? (
            <>
              Saving creates version {(baseVersion ?? existing.data.version) + 1}; executions keep the version
              they ran. <Link to={`/orchestrations/${existing.data.id}`}>Back to the orchestration</Link>
            </>
          ) : (
            "Write the definition as JSON (the API's shape); the graph follows as you type."
          )
        }
        actions={
          <button type="button" className="button primary" onClick={save} disabled={!canSave}>
            {saving ? "Saving…" : editing ? "Save new version" : "Create orchestration"}
          </button>
        }
      />
      {editing ? null : (
        <label className="template-pick">
          Start from{" "}
          <select
            onChange={(e) => {
              setServerIssues([]);
              setText(templateText(e.target.value));
            }}
            defaultValue={TEMPLATES[0]?.id}
          >
            {TEMPLATES.map((t) => (
              <option key={t.id} value={t.id}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
      )}
      {saveError && serverIssues.length === 0 ? <ErrorNotice error={saveError} /> : null}
      {errorCode(saveError) === "CONFLICT" && editing ? (
        <button
          type="button"
          className="button"
          onClick={() => {
            setBaseVersion(undefined);
            void existing.refetch();
          }}
        >
          Load the latest version (discards your edits)
        </button>
      ) : null}
      {savedVersion !== null && editing ? (
        <output className="notice notice-success">Saved as version {savedVersion}.</output>
      ) : null}
      <div className="editor-split">
        <section className="editor-pane" aria-label="Definition">
          <DefinitionEditor value={text} onChange={setText} issues={issues} handleRef={editorHandle} />
          <IssueList issues={issues} steps={steps} onPick={(issue) => editorHandle.current?.reveal(issue)} />
        </section>
        <section className="graph-pane" aria-label="Live graph">
          <FlowGraph steps={steps} issueCounts={issueCounts} label="Live graph of the definition" />
          <p className="muted">
            Stages run left to right (top to bottom when that reads larger); steps in one box start together.
            A loop, forEach or branch is a frame around the steps it runs. Each step shows its role or kind,
            condition, retries and timeout.
          </p>
        </section>
      </div>
    </>
  );
}
