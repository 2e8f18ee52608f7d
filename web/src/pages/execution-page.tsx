// One execution, live: approvals waiting for a person, its graph with each step's status (a loop or
// forEach drawn once, for the iteration or item picked), the timeline, the picked step's log, the final
// output and context; cancel, resume and re-run. Updates arrive by push (SSE).
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { ApprovalPanel } from "../components/approval-panel";
import { FlowGraph } from "../components/flow-graph";
import { JsonBlock } from "../components/json-block";
import { useRunActions } from "../components/run-actions";
import { StepLog, StepNotRun } from "../components/step-log";
import { StepPicker } from "../components/step-picker";
import { Timeline } from "../components/timeline";
import { ErrorNotice, PageHeader, Spinner, StatusBadge } from "../components/ui";
import { type GraphStep, graphStepsOf, isContainer, stepsWithKeys } from "../lib/flow-steps";
import { formatCost, formatCount, formatDateTime, formatDuration } from "../lib/format";
import { Link } from "../lib/router";
import { liveOf, type Row, type RunView, stepsFromLogs, visibleRows, whereText } from "../lib/run-view";
import { type ExecutionStatus, useTRPC } from "../lib/trpc";
import { isTerminal, useLiveExecution } from "../lib/use-live-execution";
import { useNow } from "../lib/use-now";
import { useTitle } from "../lib/use-title";

function stepsOf(execution: ExecutionStatus, definition: GraphStep[] | undefined): GraphStep[] {
  const topLevel = execution.stepLogs.filter((log) => log.parentId === null).length;
  // Without the pinned definition, the tree still comes from the status (bodies as far as they ran).
  return definition && definition.length === topLevel ? definition : stepsFromLogs(execution.stepLogs);
}

function Totals({ execution, rows, now }: { execution: ExecutionStatus; rows: Row[]; now: number }) {
  const attempts = execution.stepLogs.flatMap((step) => step.attempts);
  const topLevel = rows.filter((row) => row.depth === 0);
  const done = topLevel.filter((row) => ["completed", "skipped"].includes(row.live.status)).length;
  const started = execution.startedAt ? Date.parse(execution.startedAt) : undefined;
  const duration = execution.durationMs ?? (started && !isTerminal(execution.status) ? now - started : null);
  return (
    <dl className="facts summary">
      <dt>Status</dt>
      <dd>
        <StatusBadge status={execution.status} />
      </dd>
      <dt>Started</dt>
      <dd>{formatDateTime(execution.startedAt ?? execution.createdAt)}</dd>
      <dt>Duration</dt>
      <dd>{formatDuration(duration)}</dd>
      <dt>Steps done</dt>
      <dd>
        {done} of {topLevel.length}
      </dd>
      <dt>Tokens in / out</dt>
      <dd>
        {formatCount(attempts.reduce((n, a) => n + (a.tokensIn ?? 0), 0))} /{" "}
        {formatCount(attempts.reduce((n, a) => n + (a.tokensOut ?? 0), 0))}
      </dd>
      <dt>Cost</dt>
      <dd>{formatCost(attempts.reduce((n, a) => n + (a.costUsd ?? 0), 0))}</dd>
      {execution.usage.children.tokens > 0 || execution.usage.children.costUsd > 0 ? (
        <>
          <dt>Runs it started</dt>
          <dd>
            {formatCount(execution.usage.children.tokens)} tokens,{" "}
            {formatCost(execution.usage.children.costUsd)}
          </dd>
        </>
      ) : null}
      {execution.budget ? (
        <>
          <dt>Budget</dt>
          <dd>
            {[
              execution.budget.maxTokens === undefined
                ? null
                : `${formatCount(execution.budget.maxTokens)} tokens`,
              execution.budget.maxCostUsd === undefined ? null : formatCost(execution.budget.maxCostUsd),
            ]
              .filter(Boolean)
              .join(" · ")}
            {execution.errorKind === "budget_exceeded" ? " (exceeded)" : ""}
          </dd>
        </>
      ) : null}
    </dl>
  );
}

/** The step to show before the user picks one: what needs attention, else the last that ran. */
function defaultRow(rows: readonly Row[]): Row | undefined {
  const leaves = rows.filter((row) => !isContainer(row.step));
  return (
    leaves.find((row) => ["waiting", "running", "failed"].includes(row.live.status)) ??
    leaves.findLast((row) => row.live.attempts > 0) ??
    rows[0]
  );
}

function LiveLine({
  execution,
  connection,
}: {
  execution: ExecutionStatus;
  connection: ReturnType<typeof useLiveExecution>;
}) {
  return (
    <div className="live-line" aria-live="polite">
      {!connection.live ? (
        <span className="muted">
          Finished {formatDateTime(execution.finishedAt)}
          {execution.resumes ? ` · resumed ${execution.resumes}×` : ""}
        </span>
      ) : connection.connection === "pending" ? (
        <span className="badge live-badge">● Live</span>
      ) : connection.connection === "error" ? (
        <ErrorNotice
          error={connection.connectionError}
          onRetry={connection.retryLive}
          title="Live updates stopped"
        />
      ) : (
        <span className="badge status-waiting_retry">
          {connection.connectionError ? "Connection lost, reconnecting…" : "Connecting…"}
        </span>
      )}
    </div>
  );
}

