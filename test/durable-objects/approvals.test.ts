// Approval steps through the real API and runtime: a run pauses until `approve` decides the step, whose
// output { approved, comment, data, by, at } later steps branch on; a timeout decides per onTimeout
// (driven by the object's alarm); every wrong request answers a clear error and changes nothing.
import { describe, expect, it } from "vitest";
import type { ExecutionStatus } from "../../durable-objects/execution/status-view";
import type { JsonValue } from "../../worker/schemas/common";
import { errorOf, newTenant, type TestClient } from "../helpers/client";
import {
  CallLog,
  flowWith,
  logNamed,
  logsNamed,
  runAlarmOf,
  startRun,
  statusOf,
  waitForStep,
} from "../helpers/control-flow";
import { waitForEnd } from "../helpers/executions";
import { gate, type StepInput } from "../helpers/runs";

/** Draft, then "Sign off" (an approval), then a branch on its decision: Publish or Discard. */
const signOff = (approval: Partial<Extract<StepInput, { stepType: "approval" }>> = {}): StepInput[] => [
  { name: "Draft", inputMapping: { step: "Draft" } },
  { name: "Sign off", stepType: "approval", message: "Publish {{context.Draft}}?", ...approval },
  {
    name: "Decide",
    stepType: "branch",
    branches: [
      {
        when: { field: "context['Sign off'].approved", operator: "==", value: true },
        steps: [
          { name: "Publish", inputMapping: { step: "Publish", note: "{{context['Sign off'].comment}}" } },
        ],
      },
    ],
    otherwise: [{ name: "Discard", inputMapping: { step: "Discard" } }],
  },
];

function signOffScript(calls: CallLog, draft: Promise<string> | string = "the post") {
  return (input: Record<string, JsonValue>) => {
    calls.record(input);
    if (input.step === "Draft") return draft;
    return input.step === "Publish" ? `published (${input.note})` : "discarded";
  };
}

async function waitingRun(trpc: TestClient, approval: Parameters<typeof signOff>[0] = {}) {
  const calls = new CallLog();
  const orchestration = await flowWith(trpc, signOff(approval), signOffScript(calls));
  const id = await startRun(trpc, orchestration.id);
  const waiting = await waitForStep(trpc, id, "Sign off", "waiting");
  return { id, calls, waiting };
}

const approve = (
  trpc: TestClient,
  input: Parameters<TestClient["orchestrationManagement"]["approve"]["mutate"]>[0],
) => trpc.orchestrationManagement.approve.mutate(input) as Promise<ExecutionStatus>;

describe("approval by API", () => {
  it("waits with its message until approved; the output carries the decision and later steps branch on it", async () => {
    const { trpc } = await newTenant();
    const { id, calls, waiting } = await waitingRun(trpc);

    const step = logNamed(waiting, "Sign off");
    expect(step).toMatchObject({ status: "waiting", stepType: "approval", attempts: [] });
    expect(step.wait).toMatchObject({ kind: "approval", message: "Publish the post?" });
    if (step.wait?.kind !== "approval") throw new Error("not waiting for approval");
    expect(Date.parse(step.wait.deadline ?? "") - Date.parse(step.wait.since ?? "")).toBe(
      7 * 24 * 3600 * 1000,
    );
    expect(waiting.status).toBe("running");

    const answered = await approve(trpc, {
      executionId: id,
      stepName: "Sign off",
      approved: true,
      comment: "ship it",
      data: { channel: "blog" },
    });
    const status = await waitForEnd(trpc, id);

    expect(logNamed(answered, "Sign off").status).toBe("completed");
    expect(status.status).toBe("completed");
    const decision = logNamed(status, "Sign off").output as Record<string, unknown>;
    expect(decision).toMatchObject({ approved: true, comment: "ship it", data: { channel: "blog" } });
    expect(decision.by).toMatch(/^user:/);
    expect(Date.parse(String(decision.at))).toBeGreaterThanOrEqual(Date.parse(step.wait.since ?? ""));
    expect(logNamed(status, "Sign off").reason).toBe(`approved by ${decision.by}`);
    expect(calls.counts).toEqual({ Draft: 1, Publish: 1 });
    expect(status.output).toBe("published (ship it)");
    expect(logNamed(status, "Decide").branch?.taken).toBe(0);
  });

  it("takes the other path when rejected", async () => {
    const { trpc } = await newTenant();
    const { id, calls } = await waitingRun(trpc);

    await approve(trpc, { executionId: id, stepName: "Sign off", approved: false, comment: "not yet" });
    const status = await waitForEnd(trpc, id);

    expect(status.status).toBe("completed");
    expect(logNamed(status, "Sign off").output).toMatchObject({
      approved: false,
      comment: "not yet",
      data: null,
    });
    expect(calls.counts).toEqual({ Draft: 1, Discard: 1 });
    expect(status.output).toBe("discarded");
  });
});

