// The budget a run is started with: the orchestration's and the request's (the smaller wins, per field),
// and under the tenant's monthly budget a reservation of the month's money that also caps the run. A
// child gets at most what its parent had left (the parent's engine holds that much while it runs); so
// does a run the agent code of a run with a budget starts (the parent holds its share until it ends).
import { type MonthlyReserve, monthOf, monthState, releaseMonth, reserveMonth } from "../../worker/db/usage";
import type { Env } from "../../worker/env";
import { TroupeError } from "../../worker/errors";
import type { Limits } from "../../worker/limits";
import type { Budget } from "../engine/types";
import { executionStub } from "./stub";

/** What a start pins: the run's budget (plan), its hold on the month or on its parent's budget (meta). */
export interface PinnedBudget {
  budget?: Budget;
  monthlyReserve?: MonthlyReserve;
  budgetHeldBy?: string;
}

/** Per field, the smaller of the budgets given; undefined when none limits anything. */
export function tighterBudget(...budgets: (Budget | undefined)[]): Budget | undefined {
  const tighter: Budget = {};
  for (const budget of budgets) {
    if (budget?.maxTokens !== undefined)
      tighter.maxTokens = Math.min(tighter.maxTokens ?? budget.maxTokens, budget.maxTokens);
    if (budget?.maxCostUsd !== undefined)
      tighter.maxCostUsd = Math.min(tighter.maxCostUsd ?? budget.maxCostUsd, budget.maxCostUsd);
  }
  return tighter.maxTokens === undefined && tighter.maxCostUsd === undefined ? undefined : tighter;
}

const money = (usd: number) => `$${Number(usd.toFixed(4))}`;

function monthSpent(limits: Limits, month: string, state: { spentUsd: number; reservedUsd: number }) {
  const why =
    `the team's monthly budget (maxCostUsdPerMonth ${money(limits.maxCostUsdPerMonth)}) for ${month} is used up: ` +
    `${money(state.spentUsd)} spent, ${money(state.reservedUsd)} held by running executions; ` +
    "wait for running executions to end, or for next month, or ask for a higher plan";
  return new TroupeError("PRECONDITION_FAILED", `cannot start: ${why}`, [{ path: "budget", message: why }]);
}

/** Refuses a start at once when the month's budget is spent (before anything is written). */
export async function checkMonth(
  d1: D1Database,
  tenantId: string,
  limits: Limits,
  now: number,
): Promise<void> {
  if (limits.maxCostUsdPerMonth <= 0) return;
  const month = monthOf(now);
  const state = await monthState(d1, tenantId, month);
  if (state.spentUsd + state.reservedUsd >= limits.maxCostUsdPerMonth - 1e-9)
    throw monthSpent(limits, month, state);
}

/**
 * The budget of a run started from outside: `budget`, and under a monthly budget a reservation of its
 * maxCostUsd (or runCostReserveUsd) from the month, at most what is left, which then caps the run.
 */
export async function pinBudget(
  d1: D1Database,
  tenantId: string,
  limits: Limits,
  budget: Budget | undefined,
  now: number,
): Promise<PinnedBudget> {
  if (limits.maxCostUsdPerMonth <= 0) return budget ? { budget } : {};
  const month = monthOf(now);
  const want = budget?.maxCostUsd ?? limits.runCostReserveUsd;
  const held = await reserveMonth(d1, tenantId, month, want, limits.maxCostUsdPerMonth);
  if (held.reserved === undefined) throw monthSpent(limits, month, held.state);
  return {
    budget: { ...budget, maxCostUsd: held.reserved },
    monthlyReserve: { month, usd: held.reserved },
  };
}

/**
 * The budget of run `executionId` that the agent code of run `parentId` starts: a share of the parent's
 * budget held for it (at most `budget`), when the parent has one; otherwise as a run started from outside.
 */
export async function pinBudgetFromRun(
  env: Env,
  tenantId: string,
  limits: Limits,
  run: { parentId: string; executionId: string; budget: Budget | undefined; now: number },
): Promise<PinnedBudget> {
  const { parentId, executionId, budget } = run;
  const held = await executionStub(env, parentId).budgetHold({
    executionId,
    ...(budget ? { want: budget } : {}),
  });
  if (!held.ok) {
    const why = `cannot start: ${held.error}`;
    throw new TroupeError("PRECONDITION_FAILED", why, [{ path: "budget", message: held.error }]);
  }
  if (held.value.budget === null) return pinBudget(env.DB, tenantId, limits, budget, run.now);
  return { budget: tighterBudget(budget, held.value.budget) ?? {}, budgetHeldBy: parentId };
}

/** A start that did not happen gives its hold on the month, or on its parent's budget, back. */
export async function unpinBudget(
  env: Env,
  tenantId: string,
  executionId: string,
  pinned: PinnedBudget,
): Promise<void> {
  if (pinned.monthlyReserve) await releaseMonth(env.DB, tenantId, pinned.monthlyReserve);
  if (pinned.budgetHeldBy)
    await executionStub(env, pinned.budgetHeldBy).budgetHold({
      executionId,
      release: { tokens: 0, costUsd: 0 },
    });
}