export function ExecutionPage({ executionId }: { executionId: string }) {
  const trpc = useTRPC();
  const liveExecution = useLiveExecution(executionId);
  const { query, live, setStatus } = liveExecution;
  const execution = query.data;
  const now = useNow(live);
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const [slots, setSlots] = useState<ReadonlyMap<string, number>>(new Map());
  const actions = useRunActions(executionId, execution, setStatus);
  useTitle(execution ? `${execution.orchestrationName} · ${execution.status}` : "Execution");
  // The version this run pinned: the nested structure (steps not started yet included) and settings.
  const pinned = useQuery({
    ...trpc.orchestrationManagement.get.queryOptions({
      nameOrId: execution?.orchestrationId ?? "",
      version: execution?.orchestrationVersion ?? 1,
    }),
    enabled: execution !== undefined,
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const definition = useMemo(() => (pinned.data ? graphStepsOf(pinned.data) : undefined), [pinned.data]);
  const steps = useMemo(() => (execution ? stepsOf(execution, definition) : []), [execution, definition]);
  const run: RunView = useMemo(
    () => ({
      live: execution ? liveOf(execution, now) : new Map(),
      slots,
      finished: isTerminal(execution?.status),
    }),
    [execution, now, slots],
  );
  const rows = useMemo(() => visibleRows(steps, run), [steps, run]);

  if (query.isPending) return <Spinner label="Loading the execution…" />;
  if (!execution) return <ErrorNotice error={query.error} onRetry={() => void query.refetch()} />;
  const shownKey = selectedKey ?? defaultRow(rows)?.key;
  const shownRow = rows.find((row) => row.key === shownKey);
  const shownStep = [...stepsWithKeys(steps)].find(({ key }) => key === shownKey)?.step;
  const pickSlot = (key: string, slot: number) => {
    setSlots((current) => new Map(current).set(key, slot));
    if (!shownKey?.startsWith(`${key}.`)) setSelectedKey(`${key}.*.0`);
  };
  const { parent } = execution;

  return (
    <>
      <PageHeader
        title={
          <>
            {execution.orchestrationName} <span className="muted">v{execution.orchestrationVersion}</span>
          </>
        }
        subtitle={
          <>
            Execution <span className="mono">{execution.id}</span> ·{" "}
            {parent ? (
              <>
                started by step “{parent.stepName}” of{" "}
                <Link to={`/executions/${parent.executionId}`}>its parent execution</Link> ·{" "}
              </>
            ) : null}
            <Link to={`/orchestrations/${execution.orchestrationId}`}>orchestration</Link> ·{" "}
            <Link to="/executions">all executions</Link>
          </>
        }
        actions={actions.buttons}
      />
      {actions.notices}
      <LiveLine execution={execution} connection={liveExecution} />
      <Totals execution={execution} rows={rows} now={now} />
      {execution.error ? (
        <div
          className={`notice ${execution.status === "cancelled" ? "notice-warning" : "notice-error"}`}
          role="alert"
        >
          <strong>{execution.status === "cancelled" ? "Cancelled" : "Failed"}:</strong> {execution.error}
        </div>
      ) : null}
      <ApprovalPanel execution={execution} steps={steps} onStatus={setStatus} />

      <h2>Flow</h2>
      <FlowGraph
        steps={steps}
        run={run}
        selected={shownKey ?? null}
        onSelect={setSelectedKey}
        onPickSlot={pickSlot}
        label={`Flow of ${execution.orchestrationName} with each step's status`}
      />
      <h2>Timeline</h2>
      <Timeline execution={execution} rows={rows} now={now} onSelect={setSelectedKey} />

      <h2 id="steps-heading">Steps</h2>
      <div className="steps-split">
        <StepPicker
          rows={rows}
          run={run}
          selectedKey={shownKey}
          onSelect={setSelectedKey}
          onPickSlot={pickSlot}
          labelledBy="steps-heading"
        />
        {shownRow?.live.log ? (
          <StepLog step={shownRow.live.log} where={whereText(shownRow.live.log.id, steps)} />
        ) : shownStep ? (
          <StepNotRun
            name={shownStep.name}
            why={
              shownRow?.live.status === "pending" || (!shownRow && !run.finished)
                ? "This step has not started here yet (in the iteration, item or branch arm shown)."
                : "This step did not run here: its branch arm was not taken, or the run ended before it."
            }
          />
        ) : null}
      </div>

      <div className="grid-2 results">
        <section className="span-all">
          <h2>Input</h2>
          <JsonBlock value={execution.input} label="Execution input" empty="This run had no input." />
        </section>
        <section>
          <h2>Final output</h2>
          <JsonBlock
            value={execution.output}
            label="Final output"
            empty={
              isTerminal(execution.status)
                ? "This run produced no output."
                : "Appears when the last stage completes."
            }
          />
        </section>
        <section>
          <h2>Context</h2>
          <JsonBlock value={execution.context} label="Context" />
        </section>
      </div>
    </>
  );
}
