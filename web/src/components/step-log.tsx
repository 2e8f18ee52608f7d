// Everything recorded about one step instance: status and why, what it waits for, its child execution,
// a container's progress, warnings, its output, and every attempt with the rendered input, output,
// error, model, tokens and cost; while a model streams, its reply so far.
import { formatCost, formatCount, formatDateTime, formatDuration } from "../lib/format";
import { Link } from "../lib/router";
import { streamingTextOf } from "../lib/run-view";
import type { StepLog as StepLogData } from "../lib/trpc";
import { JsonBlock } from "./json-block";
import { StatusBadge } from "./ui";

type Attempt = StepLogData["attempts"][number];

function AttemptDetails({
  attempt,
  open,
  streaming,
}: {
  attempt: Attempt;
  open: boolean;
  streaming: boolean;
}) {
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
        {attempt.childExecutionId ? (
          <>
            <dt>Child execution</dt>
            <dd>
              <Link to={`/executions/${attempt.childExecutionId}`} className="mono">
                {attempt.childExecutionId}
              </Link>
            </dd>
          </>
        ) : (
          <>
            <dt>Model</dt>
            <dd className="mono">{attempt.model ?? "—"}</dd>
            <dt>Tokens in / out</dt>
            <dd>
              {formatCount(attempt.tokensIn)} / {formatCount(attempt.tokensOut)}
            </dd>
            <dt>Cost</dt>
            <dd>{formatCost(attempt.costUsd)}</dd>
          </>
        )}
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
        empty={
          attempt.status !== "running"
            ? "No output."
            : streaming
              ? "Streaming: the reply so far is under Step output."
              : "Waiting for the model…"
        }
      />
    </details>
  );
}

/**
 * The model's reply as it arrives. Not an aria-live region: announcing every few words would drown a
 * screen reader; the step's status change is announced instead.
 */
function StreamingReply({ text, name }: { text: string; name: string }) {
  return (
    <div className="json-block streaming-reply" aria-busy="true" data-streaming="true">
      <div className="json-block-bar">
        <span className="muted">{name}: the reply so far</span>
        <span className="badge streaming-badge">
          <span className="streaming-dot" aria-hidden="true" />
          streaming
        </span>
      </div>
      <pre>{text}</pre>
    </div>
  );
}

/** What the instance waits for, in a sentence (with a link to the child it waits for). */
function WaitNotice({ wait }: { wait: NonNullable<StepLogData["wait"]> }) {
  switch (wait.kind) {
    case "approval":
      return (
        <p className="notice notice-warning">
          Waiting for approval since {formatDateTime(wait.since)} (decide above, until{" "}
          {formatDateTime(wait.deadline)}): {wait.message ?? "no message"}
        </p>
      );
    case "timer":
      return <p className="notice">Sleeping until {formatDateTime(wait.until)}.</p>;
    case "child":
      return (
        <p className="notice">
          Waiting for the child execution{" "}
          <Link to={`/executions/${wait.executionId}`} className="mono">
            {wait.executionId}
          </Link>
          {wait.deadline ? ` (until ${formatDateTime(wait.deadline)})` : ""}.
        </p>
      );
    case "call":
      return null;
  }
}

/** A loop's iterations, a forEach's item counts, a branch's arms. */
function ContainerFacts({ step }: { step: StepLogData }) {
  if (step.loop) {
    const ran = step.loop.iteration === null ? 0 : step.loop.iteration + 1;
    return (
      <p>
        {ran} of at most {step.loop.maxIterations} iterations started. Pick an iteration under the step in the
        list to see its steps.
      </p>
    );
  }
  if (step.forEach) {
    const { total, done, failed, running, concurrency } = step.forEach;
    return (
      <p>
        {total === null ? "Items not resolved yet" : `${done} of ${total} items done`}
        {failed ? `, ${failed} failed` : ""}
        {running ? `, ${running} running` : ""} (at most {concurrency} at a time). Pick an item under the step
        in the list to see its steps.
      </p>
    );
  }
  if (step.branch) {
    return (
      <ul className="arms">
        {step.branch.arms.map((arm) => (
          <li key={arm.index}>
            <span className={`badge status-${arm.status}`}>{arm.status}</span> <code>{arm.label}</code>
            {arm.when ? ` when ${arm.when.field} ${arm.when.operator} ${JSON.stringify(arm.when.value)}` : ""}
          </li>
        ))}
      </ul>
    );
  }
  return null;
}

export function StepLog({ step, where }: { step: StepLogData; where: string }) {
  const status = step.waitingForRetry ? "waiting_retry" : step.status;
  // Only model calls and child executions make attempts; containers, approvals and sleeps do not.
  const attempts = step.stepType === "agent" || step.stepType === "orchestration";
  const streaming = streamingTextOf(step);
  return (
    <article
      className="step-log"
      aria-labelledby="step-log-title"
      data-step={step.name}
      data-instance={step.id}
    >
      <header>
        <h3 id="step-log-title">
          {step.name} <StatusBadge status={status} />
        </h3>
        <p className="muted">
          {step.stepType === "agent" ? "Agent step" : `${step.stepType} step`}
          {where ? ` · ${where}` : ""} · stage {step.stage + 1}
          {step.roleName ? ` · role ${step.roleName}` : ""}
          {step.parallelGroup ? ` · parallel group ${step.parallelGroup}` : ""}
          {step.retryAt ? ` · next attempt ${formatDateTime(step.retryAt)}` : ""}
        </p>
      </header>
      {step.wait ? <WaitNotice wait={step.wait} /> : null}
      {step.error ? (
        <p className="notice notice-error">
          {step.continued ? <strong>Failed, and the run went on (continueOnError): </strong> : null}
          {step.error}
        </p>
      ) : null}
      {step.reason && step.reason !== step.error ? <p className="notice">{step.reason}</p> : null}
      <ContainerFacts step={step} />
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
      {streaming ? (
        <StreamingReply text={streaming} name={step.name} />
      ) : (
        <JsonBlock value={step.output} label={`${step.name} output`} empty="No output (yet)." />
      )}
      {attempts ? (
        <>
          <h4>Attempts</h4>
          {step.attempts.length === 0 ? <p className="muted">No attempt has started.</p> : null}
          {step.attempts.map((attempt, i) => (
            <AttemptDetails
              key={attempt.attempt}
              attempt={attempt}
              open={i === step.attempts.length - 1}
              streaming={streaming !== null && i === step.attempts.length - 1}
            />
          ))}
        </>
      ) : null}
    </article>
  );
}

/** A step with no instance where the user looks: not reached in this iteration, item or arm (yet). */
export function StepNotRun({ name, why }: { name: string; why: string }) {
  return (
    <article className="step-log" aria-labelledby="step-log-title" data-step={name}>
      <h3 id="step-log-title">{name}</h3>
      <p className="muted">{why}</p>
    </article>
  );
}