describe("approval timeout", () => {
  async function timedOut(onTimeout: "fail" | "approve" | "reject") {
    const { trpc } = await newTenant();
    const { id, calls, waiting } = await waitingRun(trpc, { timeout: 1000, onTimeout });
    // The alarm set for the deadline, run now: it finishes once the deadline has passed and decided.
    await runAlarmOf(id);
    const status = await waitForEnd(trpc, id);
    return { status, calls, waiting };
  }

  it("fails the step (onTimeout: fail)", async () => {
    const { status, calls } = await timedOut("fail");

    expect(status.status).toBe("failed");
    expect(status.error).toBe('step "Sign off" failed: no approval within 1000 ms');
    expect(logNamed(status, "Sign off")).toMatchObject({ status: "failed", error: status.error });
    expect(calls.counts).toEqual({ Draft: 1 });
  });

  it("approves the step (onTimeout: approve)", async () => {
    const { status, calls, waiting } = await timedOut("approve");

    expect(status.status).toBe("completed");
    const step = logNamed(status, "Sign off");
    expect(step.output).toMatchObject({ approved: true, comment: null, data: null, by: "timeout" });
    expect(step.reason).toBe("approved on timeout after 1000 ms");
    const deadline = logNamed(waiting, "Sign off").wait;
    expect(Date.parse(String((step.output as { at: string }).at))).toBeGreaterThanOrEqual(
      Date.parse(deadline?.kind === "approval" ? (deadline.deadline ?? "") : ""),
    );
    expect(calls.counts).toEqual({ Draft: 1, Publish: 1 });
  });

  it("rejects the step (onTimeout: reject)", async () => {
    const { status, calls } = await timedOut("reject");

    expect(status.status).toBe("completed");
    expect(logNamed(status, "Sign off").output).toMatchObject({ approved: false, by: "timeout" });
    expect(logNamed(status, "Sign off").reason).toBe("rejected on timeout after 1000 ms");
    expect(calls.counts).toEqual({ Draft: 1, Discard: 1 });
  });

  it("refuses an approval after the timeout decided, as already decided", async () => {
    const { trpc } = await newTenant();
    const { id } = await waitingRun(trpc, { timeout: 1000, onTimeout: "reject" });
    await runAlarmOf(id);
    const ended = await waitForEnd(trpc, id);

    const refused = await errorOf(approve(trpc, { executionId: id, stepName: "Sign off", approved: true }));

    expect(refused.code).toBe("CONFLICT");
    expect(refused.message).toMatch(/^step "Sign off" was already rejected by timeout at /);
    expect(await statusOf(trpc, id)).toEqual(ended);
  });
});

