// One execution, live: its graph with each step's status, the timeline, the selected step's log, the
// final output and context, and a cancel button while it runs. Updates arrive by push (SSE).
import { useMutation, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { ConfirmDialog } from "../components/dialog";
import { FlowGraph } from "../components/flow-graph";
import { JsonBlock } from "../components/json-block";
import { StepLog } from "../components/step-log";
import { Timeline } from "../components/timeline";
import { ErrorNotice, PageHeader, Spinner, StatusBadge } from "../components/ui";
import type { StepLive } from "../lib/flow-layout";
import { type GraphStep, graphStepsOf } from "../lib/flow-steps";
import { formatCost, formatCount, formatDateTime, formatDuration } from "../lib/format";
import { Link } from "../lib/router";
import { type ExecutionStatus, useTRPC } from "../lib/trpc";
import { isTerminal, useLiveExecution } from "../lib/use-live-execution";
import { useNow } from "../lib/use-now";
import { useTitle } from "../lib/use-title";

function liveOf(execution: ExecutionStatus, now: number): Map<string, StepLive> {
  const live = new Map<string, StepLive>();
  for (const step of execution.stepLogs) {
    const first = step.attempts[0]?.startedAt;
    const last = step.attempts.at(-1);
    const end = last?.endedAt ? Date.parse(last.endedAt) : now;
    live.set(step.name, {
      status: step.status,
      attempts: step.attempts.length,
      durationMs: first ? end - Date.parse(first) : null,
      waitingForRetry: step.waitingForRetry,
    });
  }
  return live;
}

function stepsOf(execution: ExecutionStatus, definition: GraphStep[] | undefined): GraphStep[] {
  if (definition && definition.length === execution.stepLogs.length) return definition;
  // Without the pinned definition, stages still come from the status: same stage, same order.
  return execution.stepLogs.map((step) => ({
    name: step.name,
    order: step.stage,
    ...(step.roleName ? { roleName: step.roleName } : {}),
    ...(step.parallelGroup ? { parallelGroup: step.parallelGroup } : {}),
  }));
}

function Totals({ execution, now }: { execution: ExecutionStatus; now: number }) {
  const attempts = execution.stepLogs.flatMap((step) => step.attempts);
  const done = execution.stepLogs.filter((s) => s.status === "completed" || s.status === "skipped").length;
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
        {done} of {execution.stepLogs.length}
      </dd>
      <dt>Tokens in / out</dt>
      <dd>
        {formatCount(attempts.reduce((n, a) => n + (a.tokensIn ?? 0), 0))} /{" "}
        {formatCount(attempts.reduce((n, a) => n + (a.tokensOut ?? 0), 0))}
      </dd>
      <dt>Cost</dt>
      <dd>{formatCost(attempts.reduce((n, a) => n + (a.costUsd ?? 0), 0))}</dd>
    </dl>
  );
}

export function ExecutionPage({ executionId }: { executionId: string }) {
  const trpc = useTRPC();
  const { query, live, connection, connectionError, retryLive, setStatus } = useLiveExecution(executionId);
  const execution = query.data;
  const now = useNow(live);
  const [selected, setSelected] = useState<string | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const cancel = useMutation(
    trpc.orchestrationManagement.cancel.mutationOptions({
      onSuccess: (status) => {
        setStatus(status);
        setConfirmCancel(false);
      },
    }),
  );
  useTitle(execution ? `${execution.orchestrationName} · ${execution.status}` : "Execution");
  const liveSteps = useMemo(() => (execution ? liveOf(execution, now) : new Map()), [execution, now]);
  // The version this run pinned, for each step's condition and retry settings on the graph.
  const pinned = useQuery({
    ...trpc.orchestrationManagement.get.queryOptions({
      nameOrId: execution?.orchestrationId ?? "",
      version: execution?.orchestrationVersion ?? 1,
    }),
    enabled: execution !== undefined,
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const steps = useMemo(
    () => (execution ? stepsOf(execution, pinned.data ? graphStepsOf(pinned.data) : undefined) : []),
    [execution, pinned.data],
  );

  if (query.isPending) return <Spinner label="Loading the execution…" />;
  if (!execution) return <ErrorNotice error={query.error} onRetry={() => void query.refetch()} />;
  const shown =
    execution.stepLogs.find((s) => s.name === selected) ??
    execution.stepLogs.find((s) => s.status === "running" || s.status === "failed") ??
    execution.stepLogs.findLast((s) => s.attempts.length > 0) ??
    execution.stepLogs[0];

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
            <Link to={`/orchestrations/${execution.orchestrationId}`}>orchestration</Link> ·{" "}
            <Link to="/executions">all executions</Link>
          </>
        }
        actions={
          isTerminal(execution.status) ? null : (
            <button type="button" className="button danger" onClick={() => setConfirmCancel(true)}>
              Cancel execution
            </button>
          )
        }
      />
      <div className="live-line" aria-live="polite">
        {!live ? (
          <span className="muted">Finished {formatDateTime(execution.finishedAt)}</span>
        ) : connection === "pending" ? (
          <span className="badge live-badge">● Live</span>
        ) : connection === "error" ? (
          <ErrorNotice error={connectionError} onRetry={retryLive} title="Live updates stopped" />
        ) : (
          <span className="badge status-waiting_retry">
            {connectionError ? "Connection lost, reconnecting…" : "Connecting…"}
          </span>
        )}
      </div>
      <Totals execution={execution} now={now} />
      {execution.error ? (
        <div
          className={`notice ${execution.status === "cancelled" ? "notice-warning" : "notice-error"}`}
          role="alert"
        >
          <strong>{execution.status === "cancelled" ? "Cancelled" : "Failed"}:</strong> {execution.error}
        </div>
      ) : null}

      <h2>Flow</h2>
      <FlowGraph
        steps={steps}
        live={liveSteps}
        selected={shown?.name ?? null}
        onSelect={setSelected}
        label={`Flow of ${execution.orchestrationName} with each step's status`}
      />
      <h2>Timeline</h2>
      <Timeline execution={execution} now={now} onSelect={setSelected} />

      <h2 id="steps-heading">Steps</h2>
      <div className="steps-split">
        <nav aria-labelledby="steps-heading" className="step-picker">
          <ul>
            {execution.stepLogs.map((step) => (
              <li key={step.name}>
                <button
                  type="button"
                  className="step-pick"
                  aria-pressed={shown?.name === step.name}
                  onClick={() => setSelected(step.name)}
                >
                  <span>{step.name}</span>
                  <StatusBadge status={step.waitingForRetry ? "waiting_retry" : step.status} />
                </button>
              </li>
            ))}
          </ul>
        </nav>
        {shown ? <StepLog step={shown} /> : null}
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

      <ConfirmDialog
        open={confirmCancel}
        title="Cancel this execution?"
        confirmLabel="Cancel execution"
        danger
        busy={cancel.isPending}
        onCancel={() => setConfirmCancel(false)}
        onConfirm={() => cancel.mutate({ executionId })}
      >
        <p>
          Running steps are stopped and marked cancelled; nothing later starts. Completed steps keep their
          output.
        </p>
        <ErrorNotice error={cancel.error} />
      </ConfirmDialog>
    </>
  );
}
