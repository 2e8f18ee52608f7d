// The agent console: pick a role, write TypeScript against the meta API (with completion), run it with
// agent.runCode as that role, and see its console output, result, errors and meta calls.
// (Lazy-loaded: it brings Monaco and the TypeScript language service.)
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { AgentCodeEditor, type CodeMark, loadMetaDeclarations } from "../components/agent-code-editor";
import { Field } from "../components/field";
import { RunResult } from "../components/run-result";
import { EmptyState, ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { Link } from "../lib/router";
import { useTRPC } from "../lib/trpc";
import { LARGEST_PAGE } from "../lib/use-paged-list";
import { useTitle } from "../lib/use-title";

/** A role whose code may call the meta API: `meta`, or any `meta:<scope>` (worker/schemas/role.ts). */
const isMetaRole = (tools: string[]) => tools.some((tool) => tool === "meta" || tool.startsWith("meta:"));

const EXAMPLE = `// Runs as the role chosen above. The meta API's functions are globals: type "list_" to see them.
const roles = await list_roles();
console.log(\`This team has \${roles.length} roles\`);

const flows = await list_orchestrations({});
return flows.map((flow) => ({ name: flow.name, version: flow.version, steps: flow.steps.length }));
`;

export default function ConsolePage() {
  useTitle("Agent console");
  const trpc = useTRPC();
  const roles = useQuery({
    ...trpc.role.list.queryOptions(LARGEST_PAGE),
    select: (page) => page.items,
  });
  const [roleId, setRoleId] = useState("");
  const [code, setCode] = useState(EXAMPLE);
  const [timeoutSeconds, setTimeoutSeconds] = useState("30");
  const [declarations, setDeclarations] = useState<"loading" | "ready" | "missing">("loading");
  const run = useMutation(trpc.agent.runCode.mutationOptions());

  useEffect(() => {
    void loadMetaDeclarations().then((ok) => setDeclarations(ok ? "ready" : "missing"));
  }, []);
  useEffect(() => {
    // Start with a role that may use the meta API, if there is one.
    if (!roleId && roles.data?.length)
      setRoleId((roles.data.find((r) => isMetaRole(r.tools)) ?? roles.data[0])?.id ?? "");
  }, [roles.data, roleId]);

  const chosen = roles.data?.find((r) => r.id === roleId);
  const start = () => {
    if (!roleId || run.isPending) return;
    const seconds = Number(timeoutSeconds);
    run.mutate({
      roleId,
      code,
      ...(Number.isFinite(seconds) && seconds > 0 ? { timeoutMs: Math.round(seconds * 1000) } : {}),
    });
  };
  const error = run.data?.error;
  const mark: CodeMark | null =
    error && error.line !== null
      ? { line: error.line, column: error.column ?? 1, message: `${error.name}: ${error.message}` }
      : null;

  if (roles.isPending) return <Spinner label="Loading roles…" />;
  if (roles.data?.length === 0) {
    return (
      <>
        <PageHeader title="Agent console" />
        <EmptyState title="Agent code runs as a role">
          <p>
            <Link to="/roles/new">Create a role</Link> first, and give it the <strong>meta</strong> tool so
            its code may manage roles and orchestrations.
          </p>
        </EmptyState>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Agent console"
        subtitle="Write TypeScript as a role would inside an orchestration step; it runs in your team's sandbox, without network access."
        actions={
          <button
            type="button"
            className="button primary"
            onClick={start}
            disabled={!roleId || run.isPending}
          >
            {run.isPending ? "Running…" : "Run (Ctrl+Enter)"}
          </button>
        }
      />
      <ErrorNotice error={roles.error} />
      <div className="toolbar">
        <Field label="Run as role">
          <select value={roleId} onChange={(e) => setRoleId(e.target.value)}>
            {roles.data?.map((role) => (
              <option key={role.id} value={role.id}>
                {role.name}
                {isMetaRole(role.tools) ? " (meta)" : ""}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Time limit (seconds)">
          <input
            type="number"
            min={0.1}
            max={120}
            step={1}
            value={timeoutSeconds}
            onChange={(e) => setTimeoutSeconds(e.target.value)}
          />
        </Field>
      </div>
      {chosen && !isMetaRole(chosen.tools) ? (
        <p className="notice notice-warning">
          {chosen.name} does not hold the meta tool: its code can compute and log, but every meta function
          call will be refused. <Link to={`/roles/${chosen.id}`}>Grant meta</Link> if it should manage roles
          and orchestrations.
        </p>
      ) : null}
      {declarations === "missing" ? (
        <p className="notice notice-warning">
          The meta API declarations could not be loaded; completion is limited.
        </p>
      ) : null}
      <div className="console-grid">
        <AgentCodeEditor value={code} onChange={setCode} onRun={start} mark={mark} />
        <div aria-live="polite">
          {run.isPending ? <Spinner label={`Running as ${chosen?.name ?? "the role"}…`} /> : null}
          <ErrorNotice error={run.error} />
          {run.data && !run.isPending ? <RunResult run={run.data} /> : null}
          {!run.data && !run.isPending && !run.error ? (
            <p className="muted">
              Press Run to see the console output, the returned value and any error here.
            </p>
          ) : null}
        </div>
      </div>
    </>
  );
}
