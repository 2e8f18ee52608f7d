// A run's budget (plan.budget: tokens and US dollars). Before a model call starts, its worst case is
// reserved (the role's maxTokens plus the input's estimated tokens, priced at the pinned model's prices);
// a child execution holds whatever the run has left, a run its agent code starts what it asks for of
// that (header.holds, until it ends and tells what it spent). A start whose reservation would cross the budget is
// refused: nothing new starts, calls and children in flight are awaited (they are paid for either way),
// then the run fails with error kind `budget_exceeded`. A reservation is replaced by the actual usage
// when its attempt ends. Pure: no storage, no clock, no network.
import type { AgentStep, JsonValue } from "./definition";
import { stopUnfinished } from "./settle";
import type { Transition } from "./transition";
import { ROOT } from "./tree";
import type { AttemptRecord, Budget, Plan, RunHeader, RunUsage, Spend, StepInstance, Usage } from "./types";

/** Cost comparisons allow for floating-point sums of prices. */
const COST_EPSILON_USD = 1e-9;
const ZERO: Spend = { tokens: 0, costUsd: 0 };

interface Ledger {
  spent: Spend;
  reserved: Spend;
}

/** Each decision's running totals, computed from the instances on first use and kept up to date. */
const ledgers = new WeakMap<Transition, Ledger>();

function add(a: Spend, b: Spend | undefined, sign = 1): Spend {
  return b ? { tokens: a.tokens + sign * b.tokens, costUsd: a.costUsd + sign * b.costUsd } : a;
}

const spendOf = (usage: Usage | undefined): Spend =>
  usage ? { tokens: usage.tokensIn + usage.tokensOut, costUsd: usage.costUsd } : ZERO;

/** What an attempt spent: its own call's usage (a late reply's too: it was paid for) and its child run's. */
function spentBy(attempt: AttemptRecord): Spend {
  return add(add(spendOf(attempt.usage), spendOf(attempt.lateResult?.usage)), attempt.childSpent);
}

function ledgerOf(tx: Transition): Ledger {
  const known = ledgers.get(tx);
  if (known) return known;
  const ledger = { spent: tx.header.heldSpent ?? ZERO, reserved: ZERO };
  for (const held of Object.values(tx.header.holds ?? {})) ledger.reserved = add(ledger.reserved, held);
  for (const instance of tx.instances())
    for (const attempt of instance.attempts) {
      ledger.spent = add(ledger.spent, spentBy(attempt));
      if (!attempt.outcome) ledger.reserved = add(ledger.reserved, attempt.reserved);
    }
  ledgers.set(tx, ledger);
  return ledger;
}

/** Called as an open attempt ends (`ended` is the attempt with its final fields): its hold becomes its spend. */
export function attemptSettled(tx: Transition, open: AttemptRecord, ended: AttemptRecord): void {
  const ledger = ledgers.get(tx);
  if (!ledger || open.outcome) return;
  ledger.reserved = add(ledger.reserved, open.reserved, -1);
  ledger.spent = add(ledger.spent, spentBy(ended));
}

/** What the run has spent (settled attempts and children) and holds for what is in flight. */
export function budgetLedger(tx: Transition): Ledger {
  const { spent, reserved } = ledgerOf(tx);
  return { spent: { ...spent }, reserved: { ...reserved } };
}

const tokensOf = (value: JsonValue | string): number =>
  Math.ceil((typeof value === "string" ? value : JSON.stringify(value)).length / 4);

/** A model call's worst case: its role's maxTokens out, its prompt and input in, at its pinned prices. */
export function worstCaseOfCall(tx: Transition, step: AgentStep, input: JsonValue): Spend {
  const role = step.roleName === undefined ? undefined : tx.plan.roles[step.roleName];
  const tokensOut = role?.hyperparameters.maxTokens ?? 0;
  const tokensIn = tokensOf(input) + tokensOf(role?.basePrompt ?? "");
  const price = role?.model ?? { priceIn: 0, priceOut: 0 };
  return {
    tokens: tokensIn + tokensOut,
    costUsd: (tokensIn * price.priceIn + tokensOut * price.priceOut) / 1_000_000,
  };
}

