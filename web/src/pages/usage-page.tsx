// What the team's runs used over a range of days: totals, a bar per day (cost or tokens), and tables per
// orchestration and per model. Usage counts when a run ends; days are UTC.
import "../styles/usage.css";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { formatCost, formatCount } from "../lib/format";
import { Link } from "../lib/router";
import { type RouterOutputs, useTRPC } from "../lib/trpc";
import { useTitle } from "../lib/use-title";

type Report = RouterOutputs["usage"]["get"];
type Group = Report["groups"][number];
type Metric = "cost" | "tokens";

const DAY_MS = 24 * 60 * 60 * 1000;
const RANGES = [7, 30, 90] as const;

/** [from, to) covering the last `days` UTC days, today included. */
function rangeOf(days: number) {
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  const to = new Date(today.getTime() + DAY_MS);
  return { from: new Date(to.getTime() - days * DAY_MS).toISOString(), to: to.toISOString() };
}

const metricOf = (group: Pick<Group, "costUsd" | "tokensIn" | "tokensOut">, metric: Metric) =>
  metric === "cost" ? group.costUsd : group.tokensIn + group.tokensOut;

function DayChart({ report, metric }: { report: Report; metric: Metric }) {
  const byDay = new Map(report.groups.map((group) => [group.key, group]));
  const days: { day: string; group: Group | undefined }[] = [];
  for (let at = Date.parse(report.from); at < Date.parse(report.to); at += DAY_MS) {
    const day = new Date(at).toISOString().slice(0, 10);
    days.push({ day, group: byDay.get(day) });
  }
  const max = Math.max(...days.map(({ group }) => (group ? metricOf(group, metric) : 0)), 0);
  const label = (day: string, group: Group | undefined) =>
    `${day}: ${metric === "cost" ? formatCost(group?.costUsd ?? 0) : `${formatCount(group ? metricOf(group, "tokens") : 0)} tokens`}, ${formatCount(group?.executions ?? 0)} executions`;
  return (
    <figure className="card" aria-labelledby="usage-chart-title">
      <figcaption id="usage-chart-title">
        <h2>{metric === "cost" ? "Cost per day" : "Tokens per day"}</h2>
      </figcaption>
      <ul className="usage-chart">
        {days.map(({ day, group }) => {
          const value = group ? metricOf(group, metric) : 0;
          const height = max > 0 ? Math.max((value / max) * 100, value > 0 ? 1 : 0) : 0;
          return (
            <li key={day} title={label(day, group)} aria-label={label(day, group)}>
              <span className="usage-bar" style={{ height: `${height}%` }} />
            </li>
          );
        })}
      </ul>
      <div className="usage-axis" aria-hidden="true">
        <span>{days[0]?.day}</span>
        <span>{days.at(-1)?.day}</span>
      </div>
    </figure>
  );
}

function UsageTable({
  report,
  title,
  what,
}: {
  report: Report;
  title: string;
  what: "orchestration" | "model";
}) {
  return (
    <section aria-labelledby={`usage-${what}`}>
      <h2 id={`usage-${what}`}>{title}</h2>
      {report.groups.length === 0 ? (
        <p className="muted">No usage in this range.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">{what === "model" ? "Model" : "Orchestration"}</th>
                <th scope="col" className="numeric">
                  Executions
                </th>
                <th scope="col" className="numeric">
                  Calls
                </th>
                <th scope="col" className="numeric">
                  Tokens in
                </th>
                <th scope="col" className="numeric">
                  Tokens out
                </th>
                <th scope="col" className="numeric">
                  Cost
                </th>
              </tr>
            </thead>
            <tbody>
              {report.groups.map((group) => (
                <tr key={group.key}>
                  <th scope="row">
                    {what === "orchestration" ? (
                      <Link to={`/orchestrations/${group.key}`}>{group.label}</Link>
                    ) : (
                      <span className="mono">{group.label}</span>
                    )}
                  </th>
                  <td className="numeric">{formatCount(group.executions)}</td>
                  <td className="numeric">{formatCount(group.calls)}</td>
                  <td className="numeric">{formatCount(group.tokensIn)}</td>
                  <td className="numeric">{formatCount(group.tokensOut)}</td>
                  <td className="numeric">{formatCost(group.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Totals({ total }: { total: Report["total"] }) {
  return (
    <dl className="card usage-totals">
      <div>
        <dt>Executions</dt>
        <dd>{formatCount(total.executions)}</dd>
      </div>
      <div>
        <dt>Model calls</dt>
        <dd>{formatCount(total.calls)}</dd>
      </div>
      <div>
        <dt>Tokens in / out</dt>
        <dd>
          {formatCount(total.tokensIn)} / {formatCount(total.tokensOut)}
        </dd>
      </div>
      <div>
        <dt>Cost</dt>
        <dd>{formatCost(total.costUsd)}</dd>
      </div>
    </dl>
  );
}

export function UsagePage() {
  useTitle("Usage");
  const trpc = useTRPC();
  const [days, setDays] = useState<(typeof RANGES)[number]>(30);
  const [metric, setMetric] = useState<Metric>("cost");
  const range = rangeOf(days);
  const byDay = useQuery(trpc.usage.get.queryOptions({ ...range, groupBy: "day" }));
  const byOrchestration = useQuery(trpc.usage.get.queryOptions({ ...range, groupBy: "orchestration" }));
  const byModel = useQuery(trpc.usage.get.queryOptions({ ...range, groupBy: "model" }));
  return (
    <>
      <PageHeader
        title="Usage"
        subtitle="Tokens, cost and executions of your team's runs, counted when each run ends (days in UTC)."
      />
      <div className="toolbar">
        <label>
          Range
          <select value={days} onChange={(event) => setDays(Number(event.target.value) as typeof days)}>
            {RANGES.map((n) => (
              <option key={n} value={n}>
                Last {n} days
              </option>
            ))}
          </select>
        </label>
        <label>
          Chart
          <select value={metric} onChange={(event) => setMetric(event.target.value as Metric)}>
            <option value="cost">Cost</option>
            <option value="tokens">Tokens</option>
          </select>
        </label>
      </div>
      <ErrorNotice error={byDay.error ?? byOrchestration.error ?? byModel.error} />
      {byDay.isPending ? <Spinner /> : null}
      {byDay.data ? (
        <>
          <Totals total={byDay.data.total} />
          <DayChart report={byDay.data} metric={metric} />
        </>
      ) : null}
      {byOrchestration.data ? (
        <UsageTable report={byOrchestration.data} title="Per orchestration" what="orchestration" />
      ) : null}
      {byModel.data ? <UsageTable report={byModel.data} title="Per model" what="model" /> : null}
    </>
  );
}
