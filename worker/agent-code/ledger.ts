// The host's record of each agent-code run it issued in this isolate: who runs it, until when, its
// capability token and the meta calls it made. MetaTools consults it on every call, so a run the host did
// not issue, one that has ended, run out of time or used up its calls is refused whatever its sandbox
// claims. Module memory; never persisted.
import { randomBytes, timingSafeEqualHex, toHex } from "../auth/crypto";
import { TroupeError } from "../errors";
import { MAX_META_CALLS } from "./limits";

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

/**
 * What the host binds into the MetaTools stub it hands one run (its props): the owner, the run's id, an
 * unguessable token minted for it, and its deadline. The sandbox receives the stub, never these values,
 * and cannot make a stub with others.
 */
export interface RunCapability extends RunOwner {
  runId: string;
  token: string;
  deadline: number;
}

interface Ledger extends RunCapability {
  calls: MetaCallRecord[];
  endedAt?: number;
}

/** Ended runs are remembered this long, so their sandbox's late calls are refused as ended, not unknown. */
const KEEP_ENDED_MS = 5 * 60_000;
const ledgers = new Map<string, Ledger>();

function sweep(now: number): void {
  for (const [runId, ledger] of ledgers) {
    const over = ledger.endedAt ?? ledger.deadline;
    if (now - over > KEEP_ENDED_MS) ledgers.delete(runId);
  }
}

/** Issues a run: mints its token and opens its ledger. The result is the MetaTools props for its stub. */
export function openLedger(runId: string, owner: RunOwner, deadline: number, now: number): RunCapability {
  sweep(now);
  const capability: RunCapability = {
    tenantId: owner.tenantId,
    roleId: owner.roleId,
    ...(owner.executionId ? { executionId: owner.executionId } : {}),
    runId,
    token: toHex(randomBytes(32)),
    deadline,
  };
  ledgers.set(runId, { ...capability, calls: [] });
  return capability;
}

/** Ends the run: later calls with its capability are refused. Returns the calls it made. */
export function closeLedger(runId: string, now: number): MetaCallRecord[] {
  const ledger = ledgers.get(runId);
  if (!ledger) return [];
  ledger.endedAt ??= now;
  return [...ledger.calls];
}

const sameOwner = (a: RunOwner, b: RunOwner) =>
  a.tenantId === b.tenantId && a.roleId === b.roleId && (a.executionId ?? "") === (b.executionId ?? "");

function notIssued(runId: unknown): TroupeError {
  const named = typeof runId === "string" ? `run "${runId.slice(0, 100)}"` : "a run";
  return new TroupeError(
    "FORBIDDEN",
    `${named} was not issued by this host: meta calls need the capability of a live run`,
  );
}

/**
 * Admits one meta call made with the capability `presented` (the props of the stub it came through), or
 * throws. The run must be one this isolate issued, with its very token and owner, not ended, within its
 * deadline and its call budget. Fails closed: a run unknown here is refused, never given a fresh ledger.
 */
export function admitCall(presented: Partial<RunCapability> | undefined, now: number): MetaCallRecord[] {
  const runId = presented?.runId;
  const ledger = typeof runId === "string" ? ledgers.get(runId) : undefined;
  if (!ledger || typeof presented?.token !== "string") throw notIssued(runId);
  if (!timingSafeEqualHex(ledger.token, presented.token)) throw notIssued(runId);
  if (!sameOwner(ledger, presented as RunOwner))
    throw new TroupeError("FORBIDDEN", "the run belongs to another sandbox");
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
