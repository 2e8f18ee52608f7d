// The benchmark's printed table: each figure as median (min–max) for Troupe, the floor and Workflows,
// and the ratios Troupe / floor and Troupe / Workflows (for throughput, higher is better); then the
// HTTP targets as PASS/FAIL lines.
import { round, type Summary } from "./stats.ts";
import { printTargets, type Target } from "./targets.ts";

export interface Figure {
  label: string;
  unit: string;
  better: "lower" | "higher";
  troupe: Summary;
  floor?: Summary;
  workflows?: Summary;
}

export interface Scaling {
  label: string;
  size: number;
  total: Summary;
}

const cell = (s: Summary | undefined) => (s ? `${round(s.median)} (${round(s.min)}–${round(s.max)})` : "–");
const ratio = (a: Summary, b: Summary | undefined) => (b ? `${round(a.median / b.median, 2)}x` : "–");

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c] ?? 0)).join(" | ")} |`;
  const [head, ...body] = rows;
  return [line(head ?? []), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join(
    "\n",
  );
}

export function printFigures(figures: Figure[]): void {
  console.log(
    table([
      ["figure", "unit", "Troupe", "floor (bare DO alarms)", "Workflows", "Troupe/floor", "Troupe/Workflows"],
      ...figures.map((f) => [
        f.label,
        f.unit,
        cell(f.troupe),
        cell(f.floor),
        cell(f.workflows),
        ratio(f.troupe, f.floor),
        ratio(f.troupe, f.workflows),
      ]),
    ]),
  );
}

export function printReport(report: {
  figures: Figure[];
  scaling: Scaling[];
  targets: Target[];
  runs: number;
  shapeRuns: number;
}): void {
  console.log(
    `\nTroupe benchmark — medians of ${report.runs} runs (step overhead and fan-out: ${report.shapeRuns}) (min–max); the model is the instant local one, or where a row says "over HTTP" a loopback OpenAI-compatible server that answers at once\n`,
  );
  printFigures(report.figures);
  console.log("\nScaling (Troupe): total ms and ms per step\n");
  console.log(
    table([
      ["shape", "total ms", "ms per step"],
      ...report.scaling.map((s) => [
        s.label,
        cell(s.total),
        `${round(s.total.median / (s.size + (s.label.includes("+ join") ? 1 : 0)), 3)}`,
      ]),
    ]),
  );
  printTargets(report.targets);
}
