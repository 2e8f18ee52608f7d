// A Gantt-like timeline of a run: one row per step, one bar per attempt on a shared time axis, so steps
// that ran in parallel visibly overlap and retry waits show as gaps.
import { formatDuration } from "../lib/format";
import type { ExecutionStatus } from "../lib/trpc";
import { StatusBadge } from "./ui";

const ms = (iso: string | null) => (iso ? Date.parse(iso) : undefined);

export function Timeline({
  execution,
  now,
  onSelect,
}: {
  execution: ExecutionStatus;
  now: number;
  onSelect: (stepName: string) => void;
}) {
  const starts = execution.stepLogs.flatMap((step) => step.attempts.map((a) => ms(a.startedAt) ?? now));
  const t0 = ms(execution.startedAt) ?? Math.min(now, ...starts);
  const t1 = Math.max(ms(execution.finishedAt) ?? now, t0 + 1, ...starts);
  const span = t1 - t0;
  const percent = (t: number) => `${(((t - t0) / span) * 100).toFixed(3)}%`;
  const ordered = [...execution.stepLogs].sort((a, b) => a.stage - b.stage || a.index - b.index);
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
      {ordered.map((step) => (
        <div className="timeline-row" key={step.name}>
          <button
            type="button"
            className="timeline-label"
            onClick={() => onSelect(step.name)}
            title={step.name}
          >
            <span className="timeline-name">{step.name}</span>
            <StatusBadge status={step.waitingForRetry ? "waiting_retry" : step.status} />
          </button>
          <div className="timeline-track">
            {step.attempts.length === 0 ? (
              <span className="timeline-note">
                {step.status === "skipped" ? (step.reason ?? "skipped") : "not started"}
              </span>
            ) : null}
            {step.attempts.map((attempt) => {
              const start = ms(attempt.startedAt) ?? now;
              const end = ms(attempt.endedAt) ?? (execution.finishedAt ? t1 : now);
              const duration = end - start;
              return (
                <span
                  key={attempt.attempt}
                  className={`timeline-bar status-${attempt.status}`}
                  style={{
                    left: percent(start),
                    width: `max(4px, ${(((end - start) / span) * 100).toFixed(3)}%)`,
                  }}
                  title={`${step.name}, attempt ${attempt.attempt}: ${attempt.status}, ${formatDuration(duration)}`}
                  role="img"
                  aria-label={`${step.name}, attempt ${attempt.attempt}: ${attempt.status}, ${formatDuration(duration)}`}
                />
              );
            })}
          </div>
        </div>
      ))}
    </figure>
  );
}
