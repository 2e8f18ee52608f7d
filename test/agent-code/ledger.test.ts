// The host's ledger of runs in flight, on its own: whatever a sandbox does, MetaTools refuses calls of a
// run that ended, ran out of time or used up its calls, and calls made under another sandbox's props.
import { describe, expect, it } from "vitest";
import { admitCall, closeLedger, openLedger } from "../../worker/agent-code/ledger";
import { MAX_META_CALLS } from "../../worker/agent-code/limits";
import { TroupeError } from "../../worker/errors";

const owner = { tenantId: "ten_a", roleId: "rol_a" };
const refusal = (call: () => unknown) => {
  try {
    call();
  } catch (error) {
    if (error instanceof TroupeError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return "admitted";
};

describe("the run ledger", () => {
  it("admits a run's calls until it ends, then refuses them", () => {
    openLedger("run_1", owner, 10_000, 0);
    admitCall("run_1", owner, 5).push({ name: "list_roles", ok: true, durationMs: 1 });
    expect(closeLedger("run_1", 6)).toEqual([{ name: "list_roles", ok: true, durationMs: 1 }]);
    expect(refusal(() => admitCall("run_1", owner, 7))).toBe(
      "PRECONDITION_FAILED: the run has already ended",
    );
  });

  it("refuses calls past the deadline, past the call limit, or from another sandbox", () => {
    openLedger("run_2", owner, 100, 0);
    expect(refusal(() => admitCall("run_2", owner, 101))).toBe(
      "TOO_MANY_REQUESTS: the run's time limit has passed",
    );
    expect(refusal(() => admitCall("run_2", { ...owner, tenantId: "ten_b" }, 50))).toBe(
      "FORBIDDEN: the run belongs to another sandbox",
    );
    const calls = admitCall("run_2", owner, 50);
    for (let i = 0; i < MAX_META_CALLS; i++) calls.push({ name: "get_role", ok: true, durationMs: 0 });
    expect(refusal(() => admitCall("run_2", owner, 50))).toBe(
      `TOO_MANY_REQUESTS: the run already made ${MAX_META_CALLS} meta calls, the limit`,
    );
    expect(refusal(() => admitCall(undefined, owner, 50))).toBe(
      "BAD_REQUEST: the call does not name its run",
    );
  });
});
