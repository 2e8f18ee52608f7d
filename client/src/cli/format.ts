// How numbers and steps read in a terminal: durations, tokens, dollars, one line per step change.
import type { ExecutionStatus, StepLog } from "../types.ts";

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function tokens(count: number): string {
  return `${count.toLocaleString("en-US")} tokens`;
}

export function usd(amount: number): string {
  return `$${amount.toFixed(amount > 0 && amount < 0.01 ? 6 : 4)}`;
}

/** A top-level step by its name; a step inside a loop, forEach or branch indented, with its instance id. */
export function stepLabel(step: StepLog): string {
  return step.depth === 0 ? step.name : `${"  ".repeat(step.depth)}${step.name} [${step.id}]`;
}

/** The step's state in words: status, attempt, what it waits for, its error. */
export function stepState(step: StepLog): string {
  const attempt = step.attempts.length > 1 ? ` (attempt ${step.attempts.length})` : "";
  switch (step.status) {
    case "running":
      return step.waitingForRetry
        ? `retrying${step.retryAt ? ` at ${step.retryAt}` : ""}`
        : `running${attempt}`;
    case "waiting":
      switch (step.wait?.kind) {
        case "approval":
          return `waiting for approval${step.wait.message ? `: ${oneLine(step.wait.message, 80)}` : ""}`;
        case "timer":
          return `sleeping until ${step.wait.until}`;
        case "child":
          return `waiting for child execution ${step.wait.executionId}`;
        default:
          return "waiting";
      }
    case "failed":
      return `failed${attempt}: ${oneLine(step.error ?? step.reason ?? "unknown error", 200)}`;
    case "skipped":
      return `skipped${step.reason ? ` (${oneLine(step.reason, 80)})` : ""}`;
    case "cancelled":
      return "cancelled";
    default:
      return `${step.status}${attempt}`;
  }
}

/** "· 1,234 tokens · $0.0012 · 1.2 s" for what a step spent, empty parts left out. */
export function stepSpending(step: StepLog): string {
  const parts: string[] = [];
  if (step.spent.tokens > 0) parts.push(tokens(step.spent.tokens));
  if (step.spent.tokens > 0 || step.spent.costUsd > 0) parts.push(usd(step.spent.costUsd));
  const ms = step.attempts.reduce((sum, attempt) => sum + (attempt.durationMs ?? 0), 0);
  const ended = step.status === "completed" || step.status === "failed";
  if (ended && step.attempts.length > 0) parts.push(duration(ms));
  return parts.length > 0 ? ` · ${parts.join(" · ")}` : "";
}

/** Tokens (in + out, child runs included) and US dollars a run spent. */
export function runSpent(status: ExecutionStatus): { tokens: number; costUsd: number } {
  const { usage } = status;
  return {
    tokens: usage.tokensIn + usage.tokensOut + usage.children.tokens,
    costUsd: usage.costUsd + usage.children.costUsd,
  };
}

export function runSummary(status: ExecutionStatus): string {
  const spent = runSpent(status);
  const parts = [`Execution ${status.id} ${status.status}`];
  if (status.durationMs !== null) parts.push(`in ${duration(status.durationMs)}`);
  parts.push(tokens(spent.tokens), usd(spent.costUsd));
  return parts.join(" · ");
}

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function date(iso: string | null): string {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : "";
}
