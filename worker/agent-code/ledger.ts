// The host's record of each agent-code run in flight in this isolate: who runs it, until when, and the meta
// calls it made. MetaTools consults it on every call, so a run that has ended, run out of time or used up its
// calls is refused here whatever its sandbox claims. Module memory; never persisted.
import { TroupeError } from "../errors";
import { MAX_META_CALLS, MAX_TIMEOUT_MS } from "./limits";

export interface MetaCallRecord {
  name: string;
  ok: boolean;
  durationMs: number;
}

export interface RunOwner {
  tenantId: string;
  roleId: string;
  executionId?: string;
}

interface Ledger extends RunOwner {
  deadline: number;
  calls: MetaCallRecord[];
  endedAt?: number;
}

/** Ended runs are remembered this long, so their sandbox's late calls are refused rather than unknown. */
const KEEP_ENDED_MS = 5 * 60_000;
const ledgers = new Map<string, Ledger>();

function sweep(now: number): void {
  for (const [runId, ledger] of ledgers) {
    const over = ledger.endedAt ?? ledger.deadline;
    if (now - over > KEEP_ENDED_MS) ledgers.delete(runId);
  }
}

export function openLedger(runId: string, owner: RunOwner, deadline: number, now: number): void {
  sweep(now);
  ledgers.set(runId, { ...owner, deadline, calls: [] });
}

/** Ends the run: later calls with its id are refused. Returns the calls it made. */
export function closeLedger(runId: string, now: number): MetaCallRecord[] {
  const ledger = ledgers.get(runId);
  if (!ledger) return [];
  ledger.endedAt ??= now;
  return [...ledger.calls];
}

const sameOwner = (a: RunOwner, b: RunOwner) =>
  a.tenantId === b.tenantId && a.roleId === b.roleId && (a.executionId ?? "") === (b.executionId ?? "");

/**
 * Admits one meta call of run `runId` by the sandbox bound to `owner`, or throws. A run this isolate has
 * not seen (Cloudflare may serve the loopback entrypoint from another isolate of this Worker) gets a ledger
 * of its own here, bounded by the longest timeout: the props still fix the tenant and role.
 */
export function admitCall(runId: unknown, owner: RunOwner, now: number): MetaCallRecord[] {
  if (typeof runId !== "string" || runId.length === 0 || runId.length > 100)
    throw new TroupeError("BAD_REQUEST", "the call does not name its run");
  let ledger = ledgers.get(runId);
  if (!ledger) {
    ledger = { ...owner, deadline: now + MAX_TIMEOUT_MS, calls: [] };
    ledgers.set(runId, ledger);
  }
  if (!sameOwner(ledger, owner)) throw new TroupeError("FORBIDDEN", "the run belongs to another sandbox");
  if (ledger.endedAt !== undefined) throw new TroupeError("PRECONDITION_FAILED", "the run has already ended");
  if (now > ledger.deadline) throw new TroupeError("TOO_MANY_REQUESTS", "the run's time limit has passed");
  if (ledger.calls.length >= MAX_META_CALLS) {
    throw new TroupeError(
      "TOO_MANY_REQUESTS",
      `the run already made ${MAX_META_CALLS} meta calls, the limit`,
    );
  }
  return ledger.calls;
}
