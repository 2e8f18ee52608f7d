// An orchestration's cron schedules: create one (5-field cron, time zone, input JSON) and see its next
// runs at once; pause, resume or delete it; see the runs it started (or why one did not start).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { describeError, issuesAt } from "../lib/errors";
import { formatDateTime } from "../lib/format";
import { Link } from "../lib/router";
import { type RouterOutputs, useTRPC } from "../lib/trpc";
import { ConfirmDialog } from "./dialog";
import { Field } from "./field";
import { ErrorNotice, StatusBadge } from "./ui";

type Schedule = RouterOutputs["schedule"]["list"]["items"][number];

/** The page styles have no plain-list class; these lists read as cards' rows, not bullets. */
const PLAIN_LIST = { listStyle: "none", paddingLeft: 0 } as const;

const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** The input box's text as JSON, or the parse error to show on it. */
function parseInput(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (!text.trim()) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: `is not valid JSON: ${(error as Error).message}` };
  }
}

export function SchedulesPanel({ orchestrationId }: { orchestrationId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const schedules = useQuery(trpc.schedule.list.queryOptions({ orchestrationId, limit: 50 }));
  const [cron, setCron] = useState("0 9 * * 1-5");
  const [timezone, setTimezone] = useState(BROWSER_ZONE);
  const [inputText, setInputText] = useState("{}");
  const [inputError, setInputError] = useState<string | null>(null);
  const [created, setCreated] = useState<Schedule | null>(null);
  const [deleting, setDeleting] = useState<Schedule | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.schedule.list.pathKey() });
  const create = useMutation(
    trpc.schedule.create.mutationOptions({
      onSuccess: async (schedule) => {
        setCreated(schedule);
        await refresh();
      },
    }),
  );
  const pause = useMutation(trpc.schedule.pause.mutationOptions({ onSuccess: () => refresh() }));
  const resume = useMutation(trpc.schedule.resume.mutationOptions({ onSuccess: () => refresh() }));
  const remove = useMutation(
    trpc.schedule.delete.mutationOptions({
      onSuccess: async () => {
        setDeleting(null);
        await refresh();
      },
    }),
  );
  const issues = create.error ? describeError(create.error).issues : [];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const input = parseInput(inputText);
    setInputError(input.ok ? null : input.message);
    if (!input.ok) return;
    create.mutate({ orchestrationId, cron, timezone, input: input.value as Record<string, never> });
  };

  return (
    <section aria-labelledby="schedules-heading" className="card">
      <h2 id="schedules-heading">Schedules</h2>
      <p className="muted">Runs on a cron schedule: 5 fields, minute hour day-of-month month day-of-week.</p>
      <form className="inline-form" onSubmit={submit} aria-label="New schedule">
        <Field label="Cron" hint="e.g. “*/15 * * * *” every 15 minutes" errors={issuesAt(issues, "cron")}>
          <input value={cron} onChange={(e) => setCron(e.target.value)} required className="mono" />
        </Field>
        <Field
          label="Time zone"
          hint="An IANA zone such as Europe/Berlin"
          errors={issuesAt(issues, "timezone")}
        >
          <input value={timezone} onChange={(e) => setTimezone(e.target.value)} required />
        </Field>
        <Field
          label="Input for each run (JSON)"
          className="span-all"
          errors={[...(inputError ? [inputError] : []), ...issuesAt(issues, "input")]}
        >
          <textarea
            value={inputText}
            onChange={(e) => setInputText(e.target.value)}
            rows={3}
            className="mono"
          />
        </Field>
        <button type="submit" className="button primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create schedule"}
        </button>
      </form>
      {create.error && issues.length === 0 ? <ErrorNotice error={create.error} /> : null}
      {created ? (
        <div className="notice notice-success" role="status">
          <p>
            <strong>Schedule created.</strong> Next runs:
          </p>
          <NextRuns runs={created.nextRuns} label="Next runs of the new schedule" />
          <button type="button" className="button small" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      ) : null}
      <ErrorNotice error={schedules.error} onRetry={() => void schedules.refetch()} />
      <ErrorNotice error={pause.error ?? resume.error} />
      {schedules.data?.items.length === 0 ? <p className="muted">No schedules yet.</p> : null}
      {schedules.data?.items.length ? (
        <ul className="schedule-list" style={PLAIN_LIST}>
          {schedules.data.items.map((schedule) => (
            <li key={schedule.id} data-schedule-id={schedule.id} className="schedule-item">
              <p className="meta-row">
                <code>{schedule.cron}</code> <span className="muted">{schedule.timezone}</span>{" "}
                <span className={`badge schedule-${schedule.status}`} data-status={schedule.status}>
                  {schedule.status === "active"
                    ? "Active"
                    : schedule.status === "paused"
                      ? "Paused"
                      : "Failed"}
                </span>
              </p>
              {schedule.statusReason ? <p className="field-error">{schedule.statusReason}</p> : null}
              <div className="actions">
                {schedule.status === "active" ? (
                  <button
                    type="button"
                    className="button small"
                    onClick={() => pause.mutate({ id: schedule.id })}
                  >
                    Pause
                  </button>
                ) : (
                  <button
                    type="button"
                    className="button small"
                    onClick={() => resume.mutate({ id: schedule.id })}
                  >
                    Resume
                  </button>
                )}
                <button type="button" className="button small danger" onClick={() => setDeleting(schedule)}>
                  Delete
                </button>
              </div>
              {schedule.nextRuns.length ? (
                <NextRuns runs={schedule.nextRuns} label={`Next runs of schedule ${schedule.cron}`} />
              ) : null}
              <LastRuns runs={schedule.lastRuns} label={`Last runs of schedule ${schedule.cron}`} />
            </li>
          ))}
        </ul>
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this schedule?"
        confirmLabel="Delete schedule"
        danger
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate({ id: deleting.id })}
      >
        <p>No more runs start from it. Runs it started stay in the executions list.</p>
        <ErrorNotice error={remove.error} />
      </ConfirmDialog>
    </section>
  );
}

function NextRuns({ runs, label }: { runs: string[]; label: string }) {
  return (
    <ol className="next-runs" aria-label={label}>
      {runs.map((iso) => (
        <li key={iso}>
          <time dateTime={iso}>{formatDateTime(iso)}</time>
        </li>
      ))}
    </ol>
  );
}

function LastRuns({ runs, label }: { runs: Schedule["lastRuns"]; label: string }) {
  if (runs.length === 0) return <p className="muted">No runs yet.</p>;
  return (
    <ul className="last-runs" aria-label={label}>
      {runs.map((run) => (
        <li key={run.minute}>
          <time dateTime={run.minute}>{formatDateTime(run.minute)}</time>{" "}
          {run.executionId ? (
            <>
              <Link to={`/executions/${run.executionId}`} className="mono">
                {run.executionId}
              </Link>{" "}
              {run.status ? <StatusBadge status={run.status} /> : null}
            </>
          ) : (
            <span className="field-error">{run.error ?? "no execution recorded"}</span>
          )}
        </li>
      ))}
    </ul>
  );
}
