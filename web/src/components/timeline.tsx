// A Gantt-like timeline of a run: one row per step on show (as in the step picker), one bar per attempt on
// a shared time axis, so steps that ran in parallel visibly overlap and retry waits show as gaps. A loop,
// forEach or branch gets one light bar over the time its body ran; a waiting approval a striped bar.
import { formatDateTime, formatDuration } from "../lib/format";
import type { Row } from "../lib/run-view";
import type { ExecutionStatus, StepLog } from "../lib/trpc";
import { StatusBadge } from "./ui";

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : undefined);

/** First start and last end (undefined: still going) of each instance and, through it, of its containers. */
function spansOf(logs: readonly StepLog[], now: number) {
  const spans = new Map<string, { start: number; end: number }>();
  for (const log of logs) {
    const starts = log.attempts.map((a) => ms(a.startedAt) ?? now);
    const since = log.wait?.kind === "approval" ? ms(log.wait.since) : undefined;
    if (since !== undefined) starts.push(since);
    if (starts.length === 0) continue;
    const ends = log.attempts.map((a) => ms(a.endedAt) ?? now);
    const start = Math.min(...starts);
    const end = Math.max(start, ...ends, since !== undefined ? now : start);
    for (let id: string | null = log.id; id !== null; ) {
      const span = spans.get(id);
      spans.set(
        id,
        span ? { start: Math.min(span.start, start), end: Math.max(span.end, end) } : { start, end },
      );
      const cut = id.lastIndexOf(".");
      id = cut < 0 ? null : id.slice(0, id.lastIndexOf(".", cut - 1));
    }
  }
  return spans;
}

function note(row: Row): string {
  const log = row.live.log;
  if (log?.wait?.kind === "timer") return `sleeping until ${formatDateTime(log.wait.until)}`;
  if (log?.reason) return log.reason;
  if (log?.error) return log.error;
  if (row.live.status === "skipped") return "its arm was not taken";
  if (row.live.status === "not_started") return "not reached";
  return "not started";
}

export function Timeline({
  execution,
  rows,
  now,
  onSelect,
}: {
  execution: ExecutionStatus;
  rows: readonly Row[];
  now: number;
  onSelect: (key: string) => void;
}) {
  const end = ms(execution.finishedAt);
  const spans = spansOf(execution.stepLogs, end ?? now);
  const starts = [...spans.values()].map((span) => span.start);
  const t0 = ms(execution.startedAt) ?? Math.min(now, ...starts);
  const t1 = Math.max(end ?? now, t0 + 1, ...starts);
  const span = t1 - t0;
  const percent = (t: number) => `${(((t - t0) / span) * 100).toFixed(3)}%`;
  const width = (from: number, to: number) => `max(4px, ${(((to - from) / span) * 100).toFixed(3)}%)`;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <figure className="timeline" aria-label="Timeline of attempts">
      <div className="timeline-axis" aria-hidden="true">
        {ticks.map((tick) => (
          <span key={tick} style={{ left: `${tick * 100}%` }}>
            {formatDuration(span * tick)}
          </span>
        ))}
      </div>
      {rows.map((row) => {
        const log = row.live.log;
        const name = row.step.name;
        const bodySpan =
          log && row.step.stepType && ["loop", "forEach", "branch"].includes(row.step.stepType)
            ? spans.get(log.id)
            : undefined;
        const waiting =
          log?.status === "waiting" && log.wait?.kind === "approval" ? spans.get(log.id) : undefined;
        const empty = !log?.attempts.length && !bodySpan && !waiting;
        return (
          <div className="timeline-row" key={row.key}>
            <button
              type="button"
              className="timeline-label"
              onClick={() => onSelect(row.key)}
              title={name}
              style={{ paddingLeft: `${row.depth * 0.8}rem` }}
            >
              <span className="timeline-name">{name}</span>
              <StatusBadge status={row.live.waitingForRetry ? "waiting_retry" : row.live.status} />
            </button>
            <div className="timeline-track">
              {empty ? (
                <span className="timeline-note" title={note(row)}>
                  {note(row)}
                </span>
              ) : null}
              {bodySpan ? (
                <span
                  className={`timeline-bar timeline-span status-${log?.status}`}
                  style={{ left: percent(bodySpan.start), width: width(bodySpan.start, bodySpan.end) }}
                  role="img"
                  aria-label={`${name}: its body ran for ${formatDuration(bodySpan.end - bodySpan.start)}`}
                />
              ) : null}
              {waiting ? (
                <span
                  className="timeline-bar status-waiting"
                  style={{ left: percent(waiting.start), width: width(waiting.start, waiting.end) }}
                  role="img"
                  aria-label={`${name}: waiting for approval for ${formatDuration(waiting.end - waiting.start)}`}
                />
              ) : null}
              {log?.attempts.map((attempt) => {
                const start = ms(attempt.startedAt) ?? now;
                const stop = ms(attempt.endedAt) ?? (end ? t1 : now);
                const text = `${name}, attempt ${attempt.attempt}: ${attempt.status}, ${formatDuration(stop - start)}`;
                return (
                  <span
                    key={attempt.attempt}
                    className={`timeline-bar status-${attempt.status}`}
                    style={{ left: percent(start), width: width(start, stop) }}
                    title={text}
                    role="img"
                    aria-label={text}
                  />
                );
              })}
            </div>
          </div>
        );
      })}
    </figure>
  );
}
