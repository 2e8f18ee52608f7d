// The host's ledger of runs it issued, on its own: whatever a sandbox does, MetaTools refuses calls of a
// run the host did not issue (an unknown run id, a forged or another run's token), of a run that ended,
// ran out of time or used up its calls, and calls made under another sandbox's props.
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
    const run = openLedger("run_1", owner, 10_000, 0);
    admitCall(run, 5).push({ name: "list_roles", ok: true, durationMs: 1 });
    expect(closeLedger("run_1", 6)).toEqual([{ name: "list_roles", ok: true, durationMs: 1 }]);
    expect(refusal(() => admitCall(run, 7))).toBe("PRECONDITION_FAILED: the run has already ended");
  });

  it("refuses calls past the deadline, past the call limit, or from another sandbox", () => {
    const run = openLedger("run_2", owner, 100, 0);
    expect(refusal(() => admitCall(run, 101))).toBe("TOO_MANY_REQUESTS: the run's time limit has passed");
    expect(refusal(() => admitCall({ ...run, tenantId: "ten_b" }, 50))).toBe(
      "FORBIDDEN: the run belongs to another sandbox",
    );
    const calls = admitCall(run, 50);
    for (let i = 0; i < MAX_META_CALLS; i++) calls.push({ name: "get_role", ok: true, durationMs: 0 });
    expect(refusal(() => admitCall(run, 50))).toBe(
      `TOO_MANY_REQUESTS: the run already made ${MAX_META_CALLS} meta calls, the limit`,
    );
  });

  it("mints a different unguessable token for every run", () => {
    const first = openLedger("run_3", owner, 100, 0);
    const second = openLedger("run_4", owner, 100, 0);
    expect(first.token).toMatch(/^[0-9a-f]{64}$/);
    expect(second.token).not.toBe(first.token);
    expect(first).toEqual({ ...owner, runId: "run_3", token: first.token, deadline: 100 });
  });

  it("refuses a run it did not issue, a forged token and another run's token, fresh budget or not", () => {
    const run = openLedger("run_5", owner, 10_000, 0);
    const other = openLedger("run_6", owner, 10_000, 0);
    const notIssued = (id: string) =>
      `FORBIDDEN: run "${id}" was not issued by this host: meta calls need the capability of a live run`;
    expect(refusal(() => admitCall({ ...run, runId: "run_forged" }, 5))).toBe(notIssued("run_forged"));
    expect(refusal(() => admitCall({ ...run, token: "0".repeat(64) }, 5))).toBe(notIssued("run_5"));
    expect(refusal(() => admitCall({ ...run, token: other.token }, 5))).toBe(notIssued("run_5"));
    expect(refusal(() => admitCall({ ...owner, runId: "run_5" }, 5))).toBe(notIssued("run_5"));
    expect(refusal(() => admitCall(undefined, 5))).toBe(
      "FORBIDDEN: a run was not issued by this host: meta calls need the capability of a live run",
    );
    expect(closeLedger("run_5", 6)).toEqual([]);
  });
});
