// The emergency stop on the executions page: "Cancel all running" cancels every live execution of the
// team (and what they started) after a confirmation, calling the API again while it says more are left.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { useTRPC, useTRPCClient } from "../lib/trpc";
import { ConfirmDialog } from "./dialog";
import { ErrorNotice } from "./ui";

/** Calls of cancelAll one press may make (each cancels up to 500 executions). */
const MAX_CALLS = 20;

/** The button (for the page header) and what goes below it (the dialog, the outcome). */
export function useCancelAll(): { button: ReactNode; notices: ReactNode } {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const cancelAll = useMutation({
    mutationFn: async () => {
      const total = { cancelled: 0, failed: 0, more: true };
      for (let call = 0; call < MAX_CALLS && total.more; call++) {
        const answer = await client.orchestrationManagement.cancelAll.mutate({
          reason: "from the dashboard",
        });
        total.cancelled += answer.cancelled;
        total.failed += answer.failed;
        total.more = answer.more;
      }
      return total;
    },
    onSuccess: () => {
      setConfirming(false);
      void queryClient.invalidateQueries({ queryKey: trpc.orchestrationManagement.listExecutions.pathKey() });
    },
  });
  const outcome = cancelAll.data;
  const button = (
    <button type="button" className="button danger" onClick={() => setConfirming(true)}>
      Cancel all running
    </button>
  );
  const notices = (
    <>
      {outcome ? (
        <p className="notice" role="status">
          Cancelled {outcome.cancelled} execution{outcome.cancelled === 1 ? "" : "s"}
          {outcome.failed ? `; ${outcome.failed} could not be cancelled` : ""}
          {outcome.more ? "; some are still running, press again" : ""}.
        </p>
      ) : null}
      <ConfirmDialog
        open={confirming}
        title="Cancel every running execution?"
        confirmLabel="Cancel all running"
        danger
        busy={cancelAll.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() => cancelAll.mutate()}
      >
        <p>
          Every pending or running execution of this team is cancelled, with every run it started. Use it to
          stop a runaway; completed steps keep their output and each run can be resumed later.
        </p>
        <ErrorNotice error={cancelAll.error} />
      </ConfirmDialog>
    </>
  );
  return { button, notices };
}
