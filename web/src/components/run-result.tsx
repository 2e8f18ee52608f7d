// What one agent-code run produced: outcome, the error with its line, console output, the returned value
// and every meta call it made.
import { formatDuration } from "../lib/format";
import type { RouterOutputs } from "../lib/trpc";
import { JsonBlock } from "./json-block";

export type AgentRun = RouterOutputs["agent"]["runCode"];

export function RunResult({ run }: { run: AgentRun }) {
  return (
    <section
      className="run-result"
      aria-labelledby="run-result-heading"
      data-outcome={run.ok ? "ok" : "error"}
    >
      <h2 id="run-result-heading">
        {run.ok ? "Finished" : "Failed"}{" "}
        <span className={`badge ${run.ok ? "status-completed" : "status-failed"}`}>
          {run.ok ? "ok" : "error"}
        </span>{" "}
        <span className="muted">
          {formatDuration(run.durationMs)}
          {run.coldStart ? " · new isolate" : " · warm isolate"} · {run.calls.length} meta call
          {run.calls.length === 1 ? "" : "s"}
        </span>
      </h2>
      {run.error ? (
        <div className="notice notice-error" role="alert">
          <strong>{run.error.name}</strong>
          {run.error.line !== null
            ? ` (line ${run.error.line}${run.error.column !== null ? `, column ${run.error.column}` : ""})`
            : ""}
          : {run.error.message}
        </div>
      ) : null}
      <h3>Console</h3>
      {run.logs.length === 0 ? (
        <p className="muted">Nothing was logged.</p>
      ) : (
        <ol className="log-lines" aria-label="Console output">
          {run.logs.map((entry, i) => (
            // Log lines have no identity beyond their position, and never reorder.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above.
            <li key={i} className={`log-${entry.level}`}>
              <span className="visually-hidden">{entry.level}: </span>
              {entry.message}
            </li>
          ))}
        </ol>
      )}
      <h3>Result</h3>
      <JsonBlock value={run.result} label="Returned value" empty="The code returned nothing." />
      {run.calls.length ? (
        <>
          <h3>Meta calls</h3>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Function</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Time</th>
                </tr>
              </thead>
              <tbody>
                {run.calls.map((call, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: calls are listed in the order they were made.
                  <tr key={i}>
                    <td className="mono">{call.name}</td>
                    <td>{call.ok ? "ok" : "failed"}</td>
                    <td>{formatDuration(call.durationMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}
