// Everything recorded about one step: status and why, warnings, its output, and every attempt with the
// rendered input, output, error, model, tokens and cost.
import { formatCost, formatCount, formatDateTime, formatDuration } from "../lib/format";
import type { StepLog as StepLogData } from "../lib/trpc";
import { JsonBlock } from "./json-block";
import { StatusBadge } from "./ui";

type Attempt = StepLogData["attempts"][number];

function AttemptDetails({ attempt, open }: { attempt: Attempt; open: boolean }) {
  return (
    <details className="attempt" open={open}>
      <summary>
        Attempt {attempt.attempt} <StatusBadge status={attempt.status} />{" "}
        <span className="muted">{formatDuration(attempt.durationMs)}</span>
      </summary>
      <dl className="facts">
        <dt>Started</dt>
        <dd>{formatDateTime(attempt.startedAt)}</dd>
        <dt>Ended</dt>
        <dd>{attempt.endedAt ? formatDateTime(attempt.endedAt) : "still running"}</dd>
        <dt>Model</dt>
        <dd className="mono">{attempt.model ?? "—"}</dd>
        <dt>Tokens in / out</dt>
        <dd>
          {formatCount(attempt.tokensIn)} / {formatCount(attempt.tokensOut)}
        </dd>
        <dt>Cost</dt>
        <dd>{formatCost(attempt.costUsd)}</dd>
      </dl>
      {attempt.error ? (
        <div className="notice notice-error">
          <strong>{attempt.errorKind ? `${attempt.errorKind.replace("_", " ")}: ` : ""}</strong>
          {attempt.error}
        </div>
      ) : null}
      <h4>Rendered input</h4>
      <JsonBlock value={attempt.input} label={`Attempt ${attempt.attempt} input`} />
      <h4>Output</h4>
      <JsonBlock
        value={attempt.output}
        label={`Attempt ${attempt.attempt} output`}
        empty={attempt.status === "running" ? "Waiting for the model…" : "No output."}
      />
    </details>
  );
}

export function StepLog({ step }: { step: StepLogData }) {
  const status = step.waitingForRetry ? "waiting_retry" : step.status;
  return (
    <article className="step-log" aria-labelledby="step-log-title" data-step={step.name}>
      <header>
        <h3 id="step-log-title">
          {step.name} <StatusBadge status={status} />
        </h3>
        <p className="muted">
          Stage {step.stage + 1}
          {step.roleName ? ` · role ${step.roleName}` : " · no role"}
          {step.parallelGroup ? ` · parallel group ${step.parallelGroup}` : ""}
          {step.retryAt ? ` · next attempt ${formatDateTime(step.retryAt)}` : ""}
        </p>
      </header>
      {step.reason ? <p className="notice">{step.reason}</p> : null}
      {step.warnings.length ? (
        <div className="notice notice-warning">
          <strong>Warnings</strong>
          <ul>
            {step.warnings.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <h4>Step output</h4>
      <JsonBlock value={step.output} label={`${step.name} output`} empty="No output (yet)." />
      <h4>Attempts</h4>
      {step.attempts.length === 0 ? <p className="muted">No attempt has started.</p> : null}
      {step.attempts.map((attempt, i) => (
        <AttemptDetails key={attempt.attempt} attempt={attempt} open={i === step.attempts.length - 1} />
      ))}
    </article>
  );
}