const money = (usd: number) => `$${Number(usd.toFixed(6))}`;

function describe(spend: Spend, budget: Budget): string {
  const parts = [
    budget.maxTokens === undefined ? undefined : `${spend.tokens} tokens`,
    budget.maxCostUsd === undefined ? undefined : money(spend.costUsd),
  ];
  return parts.filter(Boolean).join(", ");
}

function budgetText(budget: Budget): string {
  const parts = [
    budget.maxTokens === undefined ? undefined : `maxTokens ${budget.maxTokens}`,
    budget.maxCostUsd === undefined ? undefined : `maxCostUsd ${money(budget.maxCostUsd)}`,
  ];
  return parts.filter(Boolean).join(", ");
}

function crosses(total: Spend, budget: Budget): boolean {
  return (
    (budget.maxTokens !== undefined && total.tokens > budget.maxTokens) ||
    (budget.maxCostUsd !== undefined && total.costUsd > budget.maxCostUsd + COST_EPSILON_USD)
  );
}

/**
 * Reserves `worstCase` for a call of instance `id`, or refuses it: the run then stops (see the header).
 * Runs without a budget reserve nothing and are never refused.
 */
export function reserveCall(
  tx: Transition,
  instance: StepInstance,
  worstCase: Spend,
): Spend | undefined | false {
  const budget = tx.plan.budget;
  if (!budget) return undefined;
  if (tx.header.budgetStop) return false;
  const ledger = ledgerOf(tx);
  const total = add(add(ledger.spent, ledger.reserved), worstCase);
  if (crosses(total, budget)) {
    const used = describe(add(ledger.spent, ledger.reserved), budget);
    tx.header.budgetStop =
      `budget exceeded: step "${instance.name}" was not started; its worst case (${describe(worstCase, budget)}) ` +
      `on top of what the run spent and holds (${used}) would cross its budget (${budgetText(budget)})`;
    return false;
  }
  ledger.reserved = add(ledger.reserved, worstCase);
  return worstCase;
}

/** What the budget has left per limited field, at most `want` of each; undefined when nothing is left. */
function leftOf(budget: Budget, ledger: Ledger, want: Budget = {}): Budget | undefined {
  const used = add(ledger.spent, ledger.reserved);
  const left: Budget = {};
  if (budget.maxTokens !== undefined)
    left.maxTokens = Math.min(Math.max(0, budget.maxTokens - used.tokens), want.maxTokens ?? Infinity);
  if (budget.maxCostUsd !== undefined)
    left.maxCostUsd = Math.min(Math.max(0, budget.maxCostUsd - used.costUsd), want.maxCostUsd ?? Infinity);
  const empty =
    left.maxTokens === 0 || (left.maxCostUsd !== undefined && left.maxCostUsd <= COST_EPSILON_USD);
  return empty ? undefined : left;
}

const heldOf = (grant: Budget): Spend => ({ tokens: grant.maxTokens ?? 0, costUsd: grant.maxCostUsd ?? 0 });

/**
 * A child execution gets everything the run has left (and holds it while it runs); refused, stopping the
 * run, when nothing is left. Undefined: the run has no budget.
 */
export function reserveChild(
  tx: Transition,
  instance: StepInstance,
): { grant: Budget; held: Spend } | undefined | false {
  const budget = tx.plan.budget;
  if (!budget) return undefined;
  if (tx.header.budgetStop) return false;
  const ledger = ledgerOf(tx);
  const grant = leftOf(budget, ledger);
  if (!grant) {
    const used = describe(add(ledger.spent, ledger.reserved), budget);
    tx.header.budgetStop = `budget exceeded: step "${instance.name}" was not started; the run has spent and holds ${used} of its budget (${budgetText(budget)}), nothing is left for a child execution`;
    return false;
  }
  const held = heldOf(grant);
  ledger.reserved = add(ledger.reserved, held);
  return { grant, held };
}

