// Approval steps waiting for a person: each shows its message, since when it waits and what happens at
// its deadline, a comment box and Approve / Reject (orchestrationManagement.approve). The status the
// server answers replaces the page's at once; the live stream carries the run on from there.
import { useMutation } from "@tanstack/react-query";
import { useId, useState } from "react";
import { type GraphStep, stepsWithKeys } from "../lib/flow-steps";
import { formatDateTime } from "../lib/format";
import { keyOf, whereText } from "../lib/run-view";
import { type ExecutionStatus, type StepLog, useTRPC } from "../lib/trpc";
import { ErrorNotice } from "./ui";

type ApprovalWait = Extract<NonNullable<StepLog["wait"]>, { kind: "approval" }>;

function ApprovalForm({
  executionId,
  log,
  wait,
  step,
  where,
  onStatus,
}: {
  executionId: string;
  log: StepLog;
  wait: ApprovalWait;
  step: GraphStep | undefined;
  where: string;
  onStatus: (status: ExecutionStatus) => void;
}) {
  const trpc = useTRPC();
  const commentId = useId();
  const [comment, setComment] = useState("");
  const approve = useMutation(trpc.orchestrationManagement.approve.mutationOptions({ onSuccess: onStatus }));
  const decide = (approved: boolean) =>
    approve.mutate({
      executionId,
      stepName: log.name,
      instanceId: log.id,
      approved,
      ...(comment.trim() ? { comment: comment.trim() } : {}),
    });
  return (
    <article className="approval card" data-step={log.name} aria-labelledby={`${commentId}-title`}>
      <h3 id={`${commentId}-title`}>
        {log.name}
        {where ? <span className="muted"> · {where}</span> : null}
      </h3>
      <p className="approval-message">{wait.message ?? "This step asks for your approval to go on."}</p>
      <p className="muted">
        Waiting since {formatDateTime(wait.since)}. If nobody decides by {formatDateTime(wait.deadline)}, the
        step{" "}
        {step?.onTimeout === "approve"
          ? "approves itself"
          : step?.onTimeout === "reject"
            ? "rejects itself"
            : "fails"}
        .
      </p>
      <label htmlFor={commentId}>Comment (optional)</label>
      <textarea
        id={commentId}
        value={comment}
        onChange={(event) => setComment(event.target.value)}
        rows={2}
        maxLength={10_000}
        placeholder="Why you approve or reject; later steps can read it"
      />
      <div className="actions">
        <button
          type="button"
          className="button primary"
          disabled={approve.isPending}
          onClick={() => decide(true)}
        >
          {approve.isPending && approve.variables?.approved ? "Approving…" : "Approve"}
        </button>
        <button
          type="button"
          className="button danger"
          disabled={approve.isPending}
          onClick={() => decide(false)}
        >
          {approve.isPending && approve.variables?.approved === false ? "Rejecting…" : "Reject"}
        </button>
      </div>
      <ErrorNotice error={approve.error} title="The decision was not recorded" />
    </article>
  );
}

export function ApprovalPanel({
  execution,
  steps,
  onStatus,
}: {
  execution: ExecutionStatus;
  steps: readonly GraphStep[];
  onStatus: (status: ExecutionStatus) => void;
}) {
  const waiting = execution.stepLogs.flatMap((log) =>
    log.status === "waiting" && log.wait?.kind === "approval" ? [{ log, wait: log.wait }] : [],
  );
  if (waiting.length === 0) return null;
  const byKey = new Map([...stepsWithKeys(steps)].map(({ step, key }) => [key, step]));
  return (
    <section className="approvals" aria-label="Waiting for approval">
      <h2>Waiting for your approval</h2>
      {waiting.map(({ log, wait }) => (
        <ApprovalForm
          key={log.id}
          executionId={execution.id}
          log={log}
          wait={wait}
          step={byKey.get(keyOf(log.id, steps) ?? "")}
          where={whereText(log.id, steps)}
          onStatus={onStatus}
        />
      ))}
    </section>
  );
}
