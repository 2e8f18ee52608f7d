// What a person can do to a whole run: cancel it while it runs (after a confirmation), resume a failed
// or cancelled one from where it stopped, re-run it as a new execution with the same input and version,
// or delete an ended one for good (after a confirmation).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { navigate } from "../lib/router";
import { type ExecutionStatus, useTRPC } from "../lib/trpc";
import { isTerminal } from "../lib/use-live-execution";
import { ConfirmDialog } from "./dialog";
import { ErrorNotice } from "./ui";

/** The buttons (for the page header) and what they answered (for below it: errors, the cancel dialog). */
export function useRunActions(
  executionId: string,
  execution: ExecutionStatus | undefined,
  onStatus: (status: ExecutionStatus) => void,
): { buttons: ReactNode; notices: ReactNode } {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const refreshLists = () =>
    queryClient.invalidateQueries({ queryKey: trpc.orchestrationManagement.listExecutions.pathKey() });
  const cancel = useMutation(
    trpc.orchestrationManagement.cancel.mutationOptions({
      onSuccess: (status) => {
        onStatus(status);
        setConfirmCancel(false);
      },
    }),
  );
  const resume = useMutation(
    trpc.orchestrationManagement.resume.mutationOptions({
      onSuccess: (status) => {
        onStatus(status);
        void refreshLists();
      },
    }),
  );
  const rerun = useMutation(
    trpc.orchestrationManagement.rerun.mutationOptions({
      onSuccess: (status) => {
        void refreshLists();
        navigate(`/executions/${status.id}`);
      },
    }),
  );
  const remove = useMutation(
    trpc.execution.delete.mutationOptions({
      onSuccess: () => {
        void refreshLists();
        navigate("/executions");
      },
    }),
  );
  const status = execution?.status;
  const resumable = status === "failed" || status === "cancelled";
  const busy = resume.isPending || rerun.isPending;
  const buttons = (
    <>
      {execution === undefined || isTerminal(status) ? null : (
        <button type="button" className="button danger" onClick={() => setConfirmCancel(true)}>
          Cancel execution
        </button>
      )}
      {resumable ? (
        <button
          type="button"
          className="button primary"
          disabled={busy}
          title="Continue from the steps that failed or were cancelled; completed steps keep their output"
          onClick={() => resume.mutate({ executionId })}
        >
          {resume.isPending ? "Resuming…" : "Resume"}
        </button>
      ) : null}
      {isTerminal(status) ? (
        <button
          type="button"
          className="button"
          disabled={busy}
          title={`Start a new execution with the same input and version ${execution?.orchestrationVersion}`}
          onClick={() => rerun.mutate({ executionId })}
        >
          {rerun.isPending ? "Starting…" : "Re-run"}
        </button>
      ) : null}
      {isTerminal(status) ? (
        <button type="button" className="button danger" onClick={() => setConfirmDelete(true)}>
          Delete
        </button>
      ) : null}
    </>
  );
  const notices = (
    <>
      <ErrorNotice error={resume.error} title="Could not resume" />
      <ErrorNotice error={rerun.error} title="Could not re-run" />
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
          output, and you can resume the run later.
        </p>
        <ErrorNotice error={cancel.error} />
      </ConfirmDialog>
      <ConfirmDialog
        open={confirmDelete}
        title="Delete this execution?"
        confirmLabel="Delete execution"
        danger
        busy={remove.isPending}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={() => remove.mutate({ executionId })}
      >
        <p>Its steps, outputs and logs are deleted for good; it cannot be resumed or re-run afterwards.</p>
        <ErrorNotice error={remove.error} />
      </ConfirmDialog>
    </>
  );
  return { buttons, notices };
}