describe("approval refusals", () => {
  /** Expects `call` (made after the status is read) to fail with `code` and `message`, changing nothing. */
  async function refusedUnchanged(
    trpc: TestClient,
    id: string,
    call: () => Promise<unknown>,
    code: string,
    message: RegExp,
  ) {
    const before = await statusOf(trpc, id);
    const refused = await errorOf(call());
    expect([refused.code, refused.message]).toEqual([code, expect.stringMatching(message)]);
    expect(await statusOf(trpc, id)).toEqual(before);
    return refused;
  }

  it("refuses a step not started yet, an unknown step, a step that is not an approval, and another tenant", async () => {
    const { trpc } = await newTenant();
    const hold = gate<string>();
    const calls = new CallLog();
    const orchestration = await flowWith(trpc, signOff(), signOffScript(calls, hold.promise));
    const id = await startRun(trpc, orchestration.id);
    await waitForStep(trpc, id, "Draft", "running");
    const ask = (stepName: string, client = trpc) =>
      approve(client, { executionId: id, stepName, approved: true });

    await refusedUnchanged(
      trpc,
      id,
      () => ask("Sign off"),
      "PRECONDITION_FAILED",
      /^step "Sign off" has not started yet/,
    );
    const unknown = await refusedUnchanged(
      trpc,
      id,
      () => ask("Nope"),
      "BAD_REQUEST",
      /^this execution has no step named "Nope"$/,
    );
    expect(unknown.issues).toEqual([
      { path: "stepName", message: 'this execution has no step named "Nope"' },
    ]);
    await refusedUnchanged(
      trpc,
      id,
      () => ask("Draft"),
      "BAD_REQUEST",
      /^step "Draft" is an agent step, not an approval$/,
    );
    const stranger = await newTenant("stranger");
    await refusedUnchanged(trpc, id, () => ask("Sign off", stranger.trpc), "NOT_FOUND", /not found/);

    hold.open("the post");
    await waitForStep(trpc, id, "Sign off", "waiting");
    await refusedUnchanged(trpc, id, () => ask("Sign off", stranger.trpc), "NOT_FOUND", /not found/);
    await approve(trpc, { executionId: id, stepName: "Sign off", approved: true });
    expect((await waitForEnd(trpc, id)).status).toBe("completed");
  });

  it("refuses a second decision with CONFLICT, while the run goes on and after it ended", async () => {
    const { trpc } = await newTenant();
    const hold = gate<string>();
    const orchestration = await flowWith(trpc, signOff(), (input) =>
      input.step === "Draft" ? "the post" : hold.promise,
    );
    const id = await startRun(trpc, orchestration.id);
    await waitForStep(trpc, id, "Sign off", "waiting");
    await approve(trpc, { executionId: id, stepName: "Sign off", approved: true });
    await waitForStep(trpc, id, "Publish", "running");

    const again = { executionId: id, stepName: "Sign off", approved: false };
    await refusedUnchanged(
      trpc,
      id,
      () => approve(trpc, again),
      "CONFLICT",
      /^step "Sign off" was already approved by user:/,
    );
    hold.open("published");
    const ended = await waitForEnd(trpc, id);
    await refusedUnchanged(trpc, id, () => approve(trpc, again), "CONFLICT", /already approved/);
    expect(logNamed(ended, "Sign off").output).toMatchObject({ approved: true });
    expect(ended.status).toBe("completed");
  });

  it("refuses an approval of a run that was cancelled while it waited", async () => {
    const { trpc } = await newTenant();
    const { id } = await waitingRun(trpc);
    await trpc.orchestrationManagement.cancel.mutate({ executionId: id });

    await refusedUnchanged(
      trpc,
      id,
      () => approve(trpc, { executionId: id, stepName: "Sign off", approved: true }),
      "PRECONDITION_FAILED",
      /^step "Sign off" is cancelled, not waiting for approval$/,
    );
  });

  it("refuses an approval step its condition skipped", async () => {
    const { trpc } = await newTenant();
    const calls = new CallLog();
    const orchestration = await flowWith(
      trpc,
      signOff({ condition: { field: "input.review", operator: "==", value: true } }),
      signOffScript(calls),
    );
    const ended = await waitForEnd(trpc, await startRun(trpc, orchestration.id, { review: false }));
    expect(logNamed(ended, "Sign off").status).toBe("skipped");

    await refusedUnchanged(
      trpc,
      ended.id,
      () => approve(trpc, { executionId: ended.id, stepName: "Sign off", approved: true }),
      "PRECONDITION_FAILED",
      /^step "Sign off" is skipped, not waiting for approval$/,
    );
  });

  it("refuses a malformed instanceId and an unknown execution, naming the field", async () => {
    const { trpc } = await newTenant();
    const { id } = await waitingRun(trpc);

    const malformed = await refusedUnchanged(
      trpc,
      id,
      () => approve(trpc, { executionId: id, stepName: "Sign off", instanceId: "first", approved: true }),
      "BAD_REQUEST",
      /instanceId/,
    );
    expect(malformed.issues[0]?.path).toBe("instanceId");
    const missing = await errorOf(
      approve(trpc, { executionId: "exe_nope", stepName: "Sign off", approved: true }),
    );
    expect(missing.code).toBe("NOT_FOUND");
  });
});

describe("approval inside a forEach", () => {
  it("waits once per item; a decision needs the instanceId, and each item gets its own", async () => {
    const { trpc } = await newTenant();
    const orchestration = await flowWith(
      trpc,
      [
        {
          name: "Each",
          stepType: "forEach",
          items: ["alpha", "beta"],
          steps: [{ name: "Check", stepType: "approval", message: "Approve {{item}}?" }],
        },
      ],
      () => "unused",
    );
    const id = await startRun(trpc, orchestration.id);
    const waiting = await statusOf(trpc, id);
    expect(
      logsNamed(waiting, "Check").map((log) => [
        log.id,
        log.status,
        log.wait?.kind === "approval" && log.wait.message,
      ]),
    ).toEqual([
      ["0.0.0", "waiting", "Approve alpha?"],
      ["0.1.0", "waiting", "Approve beta?"],
    ]);

    const ambiguous = await errorOf(approve(trpc, { executionId: id, stepName: "Check", approved: true }));
    expect(ambiguous).toMatchObject({
      code: "BAD_REQUEST",
      message: 'step "Check" waits in 2 places (0.0.0, 0.1.0); pass instanceId',
      issues: [
        { path: "instanceId", message: 'step "Check" waits in 2 places (0.0.0, 0.1.0); pass instanceId' },
      ],
    });
    const unknown = await errorOf(
      approve(trpc, { executionId: id, stepName: "Check", instanceId: "0.7.0", approved: true }),
    );
    expect(unknown.code).toBe("PRECONDITION_FAILED");
    expect(await statusOf(trpc, id)).toEqual(waiting);

    await approve(trpc, {
      executionId: id,
      stepName: "Check",
      instanceId: "0.1.0",
      approved: false,
      comment: "no",
    });
    await approve(trpc, {
      executionId: id,
      stepName: "Check",
      instanceId: "0.0.0",
      approved: true,
      comment: "yes",
    });
    const status = await waitForEnd(trpc, id);

    expect(status.status).toBe("completed");
    expect(status.output).toEqual([
      expect.objectContaining({ approved: true, comment: "yes" }),
      expect.objectContaining({ approved: false, comment: "no" }),
    ]);
    const twice = await errorOf(
      approve(trpc, { executionId: id, stepName: "Check", instanceId: "0.1.0", approved: true }),
    );
    expect(twice.code).toBe("CONFLICT");
  });
});
