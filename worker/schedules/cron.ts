// Cron expressions through croner (a kept, dependency-free library): standard 5 fields only (minute hour
// day-of-month month day-of-week, no seconds), read in an IANA time zone. Pure: every time comes in as an
// argument, nothing here reads the clock. Day-of-month and day-of-week combine with OR, as in Vixie cron.
// DST (croner's rule): a time skipped by a spring-forward gap runs at the first minute after the gap; a
// time that occurs twice in the autumn runs once.
import { Cron } from "croner";
import { invalid } from "../errors";
import type { FieldIssue } from "../schemas/common";

export const DEFAULT_TIMEZONE = "UTC";
/** How many upcoming runs the API shows. */
export const NEXT_RUNS_SHOWN = 5;

/** Why `timezone` is not an IANA zone this runtime knows, or undefined when it is. */
function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return undefined;
  } catch {
    return `"${timezone}" is not an IANA time zone; use a name such as "Europe/Berlin" or "UTC"`;
  }
}

function patternProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/).length;
  if (!cron.startsWith("@") && fields !== 5)
    return `has ${fields} fields; use exactly 5: minute hour day-of-month month day-of-week (no seconds), e.g. "0 9 * * 1-5"`;
  return undefined;
}

/** A checked schedule clock, or BAD_REQUEST naming `cron` or `timezone` (at `prefix` paths). */
export function parseCron(cron: string, timezone: string = DEFAULT_TIMEZONE, prefix = ""): Cron {
  const issues: FieldIssue[] = [];
  const zone = timezoneProblem(timezone);
  if (zone) issues.push({ path: `${prefix}timezone`, message: zone });
  const shape = patternProblem(cron);
  if (shape) issues.push({ path: `${prefix}cron`, message: shape });
  if (issues.length > 0) throw invalid(issues);
  let parsed: Cron;
  try {
    parsed = new Cron(cron.trim(), { mode: "5-part", timezone, paused: true });
  } catch (error) {
    const why = (error as Error).message.replace(/^Cron\w*:\s*/, "");
    throw invalid([{ path: `${prefix}cron`, message: `"${cron}" is not a valid cron expression: ${why}` }]);
  }
  if (!parsed.nextRun(new Date(0)) && !parsed.nextRun())
    throw invalid([
      { path: `${prefix}cron`, message: `"${cron}" never matches a date (e.g. February 31st)` },
    ]);
  return parsed;
}

/** The next `count` run times strictly after `after` (ms). */
export function nextRuns(clock: Cron, after: number, count = NEXT_RUNS_SHOWN): Date[] {
  return clock.nextRuns(count, new Date(after));
}

/** The first run time strictly after `after` (ms), or null if there is none. */
export function nextRunAfter(clock: Cron, after: number): number | null {
  return clock.nextRun(new Date(after))?.getTime() ?? null;
}

/** The latest run time at or before `now` (ms), or undefined when there is none. */
export function latestRunAtOrBefore(clock: Cron, now: number): number | undefined {
  return clock.previousRuns(1, new Date(now + 1))[0]?.getTime();
}