/** Holds for run `executionId` (started by this run's agent code) what is left, at most `want`; none when nothing is. */
export function holdForRun(tx: Transition, executionId: string, want?: Budget): void {
  const budget = tx.plan.budget;
  if (!budget || tx.header.budgetStop || tx.header.holds?.[executionId]) return;
  const ledger = ledgerOf(tx);
  const grant = leftOf(budget, ledger, want);
  if (!grant) return;
  const held = heldOf(grant);
  tx.header.holds = { ...tx.header.holds, [executionId]: held };
  ledger.reserved = add(ledger.reserved, held);
}

/** Run `executionId` ended (or never started): its hold becomes what it spent. Repeats change nothing. */
export function releaseHold(tx: Transition, executionId: string, spent: Spend): void {
  const held = tx.header.holds?.[executionId];
  if (!held) return;
  const { [executionId]: _released, ...others } = tx.header.holds ?? {};
  if (Object.keys(others).length > 0) tx.header.holds = others;
  else delete tx.header.holds;
  tx.header.heldSpent = add(tx.header.heldSpent ?? ZERO, spent);
  const ledger = ledgers.get(tx);
  if (ledger) {
    ledger.reserved = add(ledger.reserved, held, -1);
    ledger.spent = add(ledger.spent, spent);
  }
  // Ended before it: what it spent still shows in this run's usage.
  if (tx.header.usage)
    tx.header.usage = { ...tx.header.usage, children: add(tx.header.usage.children, spent) };
}

/** The budget a run started by this run's agent code holds: null when this run has no budget. */
export function heldBudget(plan: Plan, header: RunHeader, executionId: string): Budget | null | undefined {
  if (!plan.budget) return null;
  const held = header.holds?.[executionId];
  if (!held) return undefined;
  return {
    ...(plan.budget.maxTokens === undefined ? {} : { maxTokens: held.tokens }),
    ...(plan.budget.maxCostUsd === undefined ? {} : { maxCostUsd: held.costUsd }),
  };
}

/**
 * What a run's end counts against the tenant's month: what it spent, its children's included, and what
 * runs its agent code started still hold (they may end after it; counting their share errs on the safe side).
 */
export function spentForMonth(header: RunHeader): number {
  const held = Object.values(header.holds ?? {}).reduce((sum, spend) => sum + spend.costUsd, 0);
  return (header.usage ? totalSpent(header.usage).costUsd : 0) + held;
}

/** Once the budget stopped the run and nothing is in flight any more, the run fails. */
export function endIfBudgetStopped(tx: Transition): boolean {
  const message = tx.header.budgetStop;
  if (!message) return false;
  for (const instance of tx.instances())
    if (instance.wait?.kind === "call" || instance.wait?.kind === "child") return true;
  tx.header.status = "failed";
  tx.header.finishedAt = tx.now;
  tx.header.error = message;
  tx.header.errorKind = "budget_exceeded";
  delete tx.header.budgetStop;
  stopUnfinished(tx, ROOT, "not started: the execution's budget was exceeded");
  return true;
}

/** What the run spent, for its header when it ends (and the index row, and a parent). */
export function runUsage(instances: Iterable<StepInstance>, header: RunHeader): RunUsage {
  const children = header.heldSpent ?? ZERO;
  const usage: RunUsage = { tokensIn: 0, tokensOut: 0, costUsd: 0, calls: 0, byModel: {}, children };
  for (const instance of instances)
    for (const attempt of instance.attempts) {
      usage.children = add(usage.children, attempt.childSpent);
      for (const own of [attempt.usage, attempt.lateResult?.usage]) if (own) countCall(usage, own);
    }
  return usage;
}

function countCall(usage: RunUsage, own: Usage): void {
  usage.tokensIn += own.tokensIn;
  usage.tokensOut += own.tokensOut;
  usage.costUsd += own.costUsd;
  usage.calls += 1;
  const model = usage.byModel[own.model] ?? { tokensIn: 0, tokensOut: 0, costUsd: 0, calls: 0 };
  usage.byModel[own.model] = model;
  model.tokensIn += own.tokensIn;
  model.tokensOut += own.tokensOut;
  model.costUsd += own.costUsd;
  model.calls += 1;
}

/** Everything a run spent, its children's included: what it tells a parent. */
export function totalSpent(usage: RunUsage): Spend {
  return add({ tokens: usage.tokensIn + usage.tokensOut, costUsd: usage.costUsd }, usage.children);
}
