// Fault points: named places in the execution shell where a crash test can kill the object hard
// (ctx.abort) or make the handler throw. Nothing is armed in a deployment, so each point costs one
// Map lookup.
export type FaultPoint =
  | "alarm_start"
  | "before_call"
  | "during_call"
  | "after_reply"
  | "before_projection"
  /** A decision made, not yet written. */
  | "after_decide"
  /** A decision written, its commands not yet performed (an approval landed, a child owed). */
  | "after_save"
  /** A child execution started, its start not yet marked delivered. */
  | "child_started"
  /** A parent told this run ended, the notice not yet marked delivered. */
  | "parent_notified";
export type FaultMode = "abort" | "throw";

interface Fault {
  point: FaultPoint;
  mode: FaultMode;
  /** Passes through the point this many times before firing. */
  skip: number;
  /** Fires this many times, then disarms. */
  times: number;
}

const armed = new Map<string, Fault>();

export function armFault(
  executionId: string,
  point: FaultPoint,
  { mode = "abort", skip = 0, times = 1 }: { mode?: FaultMode; skip?: number; times?: number } = {},
): void {
  armed.set(executionId, { point, mode, skip, times });
}

export function disarmFault(executionId: string): void {
  armed.delete(executionId);
}

/** The mode to fail with when the armed fault fires here, else undefined. */
export function faultAt(executionId: string, point: FaultPoint): FaultMode | undefined {
  const fault = armed.get(executionId);
  if (!fault || fault.point !== point) return undefined;
  if (fault.skip > 0) {
    fault.skip -= 1;
    return undefined;
  }
  fault.times -= 1;
  if (fault.times <= 0) armed.delete(executionId);
  return fault.mode;
}

/** Whether a fault is still armed for this execution (false once it has fired its last time). */
export function isFaultArmed(executionId: string): boolean {
  return armed.has(executionId);
}
