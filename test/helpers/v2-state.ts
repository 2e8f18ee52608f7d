// Version-2 execution state (test/fixtures/v2-execution-storage.json: storage exactly as commit ae46803
// wrote it, before issue 12 changed the model call path) planted in a new execution object of a fresh
// tenant, with its index row, as if the run had been in flight when the new code shipped.
import type { OrchestrationInput } from "../../worker/schemas/orchestration";
import fixtures from "../fixtures/v2-execution-storage.json";
import { type CapturedStorage, plantCapturedExecution } from "./v1-state";

export type V2Situation =
  /** Started, its first step's attempt handed to the first alarm (waiting_retry, no attempt yet). */
  | "deferredAtStart"
  /** The chain A -> B -> C: A completed, B's model call in flight. */
  | "chainHeldAtB"
  /** The 10-wide fan-out: M3's and M7's calls in flight, the other eight completed, Join not started. */
  | "fanOutHeldAtM3M7"
  /** Flaky's first attempt failed; its retry is due 10 minutes later, then After. */
  | "waitingRetry"
  /** A two-iteration loop of Work then an approval Gate: iteration 0 approved, iteration 1's Gate waiting. */
  | "loopApprovalWaiting"
  /** A forEach of five items, two at a time: items 0 and 1 completed, 2 and 3 in flight, 4 pending. */
  | "forEachHeldAtItems2And3"
  | "chainCompleted"
  | "loopApprovalCompleted"
  | "forEachCompleted";

/** How long before the test the planted state was written: longer than any captured call's timeout or retry delay, shorter than the approval's timeout. */
export const WRITTEN_AGO_MS = 60 * 60 * 1000;

function capturedOf(situation: V2Situation): CapturedStorage {
  return (fixtures as unknown as Record<V2Situation, CapturedStorage>)[situation];
}

/**
 * Plants `situation` for a fresh tenant, ids and model rewritten (see `plantCapturedExecution`), every
 * recorded time moved so that it was written WRITTEN_AGO_MS ago: calls and retry delays started then are
 * overdue, the approval's 7-day deadline is not (the captured times themselves would pass it a week
 * after the capture).
 */
export function plantV2Execution(situation: V2Situation) {
  return plantCapturedExecution(capturedOf(situation), { tag: "v2", writtenAgoMs: WRITTEN_AGO_MS });
}

/** The definition the captured run executed (its plan's snapshot), for an uncrashed control run. */
export function capturedDefinition(situation: V2Situation): OrchestrationInput {
  const { meta, plan } = capturedOf(situation).entries;
  return { name: meta.orchestrationName, steps: plan.steps };
}

/** The header the captured run ended with (a completed situation), as captured. */
export function capturedEnd(situation: V2Situation): CapturedStorage["entries"]["header"] {
  return capturedOf(situation).entries.header;
}
